import { ConfigError } from "./errors.js";

/** The environment variable that sets the default handler timeout, in seconds. */
export const JOB_DEFAULT_TIMEOUT_ENV = "JOB_DEFAULT_TIMEOUT_SECONDS";

/**
 * The handler timeout from `JOB_DEFAULT_TIMEOUT_SECONDS`, or `undefined` when it is
 * unset or empty. Throws `ConfigError` when it is set to something other than a
 * positive number.
 */
export function defaultTimeoutSeconds(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env[JOB_DEFAULT_TIMEOUT_ENV];
  if (raw === undefined || raw.trim() === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigError(
      `${JOB_DEFAULT_TIMEOUT_ENV} must be a positive number of seconds, got ${JSON.stringify(raw)}: set it to e.g. 300, or unset it for no timeout`,
    );
  }
  return value;
}
