import type { Job } from "./job.js";
import type { JsonObject } from "./json.js";

/** What a handler receives besides the job. */
export interface HandlerContext {
  /** Fires when the job times out or the worker is forced to stop; pass it to fetch, db calls, etc. */
  signal: AbortSignal;
}

/**
 * Processes one job. Resolve to succeed (the job is acked); throw or reject to fail
 * it (the queue retries with backoff, then dead-letters it).
 */
export type JobHandler<P extends JsonObject = JsonObject> = (
  job: Job<P>,
  context: HandlerContext,
) => unknown;
