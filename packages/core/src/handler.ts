import type { Job } from "./job.js";
import type { JsonObject, JsonPayload, JsonValue } from "./json.js";
import type { JobSettledEvent } from "./run-job.js";

/** What a handler receives besides the job. */
export interface HandlerContext {
  /**
   * Fires when the job times out (`signal.reason` is a `JobTimeoutError`), is cancelled
   * (a `JobCancelledError`), its reservation is found lost (a `ReservationLostError`),
   * or the worker is forced to stop (a `WorkerStoppedError`); pass it to fetch, db
   * calls, etc. After a cancel the job stays `cancelled` whatever the handler does.
   */
  signal: AbortSignal;
  /**
   * Reports progress (any JSON value): stored on the job (`JobInfo.progress`) and emitted
   * as a `progress` event. It is `queue.progress(job, value)`: it resolves once the
   * queue has the value and rejects as that does (a `JobValidationError` for a value
   * that is not plain JSON, or the backend's error). Once the job has ended for the
   * worker (finished, timed out, cancelled) it resolves without sending anything.
   *
   * @example
   * ```ts
   * for (const [i, row] of rows.entries()) {
   *   await importRow(row, { signal });
   *   if (i % 100 === 0) await progress({ done: i, of: rows.length });
   * }
   * ```
   */
  progress(value: JsonValue): Promise<void>;
}

/**
 * Processes one job. Resolve (with anything) to succeed: the job is acked, with the
 * resolved value as its result (as JSON: `undefined`, and anything JSON cannot carry,
 * is `null`; kept when the queue has `keepCompleted`); throw or reject to fail it (the
 * queue retries with backoff, then dead-letters it).
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
