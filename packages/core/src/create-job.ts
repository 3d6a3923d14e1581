import { DEFAULT_BACKOFF_SECONDS, DEFAULT_MAX_ATTEMPTS, type Job } from "./job.js";
import type { JobTraceContext } from "./job-trace-context.js";
import type { JsonObject, JsonPayload } from "./json.js";

/**
 * The fields of a {@link Job} by name, for {@link createJob}: `id`, `name`, `payload` and
 * `availableAt` always; the others default to what a new job has.
 */
export interface JobInit<P extends JsonPayload<P> = JsonObject> {
  id: string;
  name: string;
  payload: P;
  /** When the job becomes (or became) reservable: a `Date` (copied) or epoch milliseconds. */
  availableAt: Date | number;
  /** @default 0 */
  attempts?: number;
  /** @default DEFAULT_MAX_ATTEMPTS (5) */
  maxAttempts?: number;
  /** @default DEFAULT_BACKOFF_SECONDS (60) */
  backoffSeconds?: number;
  /** @default null */
  lastError?: string | null;
  /** The trace context recorded at enqueue. @default none (`undefined`) */
  traceContext?: JobTraceContext;
}

/**
 * Makes a {@link Job}: the one place a backend builds the object its callers get. Fields
 * come by name and the absent ones get a new job's values, so adding a field to `Job`
 * is a change here (and where a backend stores it), not at every place a job is made.
 * `availableAt` is always a fresh `Date`, so no two jobs share one.
 *
 * @example
 * ```ts
 * // a new job
 * createJob({ id, name: prepared.name, payload: prepared.payload, availableAt: now });
 * // a job read back from storage
 * createJob({ ...stored, payload: JSON.parse(stored.payloadJson) });
 * ```
 */
export function createJob<P extends JsonPayload<P> = JsonObject>(init: JobInit<P>): Job<P> {
  // One literal in one field order, so every job has the same shape.
  return {
    id: init.id,
    name: init.name,
    payload: init.payload,
    availableAt: new Date(
      typeof init.availableAt === "number" ? init.availableAt : init.availableAt.getTime(),
    ),
    attempts: init.attempts ?? 0,
    maxAttempts: init.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    backoffSeconds: init.backoffSeconds ?? DEFAULT_BACKOFF_SECONDS,
    lastError: init.lastError ?? null,
    // Always present (undefined without a trace), so every job has one shape.
    traceContext: init.traceContext,
  };
}
