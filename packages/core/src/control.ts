import { JobsError } from "./errors.js";
import type { Job } from "./job.js";
import type { JsonObject, JsonPayload, JsonValue } from "./json.js";

// Seeing and controlling jobs: the types of the inspection and control surface of every
// JobQueue (getJob, listJobs, cancel, pause, events, progress, retention). The semantics
// are in docs/contract.md, "Seeing and controlling jobs".

/** Where a job is. Every backend reports the same states. */
export type JobState = "ready" | "delayed" | "processing" | "completed" | "dead" | "cancelled";

/** Every {@link JobState}, in the order a job usually passes through them. */
export const JOB_STATES: readonly JobState[] = Object.freeze([
  "delayed",
  "ready",
  "processing",
  "completed",
  "dead",
  "cancelled",
] as const);

/** A job as {@link JobQueue.getJob} and {@link JobQueue.listJobs} see it: the job and its state. */
export interface JobInfo<P extends JsonPayload<P> = JsonObject> extends Job<P> {
  state: JobState;
  /** Higher runs first; 0 unless the enqueue gave one. */
  priority: number;
  /** The enqueue's `group`, or `null`. */
  group: string | null;
  /** When the job was enqueued. */
  createdAt: Date;
  /** When it completed or was cancelled; `null` while it is not finished. */
  finishedAt: Date | null;
  /** The latest value a handler reported with `ctx.progress(value)`, or `null`. */
  progress: JsonValue | null;
  /** A completed job's result (the handler's JSON return value), or `null`. */
  result: JsonValue | null;
}

/** Options of {@link JobQueue.listJobs}. */
export interface ListJobsOptions {
  /** The state to list. */
  state: JobState;
  /** Only jobs of this name. */
  name?: string;
  /** Jobs per page, 1 to 1,000. @default 50 */
  limit?: number;
  /** The `cursor` of the previous page; absent or `null` for the first page. */
  cursor?: string | null;
}

/** One page of {@link JobQueue.listJobs}: `cursor` is `null` on the last page. */
export interface JobPage<P extends JsonPayload<P> = JsonObject> {
  jobs: JobInfo<P>[];
  cursor: string | null;
}

/** Options of {@link JobQueue.cancel}. */
export interface CancelOptions {
  /** Why, recorded on the `cancelled` event and given to a running handler's signal. */
  reason?: string;
}

/** Options of {@link JobQueue.ack}. */
export interface AckOptions {
  /** The handler's result, kept with the job when the queue keeps completed jobs. */
  result?: JsonValue;
}

/** What happened to a job, as {@link JobQueue.events} reports it. */
export type JobEventType =
  | "enqueued"
  | "reserved"
  | "progress"
  | "completed"
  | "retrying"
  | "dead"
  | "cancelled"
  | "expired";

/** Every {@link JobEventType}. */
export const JOB_EVENT_TYPES: readonly JobEventType[] = Object.freeze([
  "enqueued",
  "reserved",
  "progress",
  "completed",
  "retrying",
  "dead",
  "cancelled",
  "expired",
] as const);

/** One event of a queue's event stream. */
export interface JobEvent {
  /** The event's id in the stream: pass it as `after` to resume behind it. */
  id: string;
  type: JobEventType;
  jobId: string;
  /** The job's name. */
  name: string;
  /** When it happened (the queue's clock). */
  at: Date;
  /** The attempt: `reserved`, `retrying`, `dead`, `expired`, `completed`. */
  attempt?: number;
  /** The error message: `retrying`, `dead`, `expired`. */
  error?: string;
  /** The value reported: `progress`. */
  progress?: JsonValue;
  /** The job's result: `completed`. */
  result?: JsonValue;
  /** Why: `cancelled`. */
  reason?: string;
  /** Seconds until the job is due: `enqueued` (0 when ready now) and `retrying`. */
  delaySeconds?: number;
  /** The job's priority: `enqueued`. */
  priority?: number;
}

/** Options of {@link JobQueue.events}. */
export interface EventsOptions {
  /** Ends the iteration (the loop just stops; nothing is thrown). */
  signal?: AbortSignal;
  /**
   * Resume behind this event id: every later event still held is delivered first, with
   * no gap. Without it the iterator starts with the next event.
   */
  after?: string;
}

/**
 * Which of a worker's reservations it no longer holds, from
 * {@link JobQueue.checkReservations}: `cancelled` (someone called `cancel`) or `lost`
 * (the reservation expired and the job moved on, or it is gone).
 */
export interface ReservationCheck {
  id: string;
  status: "cancelled" | "lost";
  /** A cancelled job's `cancel(id, { reason })`, when the backend still has it. */
  reason?: string | null;
}

/**
 * How many finished jobs a queue keeps (`keepCompleted`, `keepCancelled`): `false`
 * (none, the default), `true` (all), or at most `count` and none older than
 * `ageSeconds`.
 */
export type RetentionOption = boolean | { count?: number; ageSeconds?: number };

/**
 * The reason a cancelled job's handler sees on its `AbortSignal`: `signal.reason` is a
 * `JobCancelledError`. Whatever the handler does next, its job ends `cancelled`.
 */
export class JobCancelledError extends JobsError {
  readonly jobId: string;
  readonly reason: string | null;

  constructor(jobId: string, reason?: string | null) {
    super(
      `job ${jobId} was cancelled${reason ? `: ${reason}` : ""}; its result is discarded and it is not retried`,
      { code: "ERR_JOB_CANCELLED" },
    );
    this.jobId = jobId;
    this.reason = reason ?? null;
  }
}
