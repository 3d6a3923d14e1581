import { defaultTimeoutSeconds } from "./default-timeout.js";
import type { JobHandler } from "./handler.js";
import type { JobQueue } from "./job-queue.js";
import { settleJob, startJob } from "./run-job.js";
import { validateSeconds } from "./validate.js";

/** Options of {@link processOne}. */
export interface ProcessOneOptions {
  /** Handler timeout in seconds. @default `JOB_DEFAULT_TIMEOUT_SECONDS`, else none */
  timeoutSeconds?: number;
}

/**
 * Reserves one job and runs `handler` on it: acks on success, fails with the error on
 * a throw or a timeout.
 *
 * @returns `false` when no job was ready, `true` when one was processed (whatever the outcome)
 *
 * @example
 * ```ts
 * while (await processOne(queue, handler)) {}
 * ```
 */
export async function processOne(
  queue: JobQueue,
  handler: JobHandler,
  opts: ProcessOneOptions = {},
): Promise<boolean> {
  const timeoutSeconds =
    opts.timeoutSeconds === undefined
      ? defaultTimeoutSeconds()
      : validateSeconds("timeoutSeconds", opts.timeoutSeconds, 0.001);
  const job = await queue.reserveNext();
  if (!job) return false;
  const running = startJob(job, handler, timeoutSeconds);
  await settleJob(queue, job, await running.done);
  return true;
}
