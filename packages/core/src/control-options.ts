import { JOB_STATES, type JobState } from "./control.js";
import { describeValue } from "./describe-value.js";
import { JobValidationError } from "./errors.js";
import type { JsonValue } from "./json.js";
import { type KnownKeys, rejectUnknownKeys } from "./reject-unknown-keys.js";
import { validateJobName } from "./validate.js";

// Checks of the options of the "Seeing and controlling jobs" calls (docs/contract.md),
// shared by every backend so each refuses the same input with the same error.

/** Largest `limit` of one `listJobs` page. */
export const MAX_LIST_LIMIT = 1000;
/** `limit` of a `listJobs` page when none is given. */
export const DEFAULT_LIST_LIMIT = 50;

const LIST_JOBS_OPTIONS: KnownKeys = {
  keys: ["state", "name", "limit", "cursor"],
  hints: {
    status: "state",
    queue: "state",
    offset: "cursor",
    skip: "cursor",
    after: "cursor",
    next: "cursor",
    pageSize: "limit",
    count: "limit",
    max: "limit",
    jobName: "name",
    type: "name",
  },
  noun: "listJobs option",
};

const ACK_OPTIONS: KnownKeys = {
  keys: ["result"],
  hints: { value: "result", returnValue: "result", output: "result", data: "result" },
  noun: "ack option",
};

const CANCEL_OPTIONS: KnownKeys = {
  keys: ["reason"],
  hints: { message: "reason", why: "reason", error: "reason" },
  noun: "cancel option",
};

const EVENTS_OPTIONS: KnownKeys = {
  keys: ["signal", "after"],
  hints: { from: "after", since: "after", lastId: "after", cursor: "after", abort: "signal" },
  noun: "events option",
};

/** `listJobs` options checked, with the defaults filled in. */
export interface ResolvedListJobsOptions {
  state: JobState;
  name: string | null;
  limit: number;
  cursor: string | null;
}

/** Checks a job state (`opts.state`, `state`); the error lists the valid states. */
export function validateJobState(value: unknown, field = "state"): JobState {
  if (typeof value === "string" && (JOB_STATES as readonly string[]).includes(value)) {
    return value as JobState;
  }
  throw new JobValidationError(
    field,
    `${field} must be one of ${JOB_STATES.join(", ")}, got ${describeValue(value)}`,
  );
}

/** Checks the options of `listJobs` (docs/contract.md, "Listing") and fills in `limit`. */
export function validateListJobsOptions(opts: unknown): ResolvedListJobsOptions {
  if (opts === null || typeof opts !== "object" || Array.isArray(opts)) {
    throw new JobValidationError(
      "opts",
      `listJobs takes { state, name?, limit?, cursor? }, got ${describeValue(opts)}`,
    );
  }
  rejectUnknownKeys(opts, LIST_JOBS_OPTIONS, "opts");
  const o = opts as Record<string, unknown>;
  const state = validateJobState(o.state, "opts.state");
  const name =
    o.name === undefined || o.name === null ? null : validateJobName(o.name, "opts.name");
  let limit = DEFAULT_LIST_LIMIT;
  if (o.limit !== undefined) {
    if (
      typeof o.limit !== "number" ||
      !Number.isInteger(o.limit) ||
      o.limit < 1 ||
      o.limit > MAX_LIST_LIMIT
    ) {
      throw new JobValidationError(
        "opts.limit",
        `opts.limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${describeValue(o.limit)}`,
      );
    }
    limit = o.limit;
  }
  let cursor: string | null = null;
  if (o.cursor !== undefined && o.cursor !== null) {
    if (typeof o.cursor !== "string" || o.cursor === "") {
      throw invalidCursor(o.cursor);
    }
    cursor = o.cursor;
  }
  return { state, name, limit, cursor };
}

/** The error of a `cursor` that no `listJobs` page of this state returned. */
export function invalidCursor(cursor: unknown, state?: JobState): JobValidationError {
  return new JobValidationError(
    "opts.cursor",
    `opts.cursor is not a cursor of a listJobs page${state ? ` of state "${state}"` : ""}, got ${describeValue(cursor)}: pass the cursor of the previous page unchanged (with the same state), or null for the first page`,
  );
}

/**
 * A `listJobs` cursor: the state and the sort key of the last job of a page, as an
 * opaque string. {@link decodeCursor} reads it back.
 */
export function encodeCursor(state: JobState, key: readonly (number | string)[]): string {
  return Buffer.from(JSON.stringify([state, ...key]), "utf8").toString("base64url");
}

/**
 * The sort key a cursor of {@link encodeCursor} holds; a `JobValidationError` on
 * `opts.cursor` when it is not a cursor of `state` with `arity` numbers.
 */
export function decodeCursor(cursor: string, state: JobState, arity: number): number[] {
  return decodeCursorOf(cursor, state, new Array<"number">(arity).fill("number")) as number[];
}

/**
 * Like {@link decodeCursor}, for a sort key of strings and numbers: `kinds` gives the type
 * of each part.
 */
export function decodeCursorOf(
  cursor: string,
  state: JobState,
  kinds: readonly ("number" | "string")[],
): (number | string)[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalidCursor(cursor, state);
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== kinds.length + 1 ||
    parsed[0] !== state ||
    !parsed
      .slice(1)
      .every((part, i) =>
        kinds[i] === "string"
          ? typeof part === "string"
          : typeof part === "number" && Number.isFinite(part),
      )
  ) {
    throw invalidCursor(cursor, state);
  }
  return parsed.slice(1) as (number | string)[];
}

/** Checks the options of `ack`; returns the result to keep (`null` when none). */
export function validateAckOptions(opts: unknown): JsonValue {
  if (opts === undefined || opts === null) return null;
  if (typeof opts !== "object" || Array.isArray(opts)) {
    throw new JobValidationError(
      "opts",
      `ack options must be { result? }, got ${describeValue(opts)}`,
    );
  }
  rejectUnknownKeys(opts, ACK_OPTIONS, "opts");
  const { result } = opts as { result?: unknown };
  if (result === undefined) return null;
  return validateJsonValue(result, "opts.result");
}

/** Checks the options of `cancel`; returns the reason (`null` when none). */
export function validateCancelOptions(opts: unknown): string | null {
  if (opts === undefined || opts === null) return null;
  if (typeof opts !== "object" || Array.isArray(opts)) {
    throw new JobValidationError(
      "opts",
      `cancel options must be { reason? }, got ${describeValue(opts)}`,
    );
  }
  rejectUnknownKeys(opts, CANCEL_OPTIONS, "opts");
  const { reason } = opts as { reason?: unknown };
  if (reason === undefined || reason === null) return null;
  if (typeof reason !== "string") {
    throw new JobValidationError(
      "opts.reason",
      `opts.reason must be a string, got ${describeValue(reason)}`,
    );
  }
  return reason;
}

/** Checks the options of `events`. */
export function validateEventsOptions(opts: unknown): {
  signal: AbortSignal | undefined;
  after: string | null;
} {
  if (opts === undefined || opts === null) return { signal: undefined, after: null };
  if (typeof opts !== "object" || Array.isArray(opts)) {
    throw new JobValidationError(
      "opts",
      `events options must be { signal?, after? }, got ${describeValue(opts)}`,
    );
  }
  rejectUnknownKeys(opts, EVENTS_OPTIONS, "opts");
  const { signal, after } = opts as { signal?: unknown; after?: unknown };
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new JobValidationError(
      "opts.signal",
      `opts.signal must be an AbortSignal, got ${describeValue(signal)}`,
    );
  }
  if (after !== undefined && after !== null && (typeof after !== "string" || after === "")) {
    throw new JobValidationError(
      "opts.after",
      `opts.after must be the id of an event (a string), got ${describeValue(after)}`,
    );
  }
  return {
    signal: signal as AbortSignal | undefined,
    after: (after as string | undefined) ?? null,
  };
}

/**
 * Checks that `value` is JSON that survives a round trip unchanged (a result, a progress
 * value) and returns a copy of it; a `JobValidationError` on `field` (or the part of it
 * at fault: `opts.result.at`) otherwise.
 */
export function validateJsonValue(value: unknown, field: string): JsonValue {
  const fault = jsonFault(value, field, []);
  if (fault !== undefined) throw new JobValidationError(fault.field, fault.message);
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}

function jsonFault(
  value: unknown,
  field: string,
  ancestors: object[],
): { field: string; message: string } | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value)
        ? undefined
        : {
            field,
            message: `${field} is ${value}, which JSON cannot carry: send a finite number, a string, or null`,
          };
    case "object": {
      if (value === null) return undefined;
      if (ancestors.includes(value)) {
        return {
          field,
          message: `${field} refers back to an object that contains it (a cycle), which JSON cannot carry`,
        };
      }
      ancestors.push(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) {
            return {
              field: `${field}[${i}]`,
              message: `${field}[${i}] is a hole in a sparse array, which JSON cannot carry: fill it with null`,
            };
          }
          const found = jsonFault(value[i], `${field}[${i}]`, ancestors);
          if (found) return found;
        }
      } else {
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          const hint =
            value instanceof Date
              ? "send date.toISOString()"
              : "convert it to a plain object first";
          return {
            field,
            message: `${field} is ${describeValue(value)}, which JSON cannot carry unchanged: ${hint}`,
          };
        }
        for (const [key, item] of Object.entries(value)) {
          const found = jsonFault(item, `${field}.${key}`, ancestors);
          if (found) return found;
        }
      }
      ancestors.pop();
      return undefined;
    }
    default:
      return {
        field,
        message: `${field} is ${describeValue(value)}, which JSON cannot carry: send plain data (strings, finite numbers, booleans, null, arrays and objects of those)`,
      };
  }
}
