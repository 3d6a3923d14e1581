import { JobTimeoutError } from "./errors.js";
import type { JobHandler } from "./handler.js";
import type { Job } from "./job.js";
import type { JobQueue } from "./job-queue.js";

/** How one job ended in a worker. */
export interface JobOutcome {
  job: Job;
  /** `completed`: acked. `failed`: the handler threw. `timeout`: it ran too long. `released`: handed back on stop. */
  status: "completed" | "failed" | "timeout" | "released";
  /** Handler run time in milliseconds. */
  durationMs: number;
  /** The error for `failed` and `timeout`. */
  error?: unknown;
}

/** Internal: runs a handler for a reserved job with a timeout and abort signal. */
export interface RunningJob {
  readonly job: Job;
  readonly controller: AbortController;
  /** Settles with the handler's outcome (before the queue is told). */
  readonly done: Promise<{
    status: "completed" | "failed" | "timeout";
    error?: unknown;
    durationMs: number;
  }>;
}

export function startJob(
  job: Job,
  handler: JobHandler,
  timeoutSeconds: number | undefined,
): RunningJob {
  const controller = new AbortController();
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const run = (async () => handler(job, { signal: controller.signal }))();
  const guarded: RunningJob["done"] = run.then(
    () => ({ status: "completed" as const, durationMs: performance.now() - started }),
    (error: unknown) => ({
      status: "failed" as const,
      error,
      durationMs: performance.now() - started,
    }),
  );
  let done = guarded;
  if (timeoutSeconds !== undefined && timeoutSeconds > 0 && Number.isFinite(timeoutSeconds)) {
    const timeout = new Promise<{ status: "timeout"; error: unknown; durationMs: number }>(
      (resolve) => {
        timer = setTimeout(() => {
          const error = new JobTimeoutError(job.name, timeoutSeconds);
          controller.abort(error);
          resolve({ status: "timeout", error, durationMs: performance.now() - started });
        }, timeoutSeconds * 1000);
      },
    );
    done = Promise.race([guarded, timeout]).finally(() => clearTimeout(timer));
  }
  return { job, controller, done };
}

/** Tells the queue how a job ended: ack on success, fail otherwise. */
export async function settleJob(
  queue: JobQueue,
  job: Job,
  result: Awaited<RunningJob["done"]>,
): Promise<void> {
  if (result.status === "completed") await queue.ack(job);
  else await queue.fail(job, result.error);
}
