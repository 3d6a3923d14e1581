import { type Clock, systemClock } from "./clock.js";
import type { RetentionOption } from "./control.js";
import { describeValue } from "./describe-value.js";
import { JobValidationError } from "./errors.js";
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
  /**
   * Keep completed jobs, with their `result` and `finishedAt`: `false` (the default:
   * an acked job is deleted), `true`, or `{ count?, ageSeconds? }` (the newest `count`,
   * none older than `ageSeconds`). Trimming costs O(log n) per job.
   * @default false
   */
  keepCompleted?: RetentionOption;
  /** Keep cancelled jobs, as {@link keepCompleted} keeps completed ones. @default false */
  keepCancelled?: RetentionOption;
  /**
   * The event stream of `events()`: `true` records every job's events (a capped stream
   * in the backend, the newest `maxLen` kept), `false` records none.
   * @default true (maxLen 10,000)
   */
  events?: boolean | { maxLen?: number };
}

/** The retention a queue resolved: `null` keeps none; otherwise the limits (Infinity: none). */
export interface ResolvedRetention {
  count: number;
  ageSeconds: number;
}

/** Events resolved: `null` records none. */
export interface ResolvedEvents {
  maxLen: number;
}

/** Default length of a queue's event stream. */
export const DEFAULT_EVENTS_MAX_LEN = 10_000;

/** The keys of {@link QueueOptions}. */
export const QUEUE_OPTION_KEYS: readonly string[] = Object.freeze([
  "visibilityTimeoutSeconds",
  "clock",
  "retry",
  "maxPayloadBytes",
  "keepCompleted",
  "keepCancelled",
  "events",
]);

const QUEUE_OPTION_HINTS: Readonly<Record<string, string>> = {
  visibilityTimeout: "visibilityTimeoutSeconds",
  visibilityTimeoutMs: "visibilityTimeoutSeconds (in seconds)",
  maxPayloadSize: "maxPayloadBytes",
  retryStrategy: "retry",
  removeOnComplete: "keepCompleted (its opposite: keepCompleted: false removes)",
  keepFinished: "keepCompleted and keepCancelled",
  retainCompleted: "keepCompleted",
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
): ResolvedQueueOptions {
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
    keepCompleted: resolveRetention("keepCompleted", options.keepCompleted),
    keepCancelled: resolveRetention("keepCancelled", options.keepCancelled),
    events: resolveEvents(options.events),
  };
}

/** {@link QueueOptions} checked, with the defaults filled in. */
export interface ResolvedQueueOptions {
  visibilityTimeoutSeconds: number;
  clock: Clock;
  retry: RetryStrategy;
  maxPayloadBytes: number;
  keepCompleted: ResolvedRetention | null;
  keepCancelled: ResolvedRetention | null;
  events: ResolvedEvents | null;
}

const RETENTION_KEYS: KnownKeys = {
  keys: ["count", "ageSeconds"],
  hints: { age: "ageSeconds", maxAge: "ageSeconds", max: "count", limit: "count" },
};

function resolveRetention(
  field: string,
  value: RetentionOption | undefined,
): ResolvedRetention | null {
  if (value === undefined || value === false) return null;
  if (value === true)
    return { count: Number.POSITIVE_INFINITY, ageSeconds: Number.POSITIVE_INFINITY };
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new JobValidationError(
      field,
      `${field} must be false, true or { count?, ageSeconds? }, got ${describeValue(value)}`,
    );
  }
  rejectUnknownKeys(value, RETENTION_KEYS, field);
  return {
    count:
      value.count === undefined
        ? Number.POSITIVE_INFINITY
        : validateInteger(`${field}.count`, value.count, 1),
    ageSeconds:
      value.ageSeconds === undefined
        ? Number.POSITIVE_INFINITY
        : validateSeconds(`${field}.ageSeconds`, value.ageSeconds, 0.001),
  };
}

const EVENTS_KEYS: KnownKeys = { keys: ["maxLen"], hints: { maxLength: "maxLen", max: "maxLen" } };

function resolveEvents(value: QueueOptions["events"]): ResolvedEvents | null {
  if (value === false) return null;
  if (value === undefined || value === true) return { maxLen: DEFAULT_EVENTS_MAX_LEN };
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new JobValidationError(
      "events",
      `events must be true, false or { maxLen }, got ${describeValue(value)}`,
    );
  }
  rejectUnknownKeys(value, EVENTS_KEYS, "events");
  return {
    maxLen:
      value.maxLen === undefined
        ? DEFAULT_EVENTS_MAX_LEN
        : validateInteger("events.maxLen", value.maxLen, 1),
  };
}
