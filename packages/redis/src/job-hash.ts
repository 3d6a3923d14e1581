import {
  BackendError,
  DEFAULT_BACKOFF_SECONDS,
  DEFAULT_MAX_ATTEMPTS,
  type Job,
} from "@svc-jobs/core";
import { createJob, type PreparedEnqueue, toJobTraceContext } from "@svc-jobs/core/backend";

/**
 * Internal: a job's hash (`{prefix}:job:<id>`, docs/redis-layout.md) as it crosses the Lua
 * boundary, a flat list of field/value pairs like an `HGETALL` reply. A later pair of the
 * same field wins, as in one `HSET`. Every field is a string (layout version 2, as svc-infra
 * writes them): `available_at` ISO-8601 UTC, `payload` JSON, `attempts`, `max_attempts` and
 * `backoff_seconds` integers, `last_error` absent until the first failure. `attempts`,
 * `max_attempts` and `backoff_seconds` may be absent, meaning 0, 5 and 60 as svc-infra reads
 * them: a new job's hash leaves out those at their default.
 */
export type JobFields = readonly unknown[];

/** Not a hash field: the enqueue script writes a job's dedupe key to `{prefix}:dedupe:<key>`. */
const DEDUPE_KEY = "dedupe_key";

/** Not a hash field: the delayed set's score (epoch seconds) of a delayed job. */
const DUE = "due";

/**
 * The hash field holding a fractional backoff exactly. `backoff_seconds` must stay an
 * integer (svc-infra reads it with `int()`), so a backoff of 2.5 s is written as
 * `backoff_seconds: "3"` (rounded up) and `svc_jobs_backoff_seconds: "2.5"`, which svc-jobs
 * prefers when present.
 */
export const EXACT_BACKOFF_FIELD = "svc_jobs_backoff_seconds";

/** svc-jobs's own hash fields (docs/redis-layout.md), absent on a plain waiting job. */
/** The job's priority, only when not 0. */
export const PRIORITY_FIELD = "svc_jobs_priority";
/** The job's group (`enqueue(..., { group })`), only when it has one. */
export const GROUP_FIELD = "svc_jobs_group";
/** The enqueue time (ISO-8601) once `available_at` says something else; else `available_at` is it. */
export const CREATED_AT_FIELD = "svc_jobs_created_at";
/** `completed`, `cancelled` or `dead` (a job svc-jobs dead-lettered). */
export const STATE_FIELD = "svc_jobs_state";
/** When the job completed or was cancelled, epoch seconds. */
export const FINISHED_AT_FIELD = "svc_jobs_finished_at";
/** A kept completed job's result, JSON text. */
export const RESULT_FIELD = "svc_jobs_result";
/** The latest progress a handler reported, JSON text. */
export const PROGRESS_FIELD = "svc_jobs_progress";
/** Why the job was cancelled. */
export const CANCEL_REASON_FIELD = "svc_jobs_cancel_reason";
/** The W3C `traceparent` recorded at enqueue (docs/tracing.md), only when there is one. */
export const TRACEPARENT_FIELD = "svc_jobs_traceparent";
/** The W3C `tracestate` recorded at enqueue, only when there is one. */
export const TRACESTATE_FIELD = "svc_jobs_tracestate";

/**
 * Internal: epoch ms as ISO-8601 UTC with microseconds and a `+00:00` offset
 * (`2030-01-01T00:00:00.000000+00:00`), the form Python's `datetime.isoformat()` writes and
 * `datetime.fromisoformat` reads.
 */
export function isoUtc(ms: number): string {
  const micros = Math.round(ms * 1000);
  const seconds = Math.floor(micros / 1_000_000);
  // The date and time to the second change once a second: formatted once (Date and
  // toISOString are most of the cost of an enqueue's JavaScript otherwise).
  if (seconds !== isoCache.seconds) {
    isoCache.seconds = seconds;
    isoCache.prefix = new Date(seconds * 1000).toISOString().slice(0, 19);
  }
  const fraction = String(micros - seconds * 1_000_000).padStart(6, "0");
  return `${isoCache.prefix}.${fraction}+00:00`;
}

const isoCache = { seconds: Number.NaN, prefix: "" };

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2}(?::?\d{2}(?:\.\d+)?)?)?$/i;

/**
 * Internal: an `available_at` as epoch ms. ISO-8601 as svc-jobs and svc-infra write it
 * (`+00:00`, `Z`, any offset; no offset reads as UTC); a plain number is version 1's epoch
 * ms (a queue not upgraded yet).
 */
export function parseAvailableAt(text: unknown): number {
  if (typeof text !== "string") return Number.NaN;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const m = ISO.exec(text);
  if (!m) return Number.NaN;
  const fraction = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  let ms =
    Date.UTC(
      Number(m[1]),
      Number(m[2]) - 1,
      Number(m[3]),
      Number(m[4]),
      Number(m[5]),
      Number(m[6] ?? 0),
    ) + fraction;
  const zone = m[8];
  if (zone && zone.toUpperCase() !== "Z") {
    const z = /^([+-])(\d{2}):?(\d{2})(?::?(\d{2}))?/.exec(zone);
    if (z) {
      const offset = (Number(z[2]) * 3600 + Number(z[3]) * 60 + Number(z[4] ?? 0)) * 1000;
      ms -= z[1] === "+" ? offset : -offset;
    }
  }
  return ms;
}

/**
 * Internal: the fields of a new job's hash in the order the enqueue script writes them
 * (after `id`), each with the value a job gets when the enqueue leaves it out, as the
 * table `hash` of enqueue-4.lua has them: what the `Job` an enqueue returns is made from
 * (a test checks that it equals what the hash holds). Adding a field to the hash is a line there and here, one
 * in `OPTIONAL_COLUMNS` when an enqueue sets it, and one in {@link jobFromHash}.
 */
export function newJobDefaults(nowIso: string): string[] {
  return ["name", "", "payload", "", "available_at", nowIso];
}

/**
 * Internal: what an enqueue sets on its new jobs, as named columns: `columns` names the
 * fields once per call (name and payload, and only the others some job of the call
 * sets), and each row gives one job's value per column, `""` keeping the default.
 * `dedupe_key` is a column but not a field: the script writes it to
 * `{prefix}:dedupe:<key>`; nor is `due`, a delayed job's score in epoch seconds: a job with
 * one waits in the delayed set until then, one without is ready at once.
 */
export interface NewJobTable {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/**
 * The columns an enqueue sends besides name and payload, each with a job's value, `""`
 * for the default. A column goes out only when some job of the call has a value for it,
 * so most calls send name and payload alone.
 */
const OPTIONAL_COLUMNS: readonly (readonly [
  string,
  (p: PreparedEnqueue, now: number) => string,
])[] = [
  ["available_at", (p, now) => (p.delaySeconds > 0 ? isoUtc(now + p.delaySeconds * 1000) : "")],
  [DUE, (p, now) => (p.delaySeconds > 0 ? String((now + p.delaySeconds * 1000) / 1000) : "")],
  ["max_attempts", (p) => (p.maxAttempts !== DEFAULT_MAX_ATTEMPTS ? String(p.maxAttempts) : "")],
  [
    "backoff_seconds",
    (p) =>
      Math.ceil(p.backoffSeconds) !== Math.ceil(DEFAULT_BACKOFF_SECONDS)
        ? String(Math.ceil(p.backoffSeconds))
        : "",
  ],
  [
    EXACT_BACKOFF_FIELD,
    (p) => (Number.isInteger(p.backoffSeconds) ? "" : String(p.backoffSeconds)),
  ],
  [PRIORITY_FIELD, (p) => (p.priority !== 0 ? String(p.priority) : "")],
  [GROUP_FIELD, (p) => p.group ?? ""],
  // A delayed job's available_at is its due time: the enqueue time goes beside it.
  [CREATED_AT_FIELD, (p, now) => (p.delaySeconds > 0 ? isoUtc(now) : "")],
  [DEDUPE_KEY, (p) => p.dedupeKey ?? ""],
  [TRACEPARENT_FIELD, (p) => p.traceContext?.traceparent ?? ""],
  [TRACESTATE_FIELD, (p) => p.traceContext?.tracestate ?? ""],
];

/** Internal: the {@link NewJobTable} of an enqueue of `prepared` at `now`. */
export function newJobTable(prepared: readonly PreparedEnqueue[], now: number): NewJobTable {
  const used = OPTIONAL_COLUMNS.filter(([, value]) => prepared.some((p) => value(p, now) !== ""));
  const columns = ["name", "payload"];
  for (const [column] of used) columns.push(column);
  const rows = prepared.map((p) => {
    const row = [p.name, p.payloadJson];
    for (const [, value] of used) row.push(value(p, now));
    return row;
  });
  return { columns, rows };
}

/** Internal: row `i` of `table` as field/value pairs, leaving out the defaults (`""`). */
export function newJobFields(table: NewJobTable, i: number): string[] {
  const row = table.rows[i] ?? [];
  const fields: string[] = [];
  table.columns.forEach((column, c) => {
    const value = row[c];
    if (value !== undefined && value !== "") fields.push(column, value);
  });
  return fields;
}

/**
 * Internal: field/value pairs without the trace context fields: what a dedupe hit takes
 * from the call that hit it (the existing job keeps the context it was enqueued with).
 */
export function untracedFields(fields: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const field = fields[i] as string;
    if (field !== TRACEPARENT_FIELD && field !== TRACESTATE_FIELD)
      out.push(field, fields[i + 1] as string);
  }
  return out;
}

/**
 * Internal: the one place a `Job` is made, from field/value lists read in order (a later
 * value wins): a script's `HGETALL`-style reply, or the defaults and fields an enqueue
 * wrote plus the id Redis gave it. Names that are not hash fields are skipped.
 */
export function jobFromHash(...lists: JobFields[]): Job {
  let id: unknown;
  let name: unknown;
  let payload: unknown;
  let availableAt: unknown;
  let attempts: unknown;
  let maxAttempts: unknown;
  let backoffSeconds: unknown;
  let exactBackoff: unknown;
  let lastError: unknown;
  let traceparent: unknown;
  let tracestate: unknown;
  for (const fields of lists) {
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const value = fields[i + 1];
      switch (fields[i]) {
        case "id":
          id = value;
          break;
        case "name":
          name = value;
          break;
        case "payload":
          payload = value;
          break;
        case "available_at":
          availableAt = value;
          break;
        case "attempts":
          attempts = value;
          break;
        case "max_attempts":
          maxAttempts = value;
          break;
        case "backoff_seconds":
          backoffSeconds = value;
          break;
        case EXACT_BACKOFF_FIELD:
          exactBackoff = value;
          break;
        case "last_error":
          lastError = value;
          break;
        case TRACEPARENT_FIELD:
          traceparent = value;
          break;
        case TRACESTATE_FIELD:
          tracestate = value;
          break;
      }
    }
  }
  if (typeof id !== "string" || typeof name !== "string" || typeof payload !== "string") {
    throw new BackendError(
      `Redis returned a job without its id, name or payload: ${JSON.stringify(lists.at(-1))}; check that nothing else writes the queue's job hashes`,
    );
  }
  return createJob({
    id,
    name,
    payload: JSON.parse(payload),
    availableAt: parseAvailableAt(availableAt),
    attempts: Number(attempts ?? 0),
    maxAttempts: Number(maxAttempts ?? DEFAULT_MAX_ATTEMPTS),
    backoffSeconds: Number(
      typeof exactBackoff === "string" && exactBackoff !== ""
        ? exactBackoff
        : (backoffSeconds ?? DEFAULT_BACKOFF_SECONDS),
    ),
    lastError: typeof lastError === "string" && lastError !== "" ? lastError : null,
    // svc-infra's jobs have none; a broken value starts a new trace rather than failing.
    traceContext:
      traceparent === undefined ? undefined : toJobTraceContext(traceparent, tracestate),
  });
}
