import { resolveTimeoutSeconds } from "./default-timeout.js";
import type { JobHandler } from "./handler.js";
import type { JobQueue } from "./job-queue.js";
import type { JsonObject, JsonPayload } from "./json.js";
import { type KnownKeys, rejectUnknownKeys } from "./reject-unknown-keys.js";
import {
  type JobSettledEvent,
  settledEvent,
  settledHooks,
  settleJob,
  startJob,
} from "./run-job.js";

const PROCESS_ONE_OPTIONS: KnownKeys = {
  keys: ["timeoutSeconds", "onJobSettled"],
  hints: { timeout: "timeoutSeconds", timeoutMs: "timeoutSeconds (in seconds)" },
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
   * Called once, after the queue was told how the job ended, as `WorkerRunner`'s
   * option of the same name; then the handler's own `onJobSettled`, if it has one.
   * An error thrown by either rejects `processOne` (the job is settled already).
   */
  onJobSettled?: (event: JobSettledEvent) => void;
}

/**
 * Reserves one job and runs `handler` on it: acks on success, fails with the error on
 * a throw or a timeout.
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
  const job = await queue.reserveNext();
  if (!job) return false;
  const run = handler as unknown as JobHandler;
  const result = await startJob(job, run, timeoutSeconds).done;
  await settleJob(queue, job, result);
  const hooks = settledHooks(opts.onJobSettled, run);
  if (hooks.length > 0) {
    const event = settledEvent(job, result.outcome, result.durationSeconds, result.error);
    for (const hook of hooks) hook(event);
  }
  return true;
}
