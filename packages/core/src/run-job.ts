import { JobTimeoutError } from "./errors.js";
import type { JobHandler } from "./handler.js";
import type { Job } from "./job.js";
import type { JobQueue } from "./job-queue.js";

/**
 * How a job ended in a worker. `completed`: acked. `failed`: the handler threw or
 * rejected. `timeout`: it ran past its timeout. `released`: handed back on stop, its
 * attempt not counted.
 */
export type JobSettledOutcome = "completed" | "failed" | "timeout" | "released";

/**
 * What `onJobSettled` receives, once per job, after the queue was told how it ended:
 * from `WorkerRunner` and `processOne`, whatever the handler (a plain function or a
 * `JobRegistry`'s `asHandler()`). Logs and metrics read it.
 *
 * @example
 * ```ts
 * new WorkerRunner(queue, handler, {
 *   onJobSettled: ({ job, outcome, durationSeconds }) =>
 *     console.log(`${job.name} ${outcome} in ${durationSeconds.toFixed(3)}s`),
 * });
 * ```
 */
export interface JobSettledEvent {
  job: Job;
  /** How the job ended. */
  outcome: JobSettledOutcome;
  /** Handler run time in seconds (for `released`, how long it had run when handed back). */
  durationSeconds: number;
  /** The error, for `failed` and `timeout` (a `JobTimeoutError`). */
  error?: unknown;
  /** @deprecated The same as `outcome`. */
  status: JobSettledOutcome;
  /** @deprecated `durationSeconds` in milliseconds. */
  durationMs: number;
}

/** @deprecated The former name of {@link JobSettledEvent}. */
export type JobOutcome = JobSettledEvent;

/** A hook called once per settled job: `onJobSettled` of a worker, or of a handler. */
export type JobSettledHook = (event: JobSettledEvent) => void;

/** Internal: a handler's outcome, before the queue is told. */
export interface HandlerResult {
  outcome: "completed" | "failed" | "timeout";
  error?: unknown;
  durationSeconds: number;
}

/** Internal: runs a handler for a reserved job with a timeout and abort signal. */
export interface RunningJob {
  readonly job: Job;
  /** `performance.now()` when the handler was called. */
  readonly startedAt: number;
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
  const startedAt = performance.now();
  let run: Promise<unknown>;
  try {
    run = Promise.resolve(handler(job, context));
  } catch (error) {
    run = Promise.reject(error);
  }
  const guarded: Promise<HandlerResult> = run.then(
    () => ({ outcome: "completed", durationSeconds: secondsSince(startedAt) }),
    (error: unknown) => ({ outcome: "failed", error, durationSeconds: secondsSince(startedAt) }),
  );
  if (timeoutSeconds === undefined || !(timeoutSeconds > 0) || !Number.isFinite(timeoutSeconds)) {
    return { job, startedAt, abort, done: guarded };
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<HandlerResult>((resolve) => {
    timer = setTimeout(() => {
      const error = new JobTimeoutError(job.name, timeoutSeconds);
      abort(error);
      resolve({ outcome: "timeout", error, durationSeconds: secondsSince(startedAt) });
    }, timeoutSeconds * 1000);
  });
  const done = Promise.race([guarded, timeout]);
  // Clear the timer as soon as the handler settles, without a third promise per job.
  guarded.then(() => clearTimeout(timer));
  return { job, startedAt, abort, done };
}

/** Tells the queue how a job ended: ack on success, fail otherwise. */
export async function settleJob(queue: JobQueue, job: Job, result: HandlerResult): Promise<void> {
  if (result.outcome === "completed") return queue.ack(job);
  return queue.fail(job, result.error);
}

/** The event `onJobSettled` hooks receive. */
export function settledEvent(
  job: Job,
  outcome: JobSettledOutcome,
  durationSeconds: number,
  error?: unknown,
): JobSettledEvent {
  const event: JobSettledEvent = {
    job,
    outcome,
    durationSeconds,
    status: outcome,
    durationMs: durationSeconds * 1000,
  };
  if (error !== undefined) event.error = error;
  return event;
}

/**
 * The hooks a worker calls for each settled job: its own `onJobSettled` option, then
 * the handler's `onJobSettled` (how a `JobRegistry`'s `asHandler()` records its
 * metrics). Both see the same event object.
 */
export function settledHooks(
  option: JobSettledHook | undefined,
  handler: JobHandler,
): JobSettledHook[] {
  const hooks: JobSettledHook[] = [];
  if (typeof option === "function") hooks.push(option);
  if (typeof handler.onJobSettled === "function") {
    hooks.push((event) => handler.onJobSettled?.(event));
  }
  return hooks;
}

export function secondsSince(startedAt: number): number {
  return (performance.now() - startedAt) / 1000;
}
