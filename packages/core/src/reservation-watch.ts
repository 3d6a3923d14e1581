import type { ReservationCheck } from "./control.js";
import { describeValue } from "./describe-value.js";
import { JobValidationError } from "./errors.js";
import type { Job } from "./job.js";
import type { JobQueue } from "./job-queue.js";

/** How often a worker asks the queue whether its running jobs were cancelled, in seconds. */
export const DEFAULT_CANCEL_CHECK_SECONDS = 0.5;

/** The least `cancelCheckSeconds`: a check is one backend call. */
const MIN_CANCEL_CHECK_SECONDS = 0.01;

/**
 * Checks a worker's `cancelCheckSeconds` option: a number of seconds >= 0.01, or
 * `Infinity` (never check). Returns it.
 */
export function validateCancelCheckSeconds(value: unknown, field = "cancelCheckSeconds"): number {
  if (
    typeof value === "number" &&
    (value === Number.POSITIVE_INFINITY ||
      (Number.isFinite(value) && value >= MIN_CANCEL_CHECK_SECONDS))
  ) {
    return value;
  }
  throw new JobValidationError(
    field,
    `${field} must be a number of seconds >= ${MIN_CANCEL_CHECK_SECONDS} (fractions allowed), or Infinity to never check, got ${describeValue(value)}`,
  );
}

/** Why a watched job is no longer held: someone cancelled it, or its reservation was lost. */
export type ReservationGone = ReservationCheck["status"];

/** One job being watched; the handle {@link ReservationWatch.add} returns. */
export interface WatchedJob {
  readonly job: Job;
  /** Called at most once, when the queue says the worker no longer holds the job. */
  readonly onGone: (status: ReservationGone, reason: string | null) => void;
}

/**
 * Asks the queue, every `intervalSeconds` while jobs run, which of them the worker no
 * longer holds (`checkReservations`), in one call for all of them, and tells each
 * job's owner. It makes no call while nothing is watched, at most one call at a time,
 * and its timer never keeps the process alive (docs/contract.md, "Seeing and
 * controlling jobs": a worker finds out about a cancel within a second).
 *
 * A job reserved again while an older reservation of it is still watched makes the
 * older one `lost` at once: only one reservation of a job is held at a time.
 */
export class ReservationWatch {
  readonly #queue: JobQueue;
  readonly #intervalMs: number;
  readonly #onError: ((error: unknown) => void) | undefined;
  /** Watched jobs by id. */
  readonly #watched = new Map<string, WatchedJob>();
  /** Jobs whose owner was told already: each hears at most once. */
  readonly #told = new WeakSet<WatchedJob>();
  #timer: NodeJS.Timeout | undefined;
  #checking = false;

  /**
   * `intervalSeconds`: `Infinity` watches nothing. A queue without `checkReservations`
   * (a backend written before it existed) is not watched either.
   */
  constructor(queue: JobQueue, intervalSeconds: number, onError?: (error: unknown) => void) {
    this.#queue = queue;
    this.#intervalMs =
      Number.isFinite(intervalSeconds) && typeof queue.checkReservations === "function"
        ? intervalSeconds * 1000
        : Number.POSITIVE_INFINITY;
    this.#onError = onError;
  }

  /** Jobs watched now. */
  get size(): number {
    return this.#watched.size;
  }

  /** Watches `job` until {@link delete}; `onGone` hears when the queue says it is not held. */
  add(job: Job, onGone: (status: ReservationGone, reason: string | null) => void): WatchedJob {
    const watched: WatchedJob = { job, onGone };
    if (this.#intervalMs === Number.POSITIVE_INFINITY) return watched;
    const older = this.#watched.get(job.id);
    this.#watched.set(job.id, watched);
    if (older) this.#tell(older, "lost", null);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => void this.#check(), this.#intervalMs);
      this.#timer.unref();
    }
    return watched;
  }

  /**
   * Stops watching a job (its handler finished). The timer stops at its next tick with
   * nothing to watch, not at once: a busy worker's jobs come and go without a timer each.
   */
  delete(watched: WatchedJob): void {
    if (this.#watched.get(watched.job.id) === watched) this.#watched.delete(watched.job.id);
  }

  /** Stops the timer (it starts again with the next `add`). */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tell(watched: WatchedJob, status: ReservationGone, reason: string | null): void {
    if (this.#told.has(watched)) return;
    this.#told.add(watched);
    try {
      watched.onGone(status, reason);
    } catch (error) {
      this.#onError?.(error);
    }
  }

  async #check(): Promise<void> {
    if (this.#watched.size === 0) return this.close();
    if (this.#checking) return;
    this.#checking = true;
    // What was asked about: an answer names jobs by id, and a job finishing meanwhile
    // still hears it (its ack was sent after this check, so the backend fenced it).
    const asked = new Map(this.#watched);
    try {
      const answer = await this.#queue.checkReservations([...asked.values()].map(({ job }) => job));
      if (!Array.isArray(answer)) return;
      for (const item of answer) {
        const watched = item ? asked.get(item.id) : undefined;
        if (!watched || (item.status !== "cancelled" && item.status !== "lost")) continue;
        if (this.#watched.get(item.id) === watched) this.#watched.delete(item.id);
        this.#tell(watched, item.status, typeof item.reason === "string" ? item.reason : null);
      }
    } catch (error) {
      this.#onError?.(error);
    } finally {
      this.#checking = false;
    }
  }
}
