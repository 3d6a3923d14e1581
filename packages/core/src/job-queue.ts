import type {
  AckOptions,
  CancelOptions,
  EventsOptions,
  JobEvent,
  JobInfo,
  JobPage,
  JobState,
  ListJobsOptions,
  ReservationCheck,
} from "./control.js";
import type {
  FlowLimits,
  GroupLimits,
  RateLimit,
  ReleaseOptions,
  SetGroupLimitsOptions,
} from "./flow-control.js";
import type { Job, JobRef } from "./job.js";
import type { JobTraceContext } from "./job-trace-context.js";
import type { JsonObject, JsonPayload, JsonValue } from "./json.js";

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
  /**
   * An integer; **higher runs first**, FIFO within one priority. A delayed or retried job
   * that falls due takes its place by its priority. @default 0
   */
  priority?: number;
  /**
   * The job's group (a tenant, a customer): groups are served round-robin, so one group's
   * backlog never delays another's jobs, and `setGroupLimits` limits each group's
   * concurrency and rate (docs/contract.md, "Flow control").
   */
  group?: string | null;
  /**
   * The W3C trace context to record on the job instead of the enqueue span's: for a relay
   * that moves work written earlier (the webhooks outbox passes the context of the
   * transaction that wrote each message), so the job joins that trace (docs/tracing.md).
   * @default the context of the enqueue's producer span, when `@opentelemetry/api` is installed
   */
  traceContext?: JobTraceContext | null;
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

/** Counts of jobs by state, and whether the queue is paused. */
export interface QueueStats {
  ready: number;
  delayed: number;
  processing: number;
  dlq: number;
  /** Completed jobs the queue keeps (`keepCompleted`); 0 when it keeps none. */
  completed: number;
  /** Cancelled jobs the queue keeps (`keepCancelled`); 0 when it keeps none. */
  cancelled: number;
  /** Whether `pause()` is in force: workers reserve nothing until `resume()`. */
  paused: boolean;
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
   * The queue's name in telemetry: the `messaging.destination.name` of its trace spans
   * (docs/tracing.md). `RedisJobQueue`: its key prefix; `InMemoryJobQueue`: `"memory"`.
   * @default "default" when a backend has none
   */
  readonly name?: string;

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
   * Completes a reserved job: deletes it, or keeps it `completed` with `opts.result` when
   * the queue keeps completed jobs (`keepCompleted`). With a `Job`, the attempt number
   * fences the call: a late ack from an expired or cancelled reservation changes nothing.
   */
  ack(job: JobRef, opts?: AckOptions): Promise<void>;

  /**
   * Records a failed attempt: `lastError` is the error's message; the job is retried
   * after the backoff, or moves to the DLQ once `attempts >= maxAttempts`. Fenced like `ack`.
   */
  fail(job: JobRef, error?: unknown): Promise<void>;

  /**
   * Hands a reserved job back without counting the attempt: to the front of its priority
   * (used on shutdown), or with `delaySeconds` after that long; with `scope: "group"` or
   * `"queue"` its group or the whole queue waits that long too (a handler's
   * `RateLimitError`). Fenced like `ack`.
   */
  release(job: JobRef, opts?: ReleaseOptions): Promise<void>;

  /** Moves a reserved job's visibility deadline to `now + seconds`. Fenced like `ack`. */
  extendVisibility(job: JobRef, seconds: number): Promise<void>;

  /** Counts of jobs by state, and whether the queue is paused. */
  stats(): Promise<QueueStats>;

  // ---- seeing and controlling jobs (docs/contract.md, "Seeing and controlling jobs") ----

  /** One job with its state, or `null` when the queue does not know the id (or no longer keeps it). */
  getJob(id: string): Promise<JobInfo | null>;

  /**
   * A page of the jobs in one state, optionally of one name. Pass the returned `cursor`
   * to get the next page: paging never skips or repeats a job that stays in the state
   * while the queue changes underneath.
   */
  listJobs(opts: ListJobsOptions): Promise<JobPage>;

  /** How many jobs of each name are in `state`. */
  countByName(state: JobState): Promise<Record<string, number>>;

  /**
   * Cancels a job: a ready or delayed job leaves the queue `cancelled` at once; a
   * processing job ends `cancelled` and the worker holding it sees its handler's
   * `AbortSignal` fire (a {@link JobCancelledError}) within a second. Never retried,
   * never dead. False for an unknown or finished job.
   */
  cancel(id: string, opts?: CancelOptions): Promise<boolean>;

  /**
   * Pauses the queue, in the backend: every worker process reserves nothing (blocking
   * reserves keep waiting) until `resume()`, also across restarts. Running jobs finish;
   * enqueue keeps working.
   */
  pause(): Promise<void>;
  /** Ends a pause; waiting workers wake at once. */
  resume(): Promise<void>;
  /** Whether the queue is paused. */
  isPaused(): Promise<boolean>;

  /**
   * The queue's events, from every process that uses it, as an async iterable. Ends when
   * `opts.signal` aborts or the queue closes. `after` resumes behind an event id.
   */
  events(opts?: EventsOptions): AsyncIterable<JobEvent>;

  /**
   * Records a running job's progress (any JSON value): kept on `JobInfo.progress` and
   * emitted as a `progress` event. Fenced like `ack`: a stale reservation changes nothing.
   */
  progress(job: JobRef, value: JsonValue): Promise<void>;

  /**
   * For workers: which of these reserved jobs the caller no longer holds, because they
   * were cancelled or their reservation was lost. `WorkerRunner` calls it while jobs
   * run and aborts their handlers' signals. Jobs still held are not listed.
   */
  checkReservations(jobs: JobRef[]): Promise<ReservationCheck[]>;

  /**
   * Makes a delayed job ready now, in its place by its priority. False when the job is not
   * delayed (unknown, ready already, processing or finished).
   */
  promote(id: string): Promise<boolean>;

  // ---- flow control (docs/contract.md, "Flow control") ----

  /**
   * Sets the queue's rate limit, stored in the backend and obeyed by every worker: no span
   * of `perSeconds` sees more than `max` jobs start (an exact sliding window). `null`
   * removes it.
   */
  setRateLimit(limit: RateLimit | null): Promise<void>;

  /**
   * Sets the limits of every group (`enqueue(..., { group })`), or with `opts.group` of one
   * group, replacing the limits of every group for it. `null` removes them.
   */
  setGroupLimits(limits: GroupLimits | null, opts?: SetGroupLimitsOptions): Promise<void>;

  /** The queue's rate limit, group limits and overrides, and any hold, as stored. */
  getLimits(): Promise<FlowLimits>;

  /** The dead letter queue. */
  readonly dlq: DeadLetterQueue;

  /** Releases what the queue opened itself; never the client the caller passed in. */
  close(): Promise<void>;
}
