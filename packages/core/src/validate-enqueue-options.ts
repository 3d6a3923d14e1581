import { describeValue } from "./describe-value.js";
import { JobValidationError } from "./errors.js";
import { validateGroup } from "./flow-control.js";
import { DEFAULT_BACKOFF_SECONDS, DEFAULT_MAX_ATTEMPTS } from "./job.js";
import type { EnqueueOptions } from "./job-queue.js";
import { type JobTraceContext, validateTraceContext } from "./job-trace-context.js";
import { type KnownKeys, rejectUnknownKeys } from "./reject-unknown-keys.js";
import { validateInteger, validateSeconds } from "./validate.js";

/** {@link EnqueueOptions} checked, with every default filled in. */
export interface ResolvedEnqueueOptions {
  delaySeconds: number;
  maxAttempts: number;
  backoffSeconds: number;
  dedupeKey: string | null;
  priority: number;
  /** The job's group, or `null`. */
  group: string | null;
  /**
   * The trace context to record on the job: the one given in the options, else (set by
   * `traceEnqueue`) the producer span's; `undefined` for none.
   */
  traceContext?: JobTraceContext;
}

/** The largest magnitude of a priority: priorities are integers from -MAX_PRIORITY to MAX_PRIORITY. */
export const MAX_PRIORITY = 2 ** 31 - 1;

/** Longest `dedupeKey`, in characters. */
const MAX_DEDUPE_KEY_LENGTH = 1024;

/** What an enqueue without options gets: the one place the defaults of a job's options live. */
const DEFAULTS: Readonly<ResolvedEnqueueOptions> = Object.freeze({
  delaySeconds: 0,
  maxAttempts: DEFAULT_MAX_ATTEMPTS,
  backoffSeconds: DEFAULT_BACKOFF_SECONDS,
  dedupeKey: null,
  priority: 0,
  group: null,
});

const OPTION_KEYS: KnownKeys = {
  keys: [
    "delaySeconds",
    "maxAttempts",
    "backoffSeconds",
    "dedupeKey",
    "priority",
    "group",
    "traceContext",
  ],
  hints: {
    delay: "delaySeconds",
    delayMs: "delaySeconds (in seconds)",
    attempts: "maxAttempts",
    backoff: "backoffSeconds",
    dedupe: "dedupeKey",
    jobId: "dedupeKey",
    prio: "priority",
    groupId: "group",
    groupKey: "group",
    tenant: "group",
    partition: "group",
    traceparent: "traceContext",
    trace: "traceContext",
  },
  noun: "enqueue option",
};

/**
 * Checks an enqueue options object and fills in the defaults (no delay, 5 attempts,
 * 60 s backoff, no dedupe key, priority 0, no group). `undefined` and `null` mean no options. Throws a
 * `JobValidationError` on `field` (`opts.delaySeconds`, ...) for a bad value or an
 * unknown key.
 *
 * @example
 * ```ts
 * validateEnqueueOptions({ maxAttempts: 3 });
 * // { delaySeconds: 0, maxAttempts: 3, backoffSeconds: 60, dedupeKey: null, priority: 0, group: null }
 * ```
 */
export function validateEnqueueOptions(
  opts: EnqueueOptions | null | undefined,
  field = "opts",
): ResolvedEnqueueOptions {
  if (opts === undefined || opts === null) return { ...DEFAULTS };
  if (typeof opts !== "object" || Array.isArray(opts)) {
    throw new JobValidationError(field, `${field} must be an object, got ${describeValue(opts)}`);
  }
  rejectUnknownKeys(opts, OPTION_KEYS, field);
  const { delaySeconds, maxAttempts, backoffSeconds, dedupeKey, priority, group, traceContext } =
    opts;
  return {
    delaySeconds:
      delaySeconds === undefined
        ? DEFAULTS.delaySeconds
        : validateSeconds(`${field}.delaySeconds`, delaySeconds),
    maxAttempts:
      maxAttempts === undefined
        ? DEFAULTS.maxAttempts
        : validateInteger(`${field}.maxAttempts`, maxAttempts, 1),
    backoffSeconds:
      backoffSeconds === undefined
        ? DEFAULTS.backoffSeconds
        : validateSeconds(`${field}.backoffSeconds`, backoffSeconds),
    dedupeKey:
      dedupeKey === undefined || dedupeKey === null
        ? DEFAULTS.dedupeKey
        : validateDedupeKey(`${field}.dedupeKey`, dedupeKey),
    priority:
      priority === undefined ? DEFAULTS.priority : validatePriority(`${field}.priority`, priority),
    group:
      group === undefined || group === null
        ? DEFAULTS.group
        : validateGroup(group, `${field}.group`),
    traceContext:
      traceContext === undefined || traceContext === null
        ? undefined
        : validateTraceContext(traceContext, `${field}.traceContext`),
  };
}

function validatePriority(field: string, value: unknown): number {
  if (
    typeof value !== "number" ||
    !Number.isInteger(value) ||
    value > MAX_PRIORITY ||
    value < -MAX_PRIORITY
  ) {
    throw new JobValidationError(
      field,
      `${field} must be an integer from -${MAX_PRIORITY} to ${MAX_PRIORITY} (higher runs first; 0 is the default), got ${describeValue(value)}`,
    );
  }
  return value === 0 ? 0 : value; // -0 is 0
}

function validateDedupeKey(field: string, key: unknown): string {
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_DEDUPE_KEY_LENGTH) {
    throw new JobValidationError(
      field,
      `${field} must be a non-empty string of at most ${MAX_DEDUPE_KEY_LENGTH} characters, got ${describeValue(key)}`,
    );
  }
  return key;
}
