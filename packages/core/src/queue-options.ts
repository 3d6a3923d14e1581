import { type Clock, systemClock } from "./clock.js";
import { DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_VISIBILITY_TIMEOUT_SECONDS } from "./job.js";
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

/**
 * Validates {@link QueueOptions} and fills in the defaults, so every backend accepts
 * and rejects the same options with the same errors.
 */
export function resolveQueueOptions(options: QueueOptions): Required<QueueOptions> {
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
