import { JobTimeoutError, JobValidationError } from "./errors.js";
import { isRateLimitError, type RateLimitError } from "./flow-control.js";
import type { HandlerContext, JobHandler } from "./handler.js";
import type { Job } from "./job.js";
import type { JobQueue } from "./job-queue.js";
import { type ProcessSpan, startProcessSpan } from "./job-tracing.js";
import { toJsonResult } from "./json-result.js";
import type { ReservationGone } from "./reservation-watch.js";

/**
 * How a job ended in a worker. `completed`: acked (with the handler's return value as
 * its result). `failed`: the handler threw or rejected. `timeout`: it ran past its
 * timeout. `released`: handed back on stop, its attempt not counted. `cancelled`:
 * someone cancelled it while it ran (its signal fired with a `JobCancelledError`; the
 * job is `cancelled`, never retried, and a late result is discarded). `lost`: the worker
 * found its reservation gone (expired, so the backend counted a failed attempt and
 * another worker may run it; the signal fired with a `ReservationLostError`).
 * `rate_limited`: the handler threw a `RateLimitError`; the job went back without counting
 * the attempt, to run again after `retryAfterSeconds` (docs/contract.md, "Flow control").
 */
export type JobSettledOutcome =
  | "completed"
  | "failed"
  | "timeout"
  | "released"
  | "rate_limited"
  | "cancelled"
  | "lost";

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
  /**
   * Handler run time in seconds (for `released`, `cancelled` and `lost`, how long it had
   * run when the worker let go of it).
   */
  durationSeconds: number;
  /**
   * The error, for `failed`, `timeout` (a `JobTimeoutError`), `cancelled` (a
   * `JobCancelledError`) and `lost` (a `ReservationLostError`).
   */
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
  outcome: "completed" | "failed" | "timeout" | "rate_limited" | ReservationGone;
  /** What the handler resolved to (`completed` only). */
  value?: unknown;
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
  /**
   * Lets go of the job now (it was cancelled, or its reservation lost): fires the
   * signal with `error` and settles `done` with `outcome` unless it settled already;
   * whatever the handler does later is ignored. False when `done` had settled.
   */
  end(outcome: ReservationGone, error: unknown): boolean;
  /** Settles with the handler's outcome (before the queue is told). */
  readonly done: Promise<HandlerResult>;
  /**
   * The attempt's CONSUMER span (docs/tracing.md), when `@opentelemetry/api` is
   * installed: the worker ends it once the job has settled.
   */
  readonly span: ProcessSpan | undefined;
}

// This runs once per job, so it allocates little: the AbortController is created only
// when the handler reads `signal` (or on abort), and there is no timer without a timeout.
export function startJob(
  job: Job,
  handler: JobHandler,
  timeoutSeconds: number | undefined,
  queue: JobQueue,
): RunningJob {
  let controller: AbortController | undefined;
  // Set once `done` has settled: a late ctx.progress then sends nothing (the backend
  // would fence it anyway).
  let over = false;
  let settle!: (result: HandlerResult) => void;
  const done = new Promise<HandlerResult>((resolve) => {
    settle = (result) => {
      if (over) return;
      over = true;
      resolve(result);
    };
  });
  const context: HandlerContext = {
    get signal(): AbortSignal {
      controller ??= new AbortController();
      return controller.signal;
    },
    // The queue checks the value (plain JSON, or a JobValidationError).
    progress: (value) => (over ? Promise.resolve() : queue.progress(job, value)),
  };
  const abort = (reason: unknown) => {
    controller ??= new AbortController();
    controller.abort(reason);
  };
  const startedAt = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const end = (outcome: ReservationGone, error: unknown): boolean => {
    if (over) return false;
    clearTimeout(timer);
    abort(error);
    settle({ outcome, error, durationSeconds: secondsSince(startedAt) });
    return true;
  };
  // The handler runs in the job's CONSUMER span, so its own spans (and the jobs it
  // enqueues) join the trace that enqueued it.
  const span = startProcessSpan(job, queue.name);
  let run: Promise<unknown>;
  try {
    run = Promise.resolve(span ? span.run(() => handler(job, context)) : handler(job, context));
  } catch (error) {
    run = Promise.reject(error);
  }
  run.then(
    (value) => {
      clearTimeout(timer);
      settle({ outcome: "completed", value, durationSeconds: secondsSince(startedAt) });
    },
    (error: unknown) => {
      clearTimeout(timer);
      settle({
        outcome: isRateLimitError(error) ? "rate_limited" : "failed",
        error,
        durationSeconds: secondsSince(startedAt),
      });
    },
  );
  if (timeoutSeconds !== undefined && timeoutSeconds > 0 && Number.isFinite(timeoutSeconds)) {
    timer = setTimeout(() => {
      if (over) return;
      const error = new JobTimeoutError(job.name, timeoutSeconds);
      abort(error);
      settle({ outcome: "timeout", error, durationSeconds: secondsSince(startedAt) });
    }, timeoutSeconds * 1000);
  }
  return { job, startedAt, abort, end, done, span };
}

/**
 * Tells the queue how a job ended: ack on success, with the handler's return value as
 * JSON ({@link toJsonResult}) as the result (`null` when the queue refuses it); fail on
 * a throw or a timeout; nothing for a job the worker no longer holds (cancelled or
 * lost: the backend would fence the call).
 */
export async function settleJob(queue: JobQueue, job: Job, result: HandlerResult): Promise<void> {
  switch (result.outcome) {
    case "completed": {
      const value = toJsonResult(result.value);
      if (value === null) return queue.ack(job, { result: null });
      // A result the backend refuses (too large for it, say) must not keep the job from
      // completing, or it would run again: it is kept as null instead.
      return queue.ack(job, { result: value }).catch((error: unknown) => {
        if (!(error instanceof JobValidationError)) throw error;
        return queue.ack(job, { result: null });
      });
    }
    case "failed":
    case "timeout":
      return queue.fail(job, result.error);
    case "rate_limited": {
      const error = result.error as RateLimitError;
      return queue.release(job, { delaySeconds: error.retryAfterSeconds, scope: error.scope });
    }
    default:
      return;
  }
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
