import { ConfigError } from "@svc-jobs/core";
import type { RedisOptions } from "ioredis";

/** The Redis URL used when `REDIS_URL` is unset (the guide's default). */
export const DEFAULT_REDIS_URL = "redis://localhost:6379/0";

/**
 * Checks a Redis URL and turns it into ioredis options. Accepts `redis://`,
 * `rediss://` (TLS) and `unix:///path/to/redis.sock?db=0`; anything else is a
 * `ConfigError` that says what to write instead.
 *
 * @example
 * ```ts
 * const client = new Redis(redisOptionsFromUrl("redis://localhost:6379/0"));
 * ```
 */
export function redisOptionsFromUrl(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new ConfigError(
      `REDIS_URL ${JSON.stringify(redactUrl(url))} is not a URL: use redis://host:6379/0, rediss://host:6380/0 or unix:///path/to/redis.sock`,
      { cause },
    );
  }
  const dbText =
    parsed.protocol === "unix:" ? parsed.searchParams.get("db") : parsed.pathname.slice(1);
  let db = 0;
  if (dbText !== null && dbText !== "") {
    db = Number(dbText);
    if (!Number.isInteger(db) || db < 0) {
      throw new ConfigError(
        `REDIS_URL ${JSON.stringify(redactUrl(url))} names database ${JSON.stringify(dbText)}: the database must be a number, e.g. redis://host:6379/0`,
      );
    }
  }
  const auth: RedisOptions = {};
  if (parsed.username) auth.username = decodeURIComponent(parsed.username);
  if (parsed.password) auth.password = decodeURIComponent(parsed.password);
  switch (parsed.protocol) {
    case "redis:":
    case "rediss:": {
      if (!parsed.hostname) {
        throw new ConfigError(
          `REDIS_URL ${JSON.stringify(redactUrl(url))} has no host: use redis://host:6379/0`,
        );
      }
      const options: RedisOptions = {
        ...auth,
        host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: parsed.port ? Number(parsed.port) : 6379,
        db,
      };
      if (parsed.protocol === "rediss:") options.tls = { servername: parsed.hostname };
      return options;
    }
    case "unix:": {
      if (!parsed.pathname || parsed.pathname === "/") {
        throw new ConfigError(
          `REDIS_URL ${JSON.stringify(redactUrl(url))} has no socket path: use unix:///path/to/redis.sock`,
        );
      }
      return { ...auth, path: decodeURIComponent(parsed.pathname), db };
    }
    default:
      throw new ConfigError(
        `REDIS_URL ${JSON.stringify(redactUrl(url))} uses the scheme "${parsed.protocol.replace(/:$/, "")}": svc-jobs speaks redis://, rediss:// (TLS) or unix:// only`,
      );
  }
}

/** The URL with any password replaced by `***`, safe to print and log. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
  }
}

/**
 * Reads `REDIS_CLUSTER_NODES`: comma-separated `host:port` or `redis://host:port`
 * seeds of a Redis Cluster. Empty or unset gives `undefined` (a single server).
 *
 * @example
 * ```ts
 * parseClusterNodes("10.0.0.1:6379,10.0.0.2:6379"); // [{ host: "10.0.0.1", port: 6379 }, ...]
 * ```
 */
export function parseClusterNodes(
  text: string | undefined,
): { host: string; port: number }[] | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  return text.split(",").map((raw) => {
    const item = raw.trim();
    const withScheme = /^[a-z]+:\/\//i.test(item) ? item : `redis://${item}`;
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch (cause) {
      throw new ConfigError(
        `REDIS_CLUSTER_NODES entry ${JSON.stringify(item)} is not host:port: use e.g. 10.0.0.1:6379,10.0.0.2:6379`,
        { cause },
      );
    }
    if (!/^rediss?:$/.test(url.protocol) || !url.hostname) {
      throw new ConfigError(
        `REDIS_CLUSTER_NODES entry ${JSON.stringify(item)} is not host:port: use e.g. 10.0.0.1:6379,10.0.0.2:6379`,
      );
    }
    return {
      host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: url.port ? Number(url.port) : 6379,
    };
  });
}
