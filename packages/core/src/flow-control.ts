import { describeValue } from "./describe-value.js";
import { JobsError, JobValidationError } from "./errors.js";
import { type KnownKeys, rejectUnknownKeys } from "./reject-unknown-keys.js";

// Flow control: rate limits, groups with their own limits, and back-off from handlers. The
// types and the checks every backend shares; the rules are in docs/contract.md,
// "Flow control".

/** At most `max` jobs start in any span of `perSeconds` (an exact sliding window). */
export interface RateLimit {
  /** Starts allowed per window: an integer >= 1. */
  max: number;
  /** The window, in seconds (> 0; fractions allowed). */
  perSeconds: number;
}

/**
 * The limits of one group of jobs (`enqueue(..., { group })`): at most `concurrency` of its
 * jobs processing at once, and at most `max` starts in any `perSeconds`. Each is optional;
 * `max` and `perSeconds` go together.
 */
export interface GroupLimits {
  /** Jobs of one group processing at once: an integer >= 1. */
  concurrency?: number;
  /** Starts of one group allowed per window: an integer >= 1 (with `perSeconds`). */
  max?: number;
  /** The window of `max`, in seconds (with `max`). */
  perSeconds?: number;
}

/** Options of {@link JobQueue.setGroupLimits}. */
export interface SetGroupLimitsOptions {
  /**
   * Set (or with `null`, remove) the limits of this one group, which replace the limits of
   * every group for it. Without it, the call sets the limits of every group.
   */
  group?: string;
}

/** A queue's flow control as stored in the backend, from {@link JobQueue.getLimits}. */
export interface FlowLimits {
  /** The queue's rate limit, or `null`. */
  rateLimit: RateLimit | null;
  /** The limits of every group without an override of its own, or `null`. */
  groupLimits: GroupLimits | null;
  /** Groups with limits of their own, by group. */
  groupOverrides: Record<string, GroupLimits>;
  /**
   * Until when the whole queue is held back by a handler's
   * `RateLimitError({ scope: "queue" })`, or `null`.
   */
  heldUntil: Date | null;
}

/** Where a handler's {@link RateLimitError} applies. */
export type RateLimitScope = "job" | "group" | "queue";

/** Options of {@link JobQueue.release}. */
export interface ReleaseOptions {
  /**
   * Seconds before the job may run again (it waits delayed, its attempt not counted).
   * Without it (or 0) the job goes back to the front of its priority. @default 0
   */
  delaySeconds?: number;
  /**
   * `"group"` holds back the job's whole group, `"queue"` the whole queue, for
   * `delaySeconds`; the job itself waits at the front of its turn. @default "job"
   */
  scope?: RateLimitScope;
}

/** Options of {@link RateLimitError}. */
export interface RateLimitErrorOptions {
  /** Seconds until the job (and with `scope`, its group or queue) may run again. */
  retryAfterSeconds: number;
  /** What waits: the job (default), its group, or the whole queue. @default "job" */
  scope?: RateLimitScope;
  /** Added to the message: what said no (`"payments API answered 429"`). */
  message?: string;
}

/**
 * Thrown by a handler when a downstream said "not now" (an HTTP 429, a quota): the job
 * goes back without counting the attempt and runs again after `retryAfterSeconds`. With
 * `scope: "group"` its whole group waits that long, with `scope: "queue"` the whole queue
 * (docs/contract.md, "Flow control").
 *
 * @example
 * ```ts
 * const res = await fetch(url);
 * if (res.status === 429) {
 *   throw new RateLimitError({ retryAfterSeconds: Number(res.headers.get("retry-after") ?? 1), scope: "queue" });
 * }
 * ```
 */
export class RateLimitError extends JobsError {
  readonly retryAfterSeconds: number;
  readonly scope: RateLimitScope;

  constructor(options: RateLimitErrorOptions) {
    if (options === null || typeof options !== "object") {
      throw new JobValidationError(
        "options",
        `RateLimitError takes { retryAfterSeconds, scope? }, got ${describeValue(options)}`,
      );
    }
    rejectUnknownKeys(options, RATE_LIMIT_ERROR_OPTIONS, "options");
    const retryAfterSeconds = checkSeconds("options.retryAfterSeconds", options.retryAfterSeconds);
    const scope = validateRateLimitScope(options.scope, "options.scope");
    super(
      `rate limited: retry after ${retryAfterSeconds}s (scope ${scope})${options.message ? `: ${options.message}` : ""}`,
      { code: "ERR_RATE_LIMITED" },
    );
    this.retryAfterSeconds = retryAfterSeconds;
    this.scope = scope;
  }
}

/**
 * Whether `err` is a {@link RateLimitError}, also one from another copy of this package
 * (two installed versions): checked by its code and fields, not by `instanceof` alone.
 */
export function isRateLimitError(err: unknown): err is RateLimitError {
  if (err instanceof RateLimitError) return true;
  if (err === null || typeof err !== "object") return false;
  const e = err as { code?: unknown; retryAfterSeconds?: unknown; scope?: unknown };
  return (
    e.code === "ERR_RATE_LIMITED" &&
    typeof e.retryAfterSeconds === "number" &&
    Number.isFinite(e.retryAfterSeconds) &&
    e.retryAfterSeconds >= 0 &&
    (e.scope === "job" || e.scope === "group" || e.scope === "queue")
  );
}

// ---- checks shared by every backend -----------------------------------------------------

/**
 * The guard a rate window gets on real time (docs/contract.md, "Flow control"): with the
 * system clock a start counts for `perSeconds` plus min(100 ms, perSeconds / 10), so the
 * limit also holds between handler start times, which lag their reserve by scheduling
 * jitter; with an injected clock (tests) the window is exact.
 */
export function rateWindowGuardSeconds(perSeconds: number, realTime: boolean): number {
  return realTime ? Math.min(0.1, perSeconds / 10) : 0;
}

/** Longest group name, in characters. */
export const MAX_GROUP_LENGTH = 256;

/** Longest window of a rate limit, in seconds (a year): longer is surely a unit mistake. */
const MAX_WINDOW_SECONDS = 365 * 24 * 3600;

const RATE_LIMIT_KEYS: KnownKeys = {
  keys: ["max", "perSeconds"],
  hints: {
    limit: "max",
    count: "max",
    per: "perSeconds",
    duration: "perSeconds (in seconds)",
    window: "perSeconds",
    windowSeconds: "perSeconds",
    perMs: "perSeconds (in seconds)",
    interval: "perSeconds",
  },
  noun: "rate limit field",
};

const GROUP_LIMITS_KEYS: KnownKeys = {
  keys: ["concurrency", "max", "perSeconds"],
  hints: {
    limit: "max",
    per: "perSeconds",
    duration: "perSeconds (in seconds)",
    window: "perSeconds",
    parallel: "concurrency",
    maxConcurrency: "concurrency",
  },
  noun: "group limit",
};

const SET_GROUP_LIMITS_OPTIONS: KnownKeys = {
  keys: ["group"],
  hints: { name: "group", groupId: "group", tenant: "group", key: "group" },
  noun: "setGroupLimits option",
};

const RELEASE_OPTIONS: KnownKeys = {
  keys: ["delaySeconds", "scope"],
  hints: { delay: "delaySeconds", retryAfterSeconds: "delaySeconds", hold: "scope" },
  noun: "release option",
};

const RATE_LIMIT_ERROR_OPTIONS: KnownKeys = {
  keys: ["retryAfterSeconds", "scope", "message"],
  hints: { retryAfter: "retryAfterSeconds", delaySeconds: "retryAfterSeconds" },
  noun: "RateLimitError option",
};

function checkSeconds(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new JobValidationError(
      field,
      `${field} must be a finite number of seconds >= 0 (fractions allowed), got ${describeValue(value)}`,
    );
  }
  return value;
}

function checkWindow(field: string, value: unknown): number {
  if (
    typeof value !== "number" ||
    !Number.isFinite(value) ||
    value <= 0 ||
    value > MAX_WINDOW_SECONDS
  ) {
    throw new JobValidationError(
      field,
      `${field} must be a number of seconds > 0 and at most ${MAX_WINDOW_SECONDS} (fractions allowed), got ${describeValue(value)}`,
    );
  }
  return value;
}

function checkCount(field: string, value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 1_000_000) {
    throw new JobValidationError(
      field,
      `${field} must be an integer from 1 to 1000000 (${what}), got ${describeValue(value)}`,
    );
  }
  return value;
}

/** Checks a group name (`opts.group`): a non-empty string of at most 256 characters. */
export function validateGroup(value: unknown, field = "opts.group"): string {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_GROUP_LENGTH) {
    throw new JobValidationError(
      field,
      `${field} must be a non-empty string of at most ${MAX_GROUP_LENGTH} characters (a tenant or customer id, say), got ${describeValue(value)}`,
    );
  }
  return value;
}

/** Checks the argument of `setRateLimit`: `{ max, perSeconds }` or `null` (no limit). */
export function validateRateLimit(value: unknown, field = "limit"): RateLimit | null {
  if (value === null) return null;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new JobValidationError(
      field,
      `${field} must be { max, perSeconds } (at most max jobs start in any perSeconds) or null for no limit, got ${describeValue(value)}`,
    );
  }
  rejectUnknownKeys(value, RATE_LIMIT_KEYS, field);
  const v = value as Record<string, unknown>;
  return {
    max: checkCount(`${field}.max`, v.max, "jobs started per window"),
    perSeconds: checkWindow(`${field}.perSeconds`, v.perSeconds),
  };
}

/** Checks the limits of `setGroupLimits`: `{ concurrency?, max?, perSeconds? }` or `null`. */
export function validateGroupLimits(value: unknown, field = "limits"): GroupLimits | null {
  if (value === null) return null;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new JobValidationError(
      field,
      `${field} must be { concurrency?, max?, perSeconds? } or null for no limits, got ${describeValue(value)}`,
    );
  }
  rejectUnknownKeys(value, GROUP_LIMITS_KEYS, field);
  const v = value as Record<string, unknown>;
  const out: GroupLimits = {};
  if (v.concurrency !== undefined) {
    out.concurrency = checkCount(
      `${field}.concurrency`,
      v.concurrency,
      "jobs of one group at once",
    );
  }
  if ((v.max === undefined) !== (v.perSeconds === undefined)) {
    const missing = v.max === undefined ? "max" : "perSeconds";
    throw new JobValidationError(
      `${field}.${missing}`,
      `${field}.max and ${field}.perSeconds go together (at most max starts of a group in any perSeconds): give ${field}.${missing} too, or neither`,
    );
  }
  if (v.max !== undefined) {
    out.max = checkCount(`${field}.max`, v.max, "starts of one group per window");
    out.perSeconds = checkWindow(`${field}.perSeconds`, v.perSeconds);
  }
  if (out.concurrency === undefined && out.max === undefined) {
    throw new JobValidationError(
      field,
      `${field} sets no limit: give concurrency, or max with perSeconds, or pass null to remove the limits`,
    );
  }
  return out;
}

/** Checks the options of `setGroupLimits`; returns the group, or `null` for every group. */
export function validateSetGroupLimitsOptions(opts: unknown): string | null {
  if (opts === undefined || opts === null) return null;
  if (typeof opts !== "object" || Array.isArray(opts)) {
    throw new JobValidationError(
      "opts",
      `setGroupLimits options must be { group? }, got ${describeValue(opts)}`,
    );
  }
  rejectUnknownKeys(opts, SET_GROUP_LIMITS_OPTIONS, "opts");
  const group = (opts as { group?: unknown }).group;
  return group === undefined ? null : validateGroup(group, "opts.group");
}

/** Checks a {@link RateLimitScope}. */
export function validateRateLimitScope(value: unknown, field = "opts.scope"): RateLimitScope {
  if (value === undefined) return "job";
  if (value === "job" || value === "group" || value === "queue") return value;
  throw new JobValidationError(
    field,
    `${field} must be "job", "group" or "queue" (what waits), got ${describeValue(value)}`,
  );
}

/** {@link ReleaseOptions} checked, with the defaults filled in. */
export interface ResolvedReleaseOptions {
  delaySeconds: number;
  scope: RateLimitScope;
}

/** Checks the options of `release`. */
export function validateReleaseOptions(opts: unknown): ResolvedReleaseOptions {
  if (opts === undefined || opts === null) return { delaySeconds: 0, scope: "job" };
  if (typeof opts !== "object" || Array.isArray(opts)) {
    throw new JobValidationError(
      "opts",
      `release options must be { delaySeconds?, scope? }, got ${describeValue(opts)}`,
    );
  }
  rejectUnknownKeys(opts, RELEASE_OPTIONS, "opts");
  const o = opts as Record<string, unknown>;
  return {
    delaySeconds:
      o.delaySeconds === undefined ? 0 : checkSeconds("opts.delaySeconds", o.delaySeconds),
    scope: validateRateLimitScope(o.scope, "opts.scope"),
  };
}
