import { JobCancelledError } from "./control.js";
import { resolveTimeoutSeconds } from "./default-timeout.js";
import type { JobHandler } from "./handler.js";
import type { JobQueue } from "./job-queue.js";
import type { JsonObject, JsonPayload } from "./json.js";
import { type KnownKeys, rejectUnknownKeys } from "./reject-unknown-keys.js";
import { ReservationLostError } from "./reservation-lost-error.js";
import {
  DEFAULT_CANCEL_CHECK_SECONDS,
  type ReservationGone,
  ReservationWatch,
  validateCancelCheckSeconds,
} from "./reservation-watch.js";
import {
  type HandlerResult,
  type JobSettledEvent,
  settledEvent,
  settledHooks,
  settleJob,
  startJob,
} from "./run-job.js";

const PROCESS_ONE_OPTIONS: KnownKeys = {
  keys: ["timeoutSeconds", "onJobSettled", "cancelCheckSeconds"],
  hints: {
    timeout: "timeoutSeconds",
    timeoutMs: "timeoutSeconds (in seconds)",
    cancelCheck: "cancelCheckSeconds",
    cancelCheckInterval: "cancelCheckSeconds",
    cancelCheckMs: "cancelCheckSeconds (in seconds)",
  },
  noun: "processOne option",
};

/** Options of {@link processOne}. */
export interface ProcessOneOptions {
  /**
   * Handler timeout in seconds. It is the only timeout of the job: a registry's
   * handler adds none of its own.
   * @default the handler's `timeoutSeconds` (e.g. `registry.asHandler({ timeoutSeconds })`), else `JOB_DEFAULT_TIMEOUT_SECONDS`, else none
   */
  timeoutSeconds?: number;
  /**
   * How often, while the handler runs, to ask the queue whether the job was cancelled
   * or its reservation lost (`checkReservations`), as `WorkerRunner`'s option of the
   * same name: the handler's signal then fires (`JobCancelledError` or
   * `ReservationLostError`) and `processOne` resolves without acking or failing the job.
   * `Infinity`: never ask.
   * @default 0.5
   */
  cancelCheckSeconds?: number;
  /**
   * Called once, after the queue was told how the job ended, as `WorkerRunner`'s
   * option of the same name; then the handler's own `onJobSettled`, if it has one.
   * An error thrown by either rejects `processOne` (the job is settled already).
   */
  onJobSettled?: (event: JobSettledEvent) => void;
}

/**
 * Reserves one job and runs `handler` on it: acks on success (the handler's return value,
 * as JSON, is the job's result), fails with the error on a throw or a timeout. A job
 * cancelled while it runs has its handler's signal fired and is left `cancelled`.
 *
 * `P` is the payload type the handler expects; the queue does not check that the
 * reserved job's payload has it.
 *
 * @returns `false` when no job was ready, `true` when one was processed (whatever the outcome)
 *
 * @example
 * ```ts
 * while (await processOne(queue, handler)) {}
 * await processOne<EmailPayload>(queue, async (job) => send(job.payload.to));
 * ```
 */
export async function processOne<P extends JsonPayload<P> = JsonObject>(
  queue: JobQueue,
  handler: JobHandler<P>,
  opts: ProcessOneOptions = {},
): Promise<boolean> {
  rejectUnknownKeys(opts, PROCESS_ONE_OPTIONS, "opts");
  const timeoutSeconds = resolveTimeoutSeconds(opts.timeoutSeconds, handler);
  const cancelCheckSeconds = validateCancelCheckSeconds(
    opts.cancelCheckSeconds ?? DEFAULT_CANCEL_CHECK_SECONDS,
  );
  const job = await queue.reserveNext();
  if (!job) return false;
  const run = handler as unknown as JobHandler;
  const running = startJob(job, run, timeoutSeconds, queue);
  // A failed check is tried again at the next interval; processOne has no onError.
  const watch = new ReservationWatch(queue, cancelCheckSeconds);
  let gone: { outcome: ReservationGone; error: unknown } | undefined;
  watch.add(job, (status, reason) => {
    const error =
      status === "cancelled"
        ? new JobCancelledError(job.id, reason)
        : new ReservationLostError(job.id);
    gone = { outcome: status, error };
    running.end(status, error);
  });
  let result: HandlerResult;
  try {
    result = await running.done;
  } finally {
    watch.close();
  }
  // Nothing is told the queue after a cancel or a lost reservation.
  try {
    await settleJob(queue, job, result);
  } catch (error) {
    running.span?.settleFailed(result.outcome, error);
    throw error;
  }
  // A check that answered while the ack was on its way: the backend fenced the ack.
  const ended = (gone as typeof gone) ?? result;
  running.span?.end(ended.outcome, ended.error);
  const hooks = settledHooks(opts.onJobSettled, run);
  if (hooks.length > 0) {
    const event = settledEvent(job, ended.outcome, result.durationSeconds, ended.error);
    for (const hook of hooks) hook(event);
  }
  return true;
}
