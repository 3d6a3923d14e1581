import { resolveTimeoutSeconds } from "./default-timeout.js";
import type { JobHandler } from "./handler.js";
import type { JobQueue } from "./job-queue.js";
import type { JsonObject, JsonPayload } from "./json.js";
import { settleJob, startJob } from "./run-job.js";

/** Options of {@link processOne}. */
export interface ProcessOneOptions {
  /**
   * Handler timeout in seconds. It is the only timeout of the job: a registry's
   * handler adds none of its own.
   * @default the handler's `timeoutSeconds` (e.g. `registry.asHandler({ timeoutSeconds })`), else `JOB_DEFAULT_TIMEOUT_SECONDS`, else none
   */
  timeoutSeconds?: number;
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
  const timeoutSeconds = resolveTimeoutSeconds(opts.timeoutSeconds, handler);
  const job = await queue.reserveNext();
  if (!job) return false;
  const running = startJob(job, handler as unknown as JobHandler, timeoutSeconds);
  await settleJob(queue, job, await running.done);
  return true;
}
