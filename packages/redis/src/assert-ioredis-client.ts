import { ConfigError } from "@svc-jobs/core";
import type { DefinesCommands } from "./scripts.js";

/**
 * Internal: throws a `ConfigError` unless `client` can run the package's Lua scripts
 * (ioredis `defineCommand`), saying what was passed and what `owner` expects instead.
 * A wrong client is configuration, like any other constructor argument of the package.
 */
export function assertIoredisClient(
  client: unknown,
  owner: string,
): asserts client is DefinesCommands {
  if (
    client !== null &&
    typeof client === "object" &&
    typeof (client as { defineCommand?: unknown }).defineCommand === "function"
  ) {
    return;
  }
  // A string is most likely a URL: never echo it, it may hold a password.
  const hint = typeof client === "string" ? ": to connect to a URL, pass new Redis(url)" : "";
  throw new ConfigError(
    `${owner} needs an ioredis client as its first argument (new Redis(url) or new Cluster(nodes) of ioredis 5 or 6, or an ioredis-mock instance), got ${describe(client)}${hint}`,
  );
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "string") return "a string";
  if (typeof value === "function") return "a function";
  if (typeof value !== "object") return `${String(value)} (a ${typeof value})`;
  if (Array.isArray(value)) return "an array";
  const name = (value as object).constructor?.name;
  return `${name && name !== "Object" ? `a ${name}` : "an object"} without a defineCommand method`;
}
