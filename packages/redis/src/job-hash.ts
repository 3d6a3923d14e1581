import {
  BackendError,
  DEFAULT_BACKOFF_SECONDS,
  DEFAULT_MAX_ATTEMPTS,
  type Job,
  type PreparedEnqueue,
} from "@svc-jobs/core";

/**
 * Internal: a job's hash (`{prefix}:job:<id>`, docs/redis-layout.md) as it crosses the Lua
 * boundary, a flat list of field/value pairs like an `HGETALL` reply. A later pair of the
 * same field wins, as in one `HSET`. Every field is a string: `available_at` in epoch
 * milliseconds, `payload` as JSON, `last_error` `""` until the first failure.
 */
export type JobFields = readonly unknown[];

/** Not a hash field: the enqueue script writes a job's dedupe key to `{prefix}:dedupe:<key>`. */
const DEDUPE_KEY = "dedupe_key";

const MAX_ATTEMPTS_TEXT = String(DEFAULT_MAX_ATTEMPTS);
const BACKOFF_TEXT = String(DEFAULT_BACKOFF_SECONDS);

/**
 * Internal: the fields of a new job's hash in the order the enqueue script writes them
 * (after `id`), each with the value a job gets when the enqueue leaves it out, as the
 * table `hash` of enqueue-4.lua has them: what the `Job` an enqueue returns is made from
 * (a test checks that it equals what the hash holds). Adding a field to the hash is a line there and here, one
 * in `OPTIONAL_COLUMNS` when an enqueue sets it, and one in {@link jobFromHash}.
 */
export function newJobDefaults(now: number): string[] {
  return [
    "name",
    "",
    "payload",
    "",
    "available_at",
    String(now),
    "attempts",
    "0",
    "max_attempts",
    MAX_ATTEMPTS_TEXT,
    "backoff_seconds",
    BACKOFF_TEXT,
    "last_error",
    "",
  ];
}

/**
 * Internal: what an enqueue sets on its new jobs, as named columns: `columns` names the
 * fields once per call (name and payload, and only the others some job of the call
 * sets), and each row gives one job's value per column, `""` keeping the default.
 * `dedupe_key` is a column but not a field: the script writes it to
 * `{prefix}:dedupe:<key>`. A job with its own `available_at` waits in the delayed set
 * until then; one without is ready at once.
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
  ["available_at", (p, now) => (p.delaySeconds > 0 ? String(now + p.delaySeconds * 1000) : "")],
  ["max_attempts", (p) => (p.maxAttempts !== DEFAULT_MAX_ATTEMPTS ? String(p.maxAttempts) : "")],
  [
    "backoff_seconds",
    (p) => (p.backoffSeconds !== DEFAULT_BACKOFF_SECONDS ? String(p.backoffSeconds) : ""),
  ],
  [DEDUPE_KEY, (p) => p.dedupeKey ?? ""],
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
  let lastError: unknown;
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
        case "last_error":
          lastError = value;
          break;
      }
    }
  }
  if (typeof id !== "string" || typeof name !== "string" || typeof payload !== "string") {
    throw new BackendError(
      `Redis returned a job without its id, name or payload: ${JSON.stringify(lists.at(-1))}; check that nothing else writes the queue's job hashes`,
    );
  }
  return {
    id,
    name,
    payload: JSON.parse(payload),
    availableAt: new Date(Number(availableAt)),
    attempts: Number(attempts),
    maxAttempts: Number(maxAttempts),
    backoffSeconds: Number(backoffSeconds),
    lastError: typeof lastError === "string" && lastError !== "" ? lastError : null,
  };
}
