import { JobCancelledError } from "./control.js";
import { resolveTimeoutSeconds } from "./default-timeout.js";
import { JobValidationError, WorkerStoppedError } from "./errors.js";
import type { JobHandler } from "./handler.js";
import type { Job } from "./job.js";
import type { JobQueue, ReserveOptions } from "./job-queue.js";
import type { JsonObject, JsonPayload } from "./json.js";
import { type KnownKeys, rejectUnknownKeys } from "./reject-unknown-keys.js";
import { ReservationLostError } from "./reservation-lost-error.js";
import {
  DEFAULT_CANCEL_CHECK_SECONDS,
  type ReservationGone,
  ReservationWatch,
  validateCancelCheckSeconds,
  type WatchedJob,
} from "./reservation-watch.js";
import {
  type HandlerResult,
  type JobSettledEvent,
  type JobSettledHook,
  type RunningJob,
  secondsSince,
  settledEvent,
  settledHooks,
  settleJob,
  startJob,
} from "./run-job.js";
import { validateInteger, validateSeconds } from "./validate.js";

const WORKER_OPTIONS: KnownKeys = {
  keys: [
    "pollIntervalSeconds",
    "concurrency",
    "timeoutSeconds",
    "heartbeatSeconds",
    "cancelCheckSeconds",
    "maxJobs",
    "onJobSettled",
    "onError",
  ],
  hints: {
    pollInterval: "pollIntervalSeconds",
    pollIntervalMs: "pollIntervalSeconds (in seconds)",
    timeout: "timeoutSeconds",
    timeoutMs: "timeoutSeconds (in seconds)",
    heartbeat: "heartbeatSeconds",
    heartbeatInterval: "heartbeatSeconds",
    cancelCheck: "cancelCheckSeconds",
    cancelCheckInterval: "cancelCheckSeconds",
    cancelCheckMs: "cancelCheckSeconds (in seconds)",
    checkIntervalSeconds: "cancelCheckSeconds",
    cancelPollSeconds: "cancelCheckSeconds",
    parallelism: "concurrency",
    limit: "maxJobs",
  },
  noun: "WorkerRunner option",
};

const STOP_OPTIONS: KnownKeys = {
  keys: ["graceSeconds"],
  hints: { grace: "graceSeconds", timeout: "graceSeconds", graceMs: "graceSeconds (in seconds)" },
  noun: "stop option",
};

/** Jobs asked for in one `reserveMany` call at most: keeps each reserve script short. */
const MAX_RESERVE_BATCH = 100;

/** Options of {@link WorkerRunner}. */
export interface WorkerRunnerOptions {
  /**
   * How long one idle wait for a job lasts, in seconds. The wait blocks and wakes
   * at once when a job arrives, so this bounds idle traffic, not pickup latency.
   * @default 0.5
   */
  pollIntervalSeconds?: number;
  /** Jobs run at the same time. @default 1 */
  concurrency?: number;
  /**
   * Handler timeout in seconds: past it the handler's AbortSignal fires and the job
   * fails with `JobTimeoutError` (outcome `timeout`). The worker is the only owner of
   * a job's timeout: a registry's handler adds no timer of its own.
   * @default the handler's `timeoutSeconds` (e.g. `registry.asHandler({ timeoutSeconds })`), else `JOB_DEFAULT_TIMEOUT_SECONDS`, else none
   */
  timeoutSeconds?: number;
  /**
   * How often running jobs extend their visibility, in seconds.
   * @default a third of the queue's visibility timeout
   */
  heartbeatSeconds?: number;
  /**
   * How often, while jobs run, the worker asks the queue (`checkReservations`, one call
   * for all of its running jobs; none while idle) whether they were cancelled or their
   * reservations lost. A cancelled job's signal then fires with a `JobCancelledError`
   * (outcome `cancelled`), a lost one's with a `ReservationLostError` (outcome `lost`);
   * either way the worker stops waiting for it and discards its result. `Infinity`:
   * never ask (a cancelled job then runs to its end and the backend fences its ack).
   * @default 0.5
   */
  cancelCheckSeconds?: number;
  /** Stop after this many jobs were taken (and finished). @default unlimited */
  maxJobs?: number;
  /**
   * Called once per job, after the queue was told how it ended (acked, failed or handed
   * back; for `cancelled` and `lost`, once the worker let go of it), whatever the
   * handler: logs and metrics subscribe here. A handler with an
   * `onJobSettled` of its own (a `JobRegistry`'s `asHandler()`) gets the same event
   * right after. An error thrown here goes to `onError` (phase `settle`).
   */
  onJobSettled?: (event: JobSettledEvent) => void;
  /**
   * Called on a backend error in the worker loop; the loop backs off and carries on.
   * Phase `check`: a `checkReservations` call failed (the next check asks again).
   */
  onError?: (
    error: unknown,
    context: { phase: "reserve" | "settle" | "heartbeat" | "release" | "check"; job?: Job },
  ) => void;
}

/** Options of {@link WorkerRunner.stop}. */
export interface StopOptions {
  /** Seconds to let running jobs finish before they are aborted and handed back. @default 10 */
  graceSeconds?: number;
}

/** A reserved job, from reserve until the queue has been told how it ended. */
interface Slot {
  running: RunningJob;
  /** Set once the handler has finished (its ack/fail may still be on its way). */
  handlerDone: boolean;
  /** Set when the job was handed back on stop: its late outcome is ignored. */
  released: boolean;
  /** Its entry in the reservation watch, while the handler runs. */
  watched: WatchedJob | undefined;
  /**
   * Set when the queue said the worker no longer holds the job (cancelled, or the
   * reservation lost): nothing is acked or failed after that, and this is the outcome.
   */
  gone: { outcome: ReservationGone; error: unknown } | undefined;
}

/**
 * Runs a handler over a queue: reserves jobs up to `concurrency`, runs them with a
 * timeout and an AbortSignal, acks them (the handler's return value, as JSON, is the
 * job's result) or fails them, keeps long jobs' reservations alive, aborts the jobs
 * that are cancelled while they run, and shuts down gracefully.
 *
 * `P` is the payload type the handler expects, e.g. `new WorkerRunner<EmailPayload>(...)`;
 * the queue does not check that reserved jobs have it.
 *
 * @example
 * ```ts
 * const runner = new WorkerRunner(queue, handler, { concurrency: 10 });
 * const done = runner.start();
 * process.on("SIGTERM", () => runner.stop({ graceSeconds: 30 }));
 * await done;
 * ```
 */
export class WorkerRunner<P extends JsonPayload<P> = JsonObject> {
  readonly #queue: JobQueue;
  readonly #handler: JobHandler;
  readonly #pollIntervalSeconds: number;
  readonly #concurrency: number;
  readonly #timeoutSeconds: number | undefined;
  readonly #heartbeatSeconds: number;
  readonly #maxJobs: number;
  readonly #settledHooks: JobSettledHook[];
  readonly #onError: WorkerRunnerOptions["onError"];

  /** Reserved jobs not yet acked, failed or handed back. */
  #slots = new Set<Slot>();
  /** Handlers running now: what `concurrency` limits. */
  #busy = 0;
  #slotFreed: (() => void) | undefined;
  #drained: (() => void)[] = [];
  #reserveOptions: { blockSeconds: number; signal: AbortSignal } | undefined;
  #taken = 0;
  #running: Promise<void> | undefined;
  #stopping = false;
  #stopController = new AbortController();
  #heartbeat: NodeJS.Timeout | undefined;
  readonly #watch: ReservationWatch;

  constructor(queue: JobQueue, handler: JobHandler<P>, options: WorkerRunnerOptions = {}) {
    if (typeof handler !== "function") {
      throw new JobValidationError(
        "handler",
        `WorkerRunner needs a handler function (job, { signal }) => ..., got ${handler === null ? "null" : typeof handler}: pass e.g. async (job) => { ... } or registry.asHandler()`,
      );
    }
    rejectUnknownKeys(options, WORKER_OPTIONS, "options");
    this.#queue = queue;
    this.#handler = handler as unknown as JobHandler;
    this.#pollIntervalSeconds = validateSeconds(
      "pollIntervalSeconds",
      options.pollIntervalSeconds ?? 0.5,
      0.001,
    );
    this.#concurrency = validateInteger("concurrency", options.concurrency ?? 1, 1);
    this.#timeoutSeconds = resolveTimeoutSeconds(options.timeoutSeconds, handler);
    this.#heartbeatSeconds = validateSeconds(
      "heartbeatSeconds",
      options.heartbeatSeconds ?? queue.visibilityTimeoutSeconds / 3,
      0.001,
    );
    this.#maxJobs =
      options.maxJobs === undefined
        ? Number.POSITIVE_INFINITY
        : validateInteger("maxJobs", options.maxJobs, 1);
    const cancelCheckSeconds = validateCancelCheckSeconds(
      options.cancelCheckSeconds ?? DEFAULT_CANCEL_CHECK_SECONDS,
    );
    this.#settledHooks = settledHooks(options.onJobSettled, this.#handler);
    this.#onError = options.onError;
    this.#watch = new ReservationWatch(queue, cancelCheckSeconds, (error) =>
      this.#onError?.(error, { phase: "check" }),
    );
  }

  /** Jobs running now. */
  get activeCount(): number {
    return this.#busy;
  }

  /** Jobs taken since start. */
  get processedCount(): number {
    return this.#taken;
  }

  /** True between `start()` and the end of the loop. */
  get isRunning(): boolean {
    return this.#running !== undefined && !this.#stopping;
  }

  /** Starts the loop. The returned promise settles once the runner has stopped. */
  start(): Promise<void> {
    if (!this.#running) {
      this.#running = this.#loop().finally(() => {
        clearInterval(this.#heartbeat);
        this.#heartbeat = undefined;
        this.#watch.close();
      });
    }
    return this.#running;
  }

  /**
   * Stops taking jobs and waits up to `graceSeconds` for running ones. Jobs still
   * running then get their AbortSignal fired and are handed back to the queue
   * (not lost, not acked). Resolves when the runner has stopped.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    rejectUnknownKeys(options, STOP_OPTIONS, "options");
    const graceSeconds = validateSeconds("graceSeconds", options.graceSeconds ?? 10);
    if (!this.#stopping) {
      this.#stopping = true;
      this.#stopController.abort(new WorkerStoppedError("worker is stopping"));
      this.#slotFreed?.();
    }
    if (!this.#running) return;
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<"grace">((resolve) => {
      timer = setTimeout(() => resolve("grace"), graceSeconds * 1000);
    });
    const first = await Promise.race([this.#whenDrained().then(() => "done" as const), graceOver]);
    clearTimeout(timer);
    if (first === "grace") {
      await Promise.all([...this.#slots].map((slot) => this.#handBack(slot)));
    }
    await this.#running;
  }

  async #loop(): Promise<void> {
    this.#heartbeat = setInterval(() => this.#beat(), this.#heartbeatSeconds * 1000);
    this.#reserveOptions = {
      blockSeconds: this.#pollIntervalSeconds,
      signal: this.#stopController.signal,
    };
    let errorDelay = 0;
    while (!this.#stopping && this.#taken < this.#maxJobs) {
      const free = Math.min(this.#concurrency - this.#busy, this.#maxJobs - this.#taken);
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          this.#slotFreed = resolve;
        });
        this.#slotFreed = undefined;
        continue;
      }
      let jobs: Job[];
      try {
        jobs = await this.#reserve(free);
        errorDelay = 0;
      } catch (error) {
        if (this.#stopping) break;
        this.#onError?.(error, { phase: "reserve" });
        errorDelay = Math.min(5, Math.max(this.#pollIntervalSeconds, errorDelay * 2 || 0.1));
        await sleep(errorDelay, this.#stopController.signal);
        continue;
      }
      if (jobs.length === 0) continue;
      if (this.#stopping) {
        // Reserved in the same instant as stop(): give them straight back.
        await Promise.all(
          jobs.map((job) =>
            this.#queue
              .release(job)
              .catch((error) => this.#onError?.(error, { phase: "release", job })),
          ),
        );
        break;
      }
      for (const job of jobs) {
        this.#taken++;
        this.#launch(job);
      }
    }
    await this.#whenDrained();
  }

  /**
   * Reserves up to `free` jobs: in one call when the backend has `reserveMany` and
   * several slots are free, so a busy worker fills its slots without a round trip each.
   */
  async #reserve(free: number): Promise<Job[]> {
    const opts = this.#reserveOptions as ReserveOptions;
    if (free > 1 && typeof this.#queue.reserveMany === "function") {
      return this.#queue.reserveMany(Math.min(free, MAX_RESERVE_BATCH), opts);
    }
    const job = await this.#queue.reserveNext(opts);
    return job ? [job] : [];
  }

  /** Resolves once every reserved job has been settled with the queue or handed back. */
  #whenDrained(): Promise<void> {
    if (this.#slots.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  #launch(job: Job): void {
    const slot: Slot = {
      running: startJob(job, this.#handler, this.#timeoutSeconds, this.#queue),
      handlerDone: false,
      released: false,
      watched: undefined,
      gone: undefined,
    };
    this.#slots.add(slot);
    this.#busy++;
    slot.watched = this.#watch.add(job, (status, reason) => this.#gone(slot, status, reason));
    slot.running.done.then((result) => this.#finish(slot, result));
  }

  /**
   * The queue says the worker no longer holds a job: fire its signal and stop waiting
   * for it. A job whose handler has finished meanwhile keeps its ack or fail on its
   * way (fenced by the backend) and is reported with this outcome.
   */
  #gone(slot: Slot, status: ReservationGone, reason: string | null): void {
    if (slot.released || slot.gone || !this.#slots.has(slot)) return;
    const { job } = slot.running;
    const error =
      status === "cancelled"
        ? new JobCancelledError(job.id, reason)
        : new ReservationLostError(job.id);
    slot.gone = { outcome: status, error };
    slot.running.end(status, error);
  }

  async #finish(slot: Slot, result: HandlerResult): Promise<void> {
    if (slot.watched) this.#watch.delete(slot.watched);
    if (slot.released) {
      this.#handlerEnded(slot);
      return;
    }
    const { job } = slot.running;
    if (slot.gone) {
      // Cancelled or lost before the handler's result was in: nothing to tell the queue.
      this.#handlerEnded(slot);
      const { outcome, error } = slot.gone;
      this.#settled(slot, settledEvent(job, outcome, result.durationSeconds, error));
      this.#remove(slot);
      return;
    }
    // Send the ack/fail first, then free the slot: the next reserve then goes out right
    // behind it (pipelined on the same connection) instead of a round trip later.
    const settled = settleJob(this.#queue, job, result);
    this.#handlerEnded(slot);
    try {
      // A lost ack means a second run after the visibility timeout, so keep trying
      // (through a Redis restart, say) while the reservation can still be ours.
      await settled.catch(() =>
        withRetries(() => settleJob(this.#queue, job, result), this.#settleWindowSeconds()),
      );
    } catch (error) {
      slot.running.span?.settleFailed(result.outcome, error);
      this.#onError?.(error, { phase: "settle", job });
      this.#remove(slot);
      return;
    }
    // A check sent before the ack may answer after it: the job was cancelled or lost
    // before the ack reached the backend, which fenced it.
    const ended = (slot.gone as Slot["gone"]) ?? result;
    const outcome = ended.outcome;
    const error = ended.error;
    this.#settled(slot, settledEvent(job, outcome, result.durationSeconds, error));
    this.#remove(slot);
  }

  #handlerEnded(slot: Slot): void {
    if (slot.handlerDone) return;
    slot.handlerDone = true;
    this.#busy--;
    this.#slotFreed?.();
  }

  #remove(slot: Slot): void {
    if (this.#slots.delete(slot) && this.#slots.size === 0) {
      const waiters = this.#drained;
      this.#drained = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Aborts a job that outlived the grace period and hands it back; its late outcome is ignored. */
  async #handBack(slot: Slot): Promise<void> {
    // A job whose handler finished is being acked or failed already.
    if (slot.released || slot.handlerDone || slot.gone) return;
    slot.released = true;
    if (slot.watched) this.#watch.delete(slot.watched);
    const { job, startedAt } = slot.running;
    slot.running.abort(new WorkerStoppedError());
    try {
      await withRetries(() => this.#queue.release(job), 2);
    } catch (error) {
      slot.running.span?.settleFailed("released", error);
      this.#onError?.(error, { phase: "release", job });
      this.#remove(slot);
      return;
    }
    this.#settled(slot, settledEvent(job, "released", secondsSince(startedAt)));
    this.#remove(slot);
  }

  /**
   * Ends the job's span with its outcome, then calls every `onJobSettled` hook once with
   * the event; a throwing hook goes to onError.
   */
  #settled(slot: Slot, event: JobSettledEvent): void {
    slot.running.span?.end(event.outcome, event.error);
    for (const hook of this.#settledHooks) {
      try {
        hook(event);
      } catch (error) {
        this.#onError?.(error, { phase: "settle", job: event.job });
      }
    }
  }

  /** How long to keep retrying an ack or fail: most of a reservation, at most 15 s. */
  #settleWindowSeconds(): number {
    return Math.min(15, Math.max(1, this.#queue.visibilityTimeoutSeconds * 0.8));
  }

  #beat(): void {
    const seconds = this.#queue.visibilityTimeoutSeconds;
    for (const slot of this.#slots) {
      if (slot.released || slot.handlerDone || slot.gone) continue;
      const { job } = slot.running;
      this.#queue
        .extendVisibility(job, seconds)
        .catch((error) => this.#onError?.(error, { phase: "heartbeat", job }));
    }
  }
}

/** Calls `fn` until it succeeds, backing off from 0.1 s to 2 s, for up to `windowSeconds`. */
async function withRetries(fn: () => Promise<void>, windowSeconds: number): Promise<void> {
  const deadline = Date.now() + windowSeconds * 1000;
  let delay = 0.1;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() + delay * 1000 > deadline) throw error;
      await sleep(delay);
      delay = Math.min(2, delay * 2);
    }
  }
}

function sleep(seconds: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, seconds * 1000);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
