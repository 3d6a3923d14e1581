import { JobValidationError } from "./errors.js";
import { type KnownKeys, rejectUnknownKeys } from "./reject-unknown-keys.js";

/**
 * How long a failed job waits before its next attempt.
 *
 * Strategies are plain data, not functions, so every backend (including the Redis
 * Lua scripts) applies exactly the same formula.
 */
export type RetryStrategy = LinearRetryStrategy | ExponentialRetryStrategy;

/** `backoffSeconds * attempts`: 60, 120, 180, 240 s with the defaults. The default strategy. */
export interface LinearRetryStrategy {
  kind: "linear";
}

/** `min(maxSeconds, backoffSeconds * factor^(attempts - 1))`, less a random share of `jitter`. */
export interface ExponentialRetryStrategy {
  kind: "exponential";
  /** Growth per attempt. @default 2 */
  factor?: number;
  /** Cap on the delay, in seconds. @default 3600 */
  maxSeconds?: number;
  /**
   * Share of the delay that is randomised away, 0 to 1: the delay is
   * `d * (1 - jitter * random)`. 0 disables jitter, 1 is "full jitter".
   * @default 0.2
   */
  jitter?: number;
}

const EXPONENTIAL_HINTS = {
  base: "factor",
  multiplier: "factor",
  max: "maxSeconds",
  cap: "maxSeconds",
};
/** The options of {@link exponentialRetry}. */
const EXPONENTIAL_OPTIONS: KnownKeys = {
  keys: ["factor", "maxSeconds", "jitter"],
  hints: EXPONENTIAL_HINTS,
  noun: "exponentialRetry option",
};
/** The keys of an {@link ExponentialRetryStrategy}. */
const EXPONENTIAL_KEYS: KnownKeys = {
  keys: ["kind", "factor", "maxSeconds", "jitter"],
  hints: EXPONENTIAL_HINTS,
  noun: "retry strategy key",
};
/** The keys of a {@link LinearRetryStrategy}. */
const LINEAR_KEYS: KnownKeys = { keys: ["kind"], noun: "retry strategy key" };

/** The documented linear schedule (the default). */
export const linearRetry: LinearRetryStrategy = Object.freeze({ kind: "linear" });

/**
 * An exponential schedule with a cap and jitter, for calls to flaky external services.
 *
 * @example
 * ```ts
 * new InMemoryJobQueue({ retry: exponentialRetry({ factor: 2, maxSeconds: 600 }) });
 * ```
 */
export function exponentialRetry(
  opts: Omit<ExponentialRetryStrategy, "kind"> = {},
): ExponentialRetryStrategy {
  if (opts !== null && typeof opts === "object") {
    rejectUnknownKeys(opts, EXPONENTIAL_OPTIONS, "retry");
  }
  const s: ExponentialRetryStrategy = { kind: "exponential", ...opts };
  validateRetryStrategy(s);
  return s;
}

/**
 * Throws `JobValidationError` (`field`: `retry`, `retry.factor`, `retry.maxSeconds` or
 * `retry.jitter`) when a strategy is unknown or its parameters are out of range.
 */
export function validateRetryStrategy(s: RetryStrategy): void {
  if (s === null || typeof s !== "object") {
    throw new JobValidationError(
      "retry",
      `retry must be a retry strategy, got ${s === null ? "null" : typeof s}: use linearRetry or exponentialRetry()`,
    );
  }
  if (s.kind === "linear") {
    rejectUnknownKeys(s, LINEAR_KEYS, "retry");
    return;
  }
  if (s.kind !== "exponential") {
    throw new JobValidationError(
      "retry",
      `unknown retry strategy kind ${JSON.stringify((s as { kind: unknown }).kind)}: use linearRetry or exponentialRetry()`,
    );
  }
  rejectUnknownKeys(s, EXPONENTIAL_KEYS, "retry");
  const { factor = 2, maxSeconds = 3600, jitter = 0.2 } = s;
  if (typeof factor !== "number" || !Number.isFinite(factor) || factor < 1) {
    throw new JobValidationError(
      "retry.factor",
      `exponentialRetry: factor must be a finite number >= 1 (the delay's growth per attempt), got ${String(factor)}`,
    );
  }
  if (typeof maxSeconds !== "number" || !Number.isFinite(maxSeconds) || maxSeconds < 0) {
    throw new JobValidationError(
      "retry.maxSeconds",
      `exponentialRetry: maxSeconds must be a finite number of seconds >= 0 (the cap on the delay), got ${String(maxSeconds)}`,
    );
  }
  if (typeof jitter !== "number" || !Number.isFinite(jitter) || jitter < 0 || jitter > 1) {
    throw new JobValidationError(
      "retry.jitter",
      `exponentialRetry: jitter must be a number between 0 and 1 (the share of the delay randomised away; 0 disables it), got ${String(jitter)}`,
    );
  }
}

/**
 * Delay in seconds before the next attempt of a job whose attempt number `attempts`
 * just failed.
 *
 * @param random a number in [0, 1), used only for jitter
 */
export function retryDelaySeconds(
  strategy: RetryStrategy,
  attempts: number,
  backoffSeconds: number,
  random: number = Math.random(),
): number {
  const n = Math.max(1, attempts);
  if (strategy.kind === "linear") return backoffSeconds * n;
  const { factor = 2, maxSeconds = 3600, jitter = 0.2 } = strategy;
  const raw = Math.min(maxSeconds, backoffSeconds * factor ** (n - 1));
  return raw * (1 - jitter * random);
}
