import { ConfigError, JobValidationError } from "./errors.js";
import { validateSeconds } from "./validate.js";

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

/**
 * The timeout a worker applies to a handler, in seconds (`undefined`: none). The first
 * that is set wins:
 *
 * 1. `explicit`: the worker's own `timeoutSeconds` (`svc-jobs run --timeout`);
 * 2. the handler's `timeoutSeconds` property, e.g. from
 *    `registry.asHandler({ timeoutSeconds })` (`Infinity` there means no timeout);
 * 3. `JOB_DEFAULT_TIMEOUT_SECONDS` in `env`.
 *
 * `WorkerRunner` and `processOne` use it; they are the only ones that time a job out
 * when it runs in a worker.
 *
 * @example
 * ```ts
 * resolveTimeoutSeconds(undefined, registry.asHandler({ timeoutSeconds: 60 })); // 60
 * resolveTimeoutSeconds(600, registry.asHandler({ timeoutSeconds: 60 })); // 600
 * ```
 */
export function resolveTimeoutSeconds(
  explicit: number | undefined,
  handler?: object,
  env: NodeJS.ProcessEnv = process.env,
): number | undefined {
  if (explicit !== undefined) return validateSeconds("timeoutSeconds", explicit, 0.001);
  const declared = (handler as { readonly timeoutSeconds?: unknown } | undefined)?.timeoutSeconds;
  if (declared !== undefined) {
    if (declared === Number.POSITIVE_INFINITY) return undefined;
    if (typeof declared !== "number" || !Number.isFinite(declared) || declared < 0.001) {
      throw new JobValidationError(
        "handler.timeoutSeconds",
        `the handler's timeoutSeconds must be a number of seconds >= 0.001 or Infinity (no timeout), got ${typeof declared === "number" ? declared : typeof declared}`,
      );
    }
    return declared;
  }
  return defaultTimeoutSeconds(env);
}
