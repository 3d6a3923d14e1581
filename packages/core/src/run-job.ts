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

/** Internal: a handler's outcome, before the queue is told. */
export interface HandlerResult {
  status: "completed" | "failed" | "timeout";
  error?: unknown;
  durationMs: number;
}

/** Internal: runs a handler for a reserved job with a timeout and abort signal. */
export interface RunningJob {
  readonly job: Job;
  /** Fires the handler's AbortSignal (created only when the handler asks for it). */
  abort(reason: unknown): void;
  /** Settles with the handler's outcome (before the queue is told). */
  readonly done: Promise<HandlerResult>;
}

// This runs once per job, so it allocates little: the AbortController is created only
// when the handler reads `signal` (or on abort), and there is no timer without a timeout.
export function startJob(
  job: Job,
  handler: JobHandler,
  timeoutSeconds: number | undefined,
): RunningJob {
  let controller: AbortController | undefined;
  const context = {
    get signal(): AbortSignal {
      controller ??= new AbortController();
      return controller.signal;
    },
  };
  const abort = (reason: unknown) => {
    controller ??= new AbortController();
    controller.abort(reason);
  };
  const started = performance.now();
  let run: Promise<unknown>;
  try {
    run = Promise.resolve(handler(job, context));
  } catch (error) {
    run = Promise.reject(error);
  }
  const guarded: Promise<HandlerResult> = run.then(
    () => ({ status: "completed", durationMs: performance.now() - started }),
    (error: unknown) => ({ status: "failed", error, durationMs: performance.now() - started }),
  );
  if (timeoutSeconds === undefined || !(timeoutSeconds > 0) || !Number.isFinite(timeoutSeconds)) {
    return { job, abort, done: guarded };
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<HandlerResult>((resolve) => {
    timer = setTimeout(() => {
      const error = new JobTimeoutError(job.name, timeoutSeconds);
      abort(error);
      resolve({ status: "timeout", error, durationMs: performance.now() - started });
    }, timeoutSeconds * 1000);
  });
  const done = Promise.race([guarded, timeout]);
  // Clear the timer as soon as the handler settles, without a third promise per job.
  guarded.then(() => clearTimeout(timer));
  return { job, abort, done };
}

/** Tells the queue how a job ended: ack on success, fail otherwise. */
export async function settleJob(queue: JobQueue, job: Job, result: HandlerResult): Promise<void> {
  if (result.status === "completed") return queue.ack(job);
  return queue.fail(job, result.error);
}
