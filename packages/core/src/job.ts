import type { JobTraceContext } from "./job-trace-context.js";
import type { JsonObject, JsonPayload } from "./json.js";

/**
 * A unit of work in a queue. `P` is the payload type: a {@link JsonObject} by
 * default, or your own interface or type alias with JSON-compatible fields
 * (see {@link JsonPayload}).
 *
 * Field names mirror the fields of a job's Redis hash (`available_at`,
 * `max_attempts`, ...), in camelCase.
 */
export interface Job<P extends JsonPayload<P> = JsonObject> {
  /** `"1"`, `"2"`, ... per queue (Redis: `INCR {prefix}:seq`). */
  id: string;
  /** What kind of work this is; handlers route on it. */
  name: string;
  /** JSON data for the handler. */
  payload: P;
  /** When the job becomes (or became) reservable. */
  availableAt: Date;
  /** Processing attempts so far, counted at reserve. Doubles as the fencing token of a reservation. */
  attempts: number;
  /** Attempts allowed before the job moves to the dead letter queue. @default 5 */
  maxAttempts: number;
  /** Base of the retry delay: attempt `n` failing waits `backoffSeconds * n`. @default 60 */
  backoffSeconds: number;
  /** Message of the last failure, or `null`. */
  lastError: string | null;
  /**
   * The W3C trace context recorded when the job was enqueued (with `@opentelemetry/api`
   * installed and a trace active), carried to every attempt so the worker's span joins
   * the producer's trace (docs/tracing.md). Absent otherwise.
   */
  traceContext?: JobTraceContext;
}

/**
 * What `ack`, `fail`, `release` and `extendVisibility` take: a job id, or a reserved
 * {@link Job} of any payload type (its `attempts` fences the call against a newer
 * reservation of the same job).
 */
export type JobRef = string | { readonly id: string; readonly attempts: number };

/** Default number of attempts for a job. */
export const DEFAULT_MAX_ATTEMPTS = 5;
/** Default base backoff in seconds. */
export const DEFAULT_BACKOFF_SECONDS = 60;
/** Default visibility timeout in seconds. */
export const DEFAULT_VISIBILITY_TIMEOUT_SECONDS = 60;
/** How long a dedupe key is remembered, in seconds (24 h). */
export const DEDUPE_TTL_SECONDS = 24 * 60 * 60;
/** Default maximum size of a serialized payload, in bytes (1 MiB). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
/** Maximum length of a job name, in characters. */
export const MAX_JOB_NAME_LENGTH = 512;
