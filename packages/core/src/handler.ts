import type { Job } from "./job.js";
import type { JsonObject, JsonPayload } from "./json.js";
import type { JobSettledEvent } from "./run-job.js";

/** What a handler receives besides the job. */
export interface HandlerContext {
  /** Fires when the job times out or the worker is forced to stop; pass it to fetch, db calls, etc. */
  signal: AbortSignal;
}

/**
 * Processes one job. Resolve (with anything) to succeed: the job is acked; throw or
 * reject to fail it (the queue retries with backoff, then dead-letters it).
 *
 * `P` is the payload type the handler expects, e.g. `JobHandler<EmailPayload>`.
 *
 * @example
 * ```ts
 * interface EmailPayload { to: string; subject: string }
 * const sendEmail: JobHandler<EmailPayload> = async (job, { signal }) => {
 *   await mailer.send(job.payload.to, job.payload.subject, { signal });
 * };
 * ```
 */
export type JobHandler<P extends JsonPayload<P> = JsonObject> = {
  (job: Job<P>, context: HandlerContext): unknown;
  /**
   * The timeout, in seconds, this handler asks for (`Infinity`: none), used by
   * `WorkerRunner` and `processOne` when they are given no `timeoutSeconds` of their
   * own; it wins over `JOB_DEFAULT_TIMEOUT_SECONDS`. `JobRegistry.asHandler()` sets it.
   */
  readonly timeoutSeconds?: number;
  /**
   * Called by `WorkerRunner` and `processOne` once per job this handler ran, after the
   * queue was told how it ended and after their own `onJobSettled` option, with the same
   * event. `JobRegistry.asHandler()` sets it to record the registry's metrics.
   */
  readonly onJobSettled?: (event: JobSettledEvent) => void;
};
