import type { Job, JobRef } from "./job.js";
import type { JsonObject, JsonPayload } from "./json.js";

/** Options of one enqueue. */
export interface EnqueueOptions {
  /** Seconds before the job becomes reservable. @default 0 */
  delaySeconds?: number;
  /** Attempts before the job moves to the dead letter queue. @default 5 */
  maxAttempts?: number;
  /** Base of the linear retry delay (`backoffSeconds * attempts`). @default 60 */
  backoffSeconds?: number;
  /**
   * A second enqueue with the same key within 24 h returns the first job and
   * creates nothing.
   */
  dedupeKey?: string;
}

/** One item of {@link JobQueue.enqueueMany}; `P` is the payload type (see {@link JsonPayload}). */
export interface EnqueueItem<P extends JsonPayload<P> = JsonObject> {
  name: string;
  payload: P;
  opts?: EnqueueOptions;
}

/** Options of {@link JobQueue.reserveNext}. */
export interface ReserveOptions {
  /**
   * Wait up to this many seconds for a job instead of returning `null` at once.
   * The wait wakes on enqueue and when a delayed job falls due, without busy polling.
   * @default 0
   */
  blockSeconds?: number;
  /** Ends a blocking wait early (the call then returns `null`). */
  signal?: AbortSignal;
}

/** Counts of jobs by state. */
export interface QueueStats {
  ready: number;
  delayed: number;
  processing: number;
  dlq: number;
}

/** Options of {@link DeadLetterQueue.list}. */
export interface DlqListOptions {
  /** @default 100 */
  limit?: number;
  /** @default 0 */
  offset?: number;
}

/** The dead letter queue of a {@link JobQueue}: jobs that used up their attempts. */
export interface DeadLetterQueue {
  /** Dead jobs, oldest first, with their `lastError`. */
  list(opts?: DlqListOptions): Promise<Job[]>;
  /** Moves one dead job back to ready with `attempts` reset to 0. False when it is not in the DLQ. */
  requeue(id: string): Promise<boolean>;
  /** Moves every dead job back to ready; returns how many. */
  requeueAll(): Promise<number>;
  /** Deletes every dead job; returns how many. */
  purge(): Promise<number>;
}

/**
 * A job queue backend. Every backend passes the conformance suite in
 * `@svc-jobs/core/testing`, so code written against this interface behaves the same
 * on the in-memory queue and on Redis. The semantics of every method are in the
 * repository's docs/contract.md.
 */
export interface JobQueue {
  /** The visibility timeout of reservations, in seconds. Workers extend long jobs before it ends. */
  readonly visibilityTimeoutSeconds: number;

  /**
   * Adds a job. Validates everything before writing; throws `JobValidationError` on bad input.
   *
   * `P` is the payload type: a {@link JsonObject}, or an interface or type alias whose
   * fields are JSON-compatible (see {@link JsonPayload}).
   *
   * @example
   * ```ts
   * interface EmailPayload { to: string; subject: string }
   * const job = await queue.enqueue<EmailPayload>("send_email", { to, subject });
   * ```
   */
  enqueue<P extends JsonPayload<P> = JsonObject>(
    name: string,
    payload: P,
    opts?: EnqueueOptions,
  ): Promise<Job<P>>;

  /**
   * Adds many jobs (one round trip where the backend allows), in order. All are
   * validated first. Payloads are typed like {@link JobQueue.enqueue}'s.
   */
  enqueueMany<P extends JsonPayload<P> = JsonObject>(items: EnqueueItem<P>[]): Promise<Job[]>;

  /**
   * Reserves the next due job: moves it to processing, increments `attempts` and
   * hides it for the visibility timeout. `null` when none is due (after waiting up to
   * `blockSeconds`).
   */
  reserveNext(opts?: ReserveOptions): Promise<Job | null>;

  /**
   * Optional: reserves up to `count` due jobs in one call (fewer when fewer are due),
   * each exactly as {@link reserveNext} would; with `blockSeconds`, waits until at least
   * one is due. `WorkerRunner` uses it to fill several free slots at once and falls back
   * to one `reserveNext` per slot on backends without it.
   */
  reserveMany?(count: number, opts?: ReserveOptions): Promise<Job[]>;

  /**
   * Completes a reserved job and deletes it. With a `Job`, the attempt number fences
   * the call: a late ack from an expired reservation changes nothing.
   */
  ack(job: JobRef): Promise<void>;

  /**
   * Records a failed attempt: `lastError` is the error's message; the job is retried
   * after the backoff, or moves to the DLQ once `attempts >= maxAttempts`. Fenced like `ack`.
   */
  fail(job: JobRef, error?: unknown): Promise<void>;

  /** Hands a reserved job back to the front of ready without counting the attempt (used on shutdown). Fenced like `ack`. */
  release(job: JobRef): Promise<void>;

  /** Moves a reserved job's visibility deadline to `now + seconds`. Fenced like `ack`. */
  extendVisibility(job: JobRef, seconds: number): Promise<void>;

  /** Counts of jobs by state. */
  stats(): Promise<QueueStats>;

  /** The dead letter queue. */
  readonly dlq: DeadLetterQueue;

  /** Releases what the queue opened itself; never the client the caller passed in. */
  close(): Promise<void>;
}
