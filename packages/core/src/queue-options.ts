import { type Clock, systemClock } from "./clock.js";
import { DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_VISIBILITY_TIMEOUT_SECONDS } from "./job.js";
import { type KnownKeys, rejectUnknownKeys } from "./reject-unknown-keys.js";
import { linearRetry, type RetryStrategy, validateRetryStrategy } from "./retry.js";
import { validateInteger, validateSeconds } from "./validate.js";

/** The options every queue backend takes. */
export interface QueueOptions {
  /** Seconds a reserved job stays hidden before it is handed out again. @default 60 */
  visibilityTimeoutSeconds?: number;
  /** Source of time (epoch ms). @default systemClock */
  clock?: Clock;
  /** Retry schedule. @default linearRetry (`backoffSeconds * attempts`) */
  retry?: RetryStrategy;
  /** Largest payload accepted, as JSON bytes; larger ones get `PayloadTooLargeError`. @default 1 MiB */
  maxPayloadBytes?: number;
}

/** The keys of {@link QueueOptions}. */
export const QUEUE_OPTION_KEYS: readonly string[] = Object.freeze([
  "visibilityTimeoutSeconds",
  "clock",
  "retry",
  "maxPayloadBytes",
]);

const QUEUE_OPTION_HINTS: Readonly<Record<string, string>> = {
  visibilityTimeout: "visibilityTimeoutSeconds",
  visibilityTimeoutMs: "visibilityTimeoutSeconds (in seconds)",
  maxPayloadSize: "maxPayloadBytes",
  retryStrategy: "retry",
};

/**
 * Validates {@link QueueOptions} and fills in the defaults, so every backend accepts
 * and rejects the same options with the same errors. A key that is neither a
 * {@link QueueOptions} key nor one of `ownKeys` (the backend's own options) is a
 * `JobValidationError` on `options.<key>`, naming what was probably meant.
 *
 * @param ownKeys the options a backend takes besides {@link QueueOptions}
 */
export function resolveQueueOptions(
  options: QueueOptions,
  ownKeys: readonly string[] = [],
): Required<QueueOptions> {
  const known: KnownKeys = {
    keys: [...QUEUE_OPTION_KEYS, ...ownKeys],
    hints: QUEUE_OPTION_HINTS,
  };
  rejectUnknownKeys(options, known, "options");
  const retry = options.retry ?? linearRetry;
  validateRetryStrategy(retry);
  return {
    visibilityTimeoutSeconds: validateSeconds(
      "visibilityTimeoutSeconds",
      options.visibilityTimeoutSeconds ?? DEFAULT_VISIBILITY_TIMEOUT_SECONDS,
      0.001,
    ),
    clock: options.clock ?? systemClock,
    retry,
    maxPayloadBytes: validateInteger(
      "maxPayloadBytes",
      options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
      1,
    ),
  };
}
