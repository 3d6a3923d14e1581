import { type Clock, systemClock } from "./clock.js";
import type {
  AckOptions,
  CancelOptions,
  EventsOptions,
  JobEvent,
  JobEventType,
  JobInfo,
  JobPage,
  JobState,
  ListJobsOptions,
  ReservationCheck,
} from "./control.js";
import {
  decodeCursor,
  decodeCursorOf,
  encodeCursor,
  validateAckOptions,
  validateCancelOptions,
  validateEventsOptions,
  validateJobState,
  validateJsonValue,
  validateListJobsOptions,
} from "./control-options.js";
import { createJob } from "./create-job.js";
import { describeValue } from "./describe-value.js";
import { errorMessage, visibilityExpiredMessage } from "./error-message.js";
import { ConfigError, JobValidationError, QueueClosedError } from "./errors.js";
import {
  type FlowLimits,
  type GroupLimits,
  type RateLimit,
  type ReleaseOptions,
  type SetGroupLimitsOptions,
  validateGroupLimits,
  validateRateLimit,
  validateReleaseOptions,
  validateSetGroupLimitsOptions,
} from "./flow-control.js";
import { MinHeap } from "./heap.js";
import { DEDUPE_TTL_SECONDS, type Job, type JobRef } from "./job.js";
import type {
  DeadLetterQueue,
  DlqListOptions,
  EnqueueItem,
  EnqueueOptions,
  JobQueue,
  QueueStats,
  ReserveOptions,
} from "./job-queue.js";
import { traceEnqueue } from "./job-tracing.js";
import type { JsonObject, JsonPayload, JsonValue } from "./json.js";
import { loadOtelApi } from "./load-otel-api.js";
import {
  compareCodePoints,
  type GroupState,
  GroupWaits,
  type ResolvedGroupLimits,
  Rotation,
  resolveGroupLimits,
  resolveRateLimit,
  StartWindow,
  UNGROUPED,
} from "./memory-flow.js";
import { DLQ_LIST_OPTIONS, RESERVE_OPTIONS } from "./option-keys.js";
import { type PreparedEnqueue, prepareEnqueue, prepareEnqueueMany } from "./prepare-enqueue.js";
import { Deque, PriorityReady, type ReadyEntry } from "./priority-ready.js";
import {
  type QueueOptions,
  type ResolvedEvents,
  type ResolvedRetention,
  resolveQueueOptions,
} from "./queue-options.js";
import { rejectUnknownKeys } from "./reject-unknown-keys.js";
import { type RetryStrategy, retryDelaySeconds } from "./retry.js";
import { jobIdOf, validateInteger, validateSeconds } from "./validate.js";

/** Options of {@link InMemoryJobQueue}: the options every queue takes. */
export interface InMemoryJobQueueOptions extends QueueOptions {}

/** A job as the queue keeps it, with where it is and since when. */
interface StoredJob {
  job: Job;
  /** The payload as stored (JSON text), so callers cannot mutate queued data. */
  payloadJson: string;
  state: JobState;
  /** Visibility deadline while processing, due time while delayed (epoch ms). */
  at: number;
  /** Bumped on every state change, so stale heap entries are skipped. */
  version: number;
  priority: number;
  /** The enqueue's group, or null. */
  group: string | null;
  createdAt: number;
  finishedAt: number | null;
  /** JSON text of the latest progress value, or null. */
  progressJson: string | null;
  /** JSON text of a kept completed job's result, or null. */
  resultJson: string | null;
  /** Its place in the ready order while ready. */
  ready: ReadyEntry | null;
  /** Death order while dead, finish order while completed or cancelled. */
  seq: number;
}

/** The finished jobs of one kind (completed or cancelled) the queue keeps, oldest first. */
interface Kept {
  retention: ResolvedRetention | null;
  entries: Deque<{ id: string; seq: number; finishedAt: number }>;
}

/**
 * A complete queue in process memory, for development and tests. It has the same
 * semantics as the Redis backend (visibility timeouts, retries, DLQ, dedupe,
 * blocking reserve, priorities, inspection, cancel, pause, events) and passes the same
 * conformance suite; it does not survive a restart.
 *
 * @example
 * ```ts
 * const queue = new InMemoryJobQueue();
 * await queue.enqueue("send_email", { to: "user@example.com" });
 * await processOne(queue, async (job) => sendEmail(job.payload));
 * ```
 */
export class InMemoryJobQueue implements JobQueue {
  readonly visibilityTimeoutSeconds: number;
  /** `"memory"`: the `messaging.destination.name` of its trace spans (docs/tracing.md). */
  readonly name = "memory";
  readonly dlq: DeadLetterQueue;

  #clock: Clock;
  #retry: RetryStrategy;
  #maxPayloadBytes: number;
  #seq = 0;
  #jobs = new Map<string, StoredJob>();
  #ready = new PriorityReady((entry) => this.#jobs.get(entry.id)?.ready === entry);
  #delayed = new MinHeap<{ id: string; version: number }>();
  #delayedCount = 0;
  #processing = new MinHeap<{ id: string; version: number }>();
  #processingCount = 0;
  /** Dead ids in death order, with their death sequence number. */
  #dead = new Map<string, number>();
  #finishSeq = 0;
  #completed: Kept;
  #cancelled: Kept;
  /**
   * Reservations ended by `cancel`, so `checkReservations` can say "cancelled" for at
   * least the visibility timeout, kept or not (docs/contract.md, "Cancel"). Insertion
   * order is expiry order.
   */
  #cancelledReservations = new Map<
    string,
    { attempts: number; until: number; reason: string | null }
  >();
  #dedupe = new Map<string, { id: string; expiresAt: number }>();
  #waiters = new Set<() => void>();
  #paused = false;
  #closed = false;
  #eventsConfig: ResolvedEvents | null;
  /** The newest events, oldest first; event ids are their sequence numbers. */
  #events = new Deque<JobEvent>();
  #eventSeq = 0;
  #eventWaiters = new Set<() => void>();
  // ---- flow control (docs/contract.md, "Flow control") ----
  #rateLimit: RateLimit | null = null;
  #queueWindow = new StartWindow();
  #queueHoldUntil = 0;
  #groupLimits: GroupLimits | null = null;
  #groupOverrides = new Map<string, GroupLimits>();
  #groups = new Map<string, GroupState>();
  #rotation = new Rotation();
  #groupWaits = new GroupWaits();
  /** The system clock: rate windows get their real-time guard (docs/contract.md, "Flow control"). */
  #realTime: boolean;
  /** Ready jobs with a group (the others are in #ready). */
  #groupedReady = 0;

  constructor(options: InMemoryJobQueueOptions = {}) {
    const resolved = resolveQueueOptions(options);
    this.visibilityTimeoutSeconds = resolved.visibilityTimeoutSeconds;
    this.#clock = resolved.clock;
    this.#realTime = resolved.clock === systemClock;
    this.#retry = resolved.retry;
    this.#maxPayloadBytes = resolved.maxPayloadBytes;
    this.#completed = { retention: resolved.keepCompleted, entries: new Deque() };
    this.#cancelled = { retention: resolved.keepCancelled, entries: new Deque() };
    this.#eventsConfig = resolved.events;
    this.dlq = {
      list: (opts) => this.#dlqList(opts),
      requeue: (id) => this.#dlqRequeue(id),
      requeueAll: () => this.#dlqRequeueAll(),
      purge: () => this.#dlqPurge(),
    };
  }

  async enqueue<P extends JsonPayload<P> = JsonObject>(
    name: string,
    payload: P,
    opts?: EnqueueOptions,
  ): Promise<Job<P>> {
    this.#assertOpen();
    const prepared = prepareEnqueue(name, payload, opts, {
      maxPayloadBytes: this.#maxPayloadBytes,
    });
    // Without @opentelemetry/api the enqueue stays the plain synchronous insert.
    if (loadOtelApi() === undefined) return this.#insert(prepared) as Job<P>;
    const [job] = await traceEnqueue(this.name, [prepared], async () => [this.#insert(prepared)]);
    return job as Job<P>;
  }

  async enqueueMany<P extends JsonPayload<P> = JsonObject>(
    items: EnqueueItem<P>[],
  ): Promise<Job<P>[]> {
    this.#assertOpen();
    const prepared = prepareEnqueueMany(items, { maxPayloadBytes: this.#maxPayloadBytes });
    if (loadOtelApi() === undefined) return prepared.map((p) => this.#insert(p) as Job<P>);
    return (await traceEnqueue(this.name, prepared, async () =>
      prepared.map((p) => this.#insert(p)),
    )) as Job<P>[];
  }

  async reserveNext(opts: ReserveOptions = {}): Promise<Job | null> {
    this.#assertOpen();
    rejectUnknownKeys(opts, RESERVE_OPTIONS, "opts");
    const blockSeconds =
      opts.blockSeconds === undefined ? 0 : validateSeconds("opts.blockSeconds", opts.blockSeconds);
    const job = this.#tryReserve();
    if (job || blockSeconds === 0 || opts.signal?.aborted) return job;

    const deadline = Date.now() + blockSeconds * 1000;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.#closed || opts.signal?.aborted) return null;
      await this.#waitForWork(remaining, opts.signal);
      if (this.#closed) return null;
      const next = this.#tryReserve();
      if (next) return next;
    }
  }

  async ack(job: JobRef, opts?: AckOptions): Promise<void> {
    this.#assertOpen();
    const result = validateAckOptions(opts);
    const stored = this.#fenced(job);
    if (!stored) return;
    const now = this.#clock.now();
    this.#processingCount--;
    this.#leaveActive(stored);
    this.#emit("completed", stored, now, { attempt: stored.job.attempts, result });
    stored.resultJson = JSON.stringify(result);
    this.#finish(stored, "completed", now);
  }

  async fail(job: JobRef, error?: unknown): Promise<void> {
    this.#assertOpen();
    const stored = this.#fenced(job);
    if (!stored) return;
    this.#processingCount--;
    this.#leaveActive(stored);
    stored.job.lastError = errorMessage(error);
    this.#failAttempt(stored, this.#clock.now());
  }

  async release(job: JobRef, opts?: ReleaseOptions): Promise<void> {
    this.#assertOpen();
    const { delaySeconds, scope } = validateReleaseOptions(opts);
    const stored = this.#fenced(job);
    if (!stored) return;
    const now = this.#clock.now();
    this.#processingCount--;
    stored.job.attempts = Math.max(0, stored.job.attempts - 1);
    const until = now + delaySeconds * 1000;
    if (delaySeconds > 0 && scope === "queue") {
      this.#queueHoldUntil = Math.max(this.#queueHoldUntil, until);
    } else if (delaySeconds > 0 && scope === "group" && stored.group !== null) {
      const group = this.#group(stored.group);
      group.holdUntil = Math.max(group.holdUntil, until);
    } else if (delaySeconds > 0) {
      // docs/contract.md, "Flow control": the job alone waits, delayed.
      this.#leaveActive(stored);
      stored.job.availableAt = new Date(until);
      this.#toDelayed(stored, until);
      return;
    }
    this.#leaveActive(stored);
    // docs/contract.md, "Priorities": release puts a job at the front of its priority.
    this.#toReady(stored, true);
    this.#notify();
  }

  async extendVisibility(job: JobRef, seconds: number): Promise<void> {
    this.#assertOpen();
    validateSeconds("seconds", seconds, 0);
    const stored = this.#fenced(job);
    if (!stored) return;
    stored.at = this.#clock.now() + seconds * 1000;
    stored.version++;
    this.#processing.push(stored.at, { id: stored.job.id, version: stored.version });
    if (stored.group !== null) this.#groups.get(stored.group)?.active.set(stored.job.id, stored.at);
  }

  async stats(): Promise<QueueStats> {
    this.#assertOpen();
    this.#housekeep(this.#clock.now());
    return {
      ready: this.#ready.size + this.#groupedReady,
      delayed: this.#delayedCount,
      processing: this.#processingCount,
      dlq: this.#dead.size,
      completed: this.#completed.entries.length,
      cancelled: this.#cancelled.entries.length,
      paused: this.#paused,
    };
  }

  // ---- seeing and controlling jobs (docs/contract.md, "Seeing and controlling jobs") ----

  async getJob(id: string): Promise<JobInfo | null> {
    this.#assertOpen();
    const jobId = jobIdOf(id, "id");
    this.#housekeep(this.#clock.now());
    const stored = this.#jobs.get(jobId);
    return stored ? this.#info(stored) : null;
  }

  async listJobs(opts: ListJobsOptions): Promise<JobPage> {
    this.#assertOpen();
    const { state, name, limit, cursor } = validateListJobsOptions(opts);
    this.#housekeep(this.#clock.now());
    // Each state in its own order (docs/contract.md, "Listing"); the cursor holds the sort
    // key of the last job of the page, which a job keeps while it stays in its state.
    let candidates: Iterable<StoredJob>;
    let keyOf: (s: StoredJob) => (number | string)[];
    switch (state) {
      case "ready": {
        // The jobs without a group in run order, then each group's in run order, the groups
        // by name (docs/contract.md, "Listing").
        const after = cursor === null ? null : decodeCursorOf(cursor, state, READY_CURSOR);
        candidates = this.#readyFrom(
          after === null
            ? null
            : { group: after[0] as string, priority: -after[1]!, rank: after[2] as number },
        );
        keyOf = (s) => [s.group ?? "", -s.priority, s.ready!.rank];
        break;
      }
      case "delayed":
      case "processing": {
        const after =
          cursor === null ? null : decodeCursor(cursor, state, state === "delayed" ? 2 : 1);
        const numericKey: (s: StoredJob) => number[] =
          state === "delayed" ? (s) => [s.at, Number(s.job.id)] : (s) => [Number(s.job.id)];
        keyOf = numericKey;
        const all = [...this.#jobs.values()].filter((s) => s.state === state);
        const sorted = all
          .map((s) => ({ s, k: numericKey(s) }))
          .sort((a, b) => compareKeys(a.k, b.k));
        candidates = sorted
          .filter(({ k }) => after === null || compareKeys(k, after) > 0)
          .map(({ s }) => s);
        break;
      }
      case "dead": {
        const after = cursor === null ? null : decodeCursor(cursor, state, 1)[0]!;
        candidates = this.#deadFrom(after);
        keyOf = (s) => [s.seq];
        break;
      }
      case "completed":
      case "cancelled": {
        const after = cursor === null ? null : decodeCursor(cursor, state, 1)[0]!;
        candidates = this.#keptNewestFrom(
          state === "completed" ? this.#completed : this.#cancelled,
          after,
        );
        keyOf = (s) => [s.seq];
        break;
      }
    }
    const page: StoredJob[] = [];
    let more = false;
    for (const stored of candidates) {
      if (name !== null && stored.job.name !== name) continue;
      if (page.length === limit) {
        more = true;
        break;
      }
      page.push(stored);
    }
    return {
      jobs: page.map((s) => this.#info(s)),
      cursor: more ? encodeCursor(state, keyOf(page[page.length - 1]!)) : null,
    };
  }

  async countByName(state: JobState): Promise<Record<string, number>> {
    this.#assertOpen();
    const wanted = validateJobState(state);
    this.#housekeep(this.#clock.now());
    // A Map, then own properties: a job named "__proto__" is counted like any other.
    const counts = new Map<string, number>();
    for (const stored of this.#jobs.values()) {
      if (stored.state !== wanted) continue;
      counts.set(stored.job.name, (counts.get(stored.job.name) ?? 0) + 1);
    }
    return Object.fromEntries(counts);
  }

  async cancel(id: string, opts?: CancelOptions): Promise<boolean> {
    this.#assertOpen();
    const jobId = jobIdOf(id, "id");
    const reason = validateCancelOptions(opts);
    const now = this.#clock.now();
    this.#housekeep(now);
    const stored = this.#jobs.get(jobId);
    if (!stored) return false;
    switch (stored.state) {
      case "ready":
        this.#readyOf(stored).discard(stored.priority);
        if (stored.group !== null) this.#groupedReady--;
        stored.ready = null;
        break;
      case "delayed":
        this.#delayedCount--;
        break;
      case "processing":
        // The reservation ends now; the holder learns it from checkReservations, and its
        // late ack, fail, release, progress or extendVisibility change nothing.
        this.#processingCount--;
        this.#leaveActive(stored);
        this.#cancelledReservations.set(jobId, {
          attempts: stored.job.attempts,
          until: Math.max(stored.at, now + this.visibilityTimeoutSeconds * 1000),
          reason,
        });
        break;
      default:
        return false;
    }
    this.#emit("cancelled", stored, now, reason === null ? {} : { reason });
    this.#finish(stored, "cancelled", now);
    return true;
  }

  async pause(): Promise<void> {
    this.#assertOpen();
    this.#paused = true;
  }

  async resume(): Promise<void> {
    this.#assertOpen();
    this.#paused = false;
    this.#notify();
  }

  async isPaused(): Promise<boolean> {
    this.#assertOpen();
    return this.#paused;
  }

  events(opts?: EventsOptions): AsyncIterable<JobEvent> {
    this.#assertOpen();
    const { signal, after } = validateEventsOptions(opts);
    if (this.#eventsConfig === null) {
      throw new ConfigError(
        "events() needs the queue's event stream, which this queue was made without (events: false): leave the events option out, or pass true or { maxLen }",
      );
    }
    let last = this.#eventSeq;
    if (after !== null) {
      if (!/^(0|[1-9][0-9]{0,15})$/.test(after)) {
        throw new JobValidationError(
          "opts.after",
          `opts.after must be the id of an event of this queue, got ${describeValue(after)}`,
        );
      }
      last = Number(after);
    }
    return {
      [Symbol.asyncIterator]: () => this.#iterateEvents(last, signal),
    };
  }

  async progress(job: JobRef, value: JsonValue): Promise<void> {
    this.#assertOpen();
    const checked = validateJsonValue(value, "value");
    const stored = this.#fenced(job);
    if (!stored) return;
    stored.progressJson = JSON.stringify(checked);
    this.#emit("progress", stored, this.#clock.now(), { progress: checked });
  }

  async checkReservations(jobs: JobRef[]): Promise<ReservationCheck[]> {
    this.#assertOpen();
    if (!Array.isArray(jobs)) {
      throw new JobValidationError(
        "jobs",
        `checkReservations takes an array of Jobs or job ids, got ${describeValue(jobs)}`,
      );
    }
    const refs = jobs.map((job, i) => ({ job, id: jobIdOf(job, `jobs[${i}]`) }));
    const now = this.#clock.now();
    this.#housekeep(now);
    const out: ReservationCheck[] = [];
    for (const { job, id } of refs) {
      if (this.#fenced(job)) continue;
      const cancelled = this.#cancelledReservations.get(id);
      const sameAttempt =
        cancelled !== undefined && (typeof job === "string" || job.attempts === cancelled.attempts);
      out.push(
        sameAttempt
          ? { id, status: "cancelled", reason: cancelled.reason ?? null }
          : { id, status: "lost" },
      );
    }
    return out;
  }

  async promote(id: string): Promise<boolean> {
    this.#assertOpen();
    const jobId = jobIdOf(id, "id");
    const now = this.#clock.now();
    this.#housekeep(now);
    const stored = this.#jobs.get(jobId);
    if (stored?.state !== "delayed") return false;
    this.#delayedCount--;
    stored.job.availableAt = new Date(now);
    this.#toReady(stored, false);
    this.#notify();
    return true;
  }

  // ---- flow control (docs/contract.md, "Flow control") ----

  async setRateLimit(limit: RateLimit | null): Promise<void> {
    this.#assertOpen();
    this.#rateLimit = validateRateLimit(limit);
    // Starts are counted while a limit is set: a new limit starts from an empty window.
    if (this.#rateLimit === null) this.#queueWindow = new StartWindow();
    this.#limitsChanged();
  }

  async setGroupLimits(limits: GroupLimits | null, opts?: SetGroupLimitsOptions): Promise<void> {
    this.#assertOpen();
    const checked = validateGroupLimits(limits);
    const group = validateSetGroupLimitsOptions(opts);
    if (group === null) this.#groupLimits = checked;
    else if (checked === null) this.#groupOverrides.delete(group);
    else this.#groupOverrides.set(group, checked);
    this.#limitsChanged();
  }

  async getLimits(): Promise<FlowLimits> {
    this.#assertOpen();
    const now = this.#clock.now();
    const overrides: Record<string, GroupLimits> = {};
    for (const [group, limits] of [...this.#groupOverrides].sort(([a], [b]) =>
      compareCodePoints(a, b),
    )) {
      Object.defineProperty(overrides, group, {
        value: { ...limits },
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return {
      rateLimit: this.#rateLimit === null ? null : { ...this.#rateLimit },
      groupLimits: this.#groupLimits === null ? null : { ...this.#groupLimits },
      groupOverrides: overrides,
      heldUntil: this.#queueHoldUntil > now ? new Date(this.#queueHoldUntil) : null,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#notify();
    this.#notifyEvents();
  }

  // ---- internals -------------------------------------------------------------

  #assertOpen(): void {
    if (this.#closed) throw new QueueClosedError("InMemoryJobQueue");
  }

  #insert(p: PreparedEnqueue): Job {
    const now = this.#clock.now();
    if (p.dedupeKey !== null) {
      const hit = this.#dedupe.get(p.dedupeKey);
      if (hit && hit.expiresAt > now) {
        const existing = this.#jobs.get(hit.id);
        if (existing) return this.#snapshot(existing);
        // The first job finished: the key still holds for its 24 h, so nothing new is
        // created; return what the caller originally got, reconstructed.
        return createJob({
          id: hit.id,
          name: p.name,
          payload: JSON.parse(p.payloadJson),
          availableAt: now,
          maxAttempts: p.maxAttempts,
          backoffSeconds: p.backoffSeconds,
        });
      }
    }
    const id = String(++this.#seq);
    const availableAt = now + p.delaySeconds * 1000;
    const stored: StoredJob = {
      job: createJob({
        id,
        name: p.name,
        payload: p.payload,
        availableAt,
        maxAttempts: p.maxAttempts,
        backoffSeconds: p.backoffSeconds,
        traceContext: p.traceContext,
      }),
      payloadJson: p.payloadJson,
      state: "delayed",
      at: availableAt,
      version: 0,
      priority: p.priority,
      group: p.group,
      createdAt: now,
      finishedAt: null,
      progressJson: null,
      resultJson: null,
      ready: null,
      seq: 0,
    };
    this.#jobs.set(id, stored);
    if (p.dedupeKey !== null) {
      this.#dedupe.set(p.dedupeKey, { id, expiresAt: now + DEDUPE_TTL_SECONDS * 1000 });
    }
    this.#emit("enqueued", stored, now, { delaySeconds: p.delaySeconds, priority: p.priority });
    if (p.delaySeconds > 0) {
      this.#toDelayed(stored, availableAt);
    } else {
      this.#toReady(stored, false);
      this.#notify();
    }
    return this.#snapshot(stored);
  }

  #tryReserve(): Job | null {
    const now = this.#clock.now();
    this.#housekeep(now);
    // docs/contract.md, "Pause": while paused, reserves return nothing.
    if (this.#paused) return null;
    // docs/contract.md, "Flow control": a hold, then the queue's rate limit.
    if (this.#queueHoldUntil > now) return null;
    const rate = resolveRateLimit(this.#rateLimit, this.#realTime);
    if (rate !== null && this.#queueWindow.count(now, rate.perMs) >= rate.max) return null;
    const stored = this.#nextReady(now);
    if (!stored) return null;
    stored.ready = null;
    stored.state = "processing";
    stored.job.attempts++;
    stored.at = now + this.visibilityTimeoutSeconds * 1000;
    stored.version++;
    this.#processing.push(stored.at, { id: stored.job.id, version: stored.version });
    this.#processingCount++;
    if (rate !== null) this.#queueWindow.record(now);
    if (stored.group !== null) {
      const group = this.#group(stored.group);
      group.active.set(stored.job.id, stored.at);
      const limits = this.#limitsOf(stored.group);
      if (limits !== null && limits.max !== Number.POSITIVE_INFINITY) group.window.record(now);
    }
    this.#emit("reserved", stored, now, { attempt: stored.job.attempts });
    return this.#snapshot(stored);
  }

  /** Promotes due delayed jobs and requeues expired reservations. */
  #housekeep(now: number): void {
    this.#pruneDedupe(now);
    for (const [id, entry] of this.#cancelledReservations) {
      if (entry.until > now) break;
      this.#cancelledReservations.delete(id);
    }
    for (;;) {
      const top = this.#processing.peek();
      if (!top || this.#processing.peekScore()! > now) break;
      this.#processing.pop();
      const stored = this.#jobs.get(top.id);
      if (stored?.state !== "processing" || stored.version !== top.version) continue;
      this.#processingCount--;
      this.#leaveActive(stored);
      const error = visibilityExpiredMessage(stored.job.attempts);
      stored.job.lastError = error;
      this.#emit("expired", stored, now, { attempt: stored.job.attempts, error });
      if (stored.job.attempts >= stored.job.maxAttempts) {
        // The last attempt ran out: `expired`, then `dead`, as a failed last attempt.
        this.#emit("dead", stored, now, { attempt: stored.job.attempts, error });
        this.#toDlq(stored, now);
      } else {
        stored.job.availableAt = new Date(now);
        this.#toReady(stored, false);
      }
    }
    for (;;) {
      const top = this.#delayed.peek();
      if (!top || this.#delayed.peekScore()! > now) break;
      this.#delayed.pop();
      const stored = this.#jobs.get(top.id);
      if (stored?.state !== "delayed" || stored.version !== top.version) continue;
      this.#delayedCount--;
      this.#toReady(stored, false);
    }
    // Groups whose wait is over take their turn again, in (time, name) order.
    for (const name of this.#groupWaits.takeDue(now)) {
      const group = this.#groups.get(name);
      if (group && group.ready.size > 0) this.#rotation.join(name);
    }
  }

  /**
   * Puts a job in ready by its priority: at the back, or at the front (`release`); a job
   * with a group in its group's ready jobs, the group joining the rotation if it was out.
   */
  #toReady(stored: StoredJob, front: boolean): void {
    stored.state = "ready";
    stored.version++;
    const ready = this.#readyOf(stored);
    stored.ready = front
      ? ready.pushFront(stored.job.id, stored.priority)
      : ready.pushBack(stored.job.id, stored.priority);
    if (stored.group !== null) {
      this.#groupedReady++;
      if (!this.#groupWaits.has(stored.group)) this.#rotation.join(stored.group);
    }
  }

  #toDelayed(stored: StoredJob, due: number): void {
    stored.state = "delayed";
    stored.version++;
    stored.at = due;
    this.#delayed.push(due, { id: stored.job.id, version: stored.version });
    this.#delayedCount++;
  }

  /** The ready jobs a job joins: its group's, or the queue's. */
  #readyOf(stored: StoredJob): PriorityReady {
    return stored.group === null ? this.#ready : this.#group(stored.group).ready;
  }

  #group(name: string): GroupState {
    let group = this.#groups.get(name);
    if (!group) {
      group = {
        name,
        ready: new PriorityReady((entry) => this.#jobs.get(entry.id)?.ready === entry),
        active: new Map(),
        window: new StartWindow(),
        holdUntil: 0,
      };
      this.#groups.set(name, group);
    }
    return group;
  }

  #limitsOf(group: string): ResolvedGroupLimits | null {
    return resolveGroupLimits(this.#groupOverrides.get(group) ?? this.#groupLimits, this.#realTime);
  }

  /**
   * The next job to reserve (docs/contract.md, "Groups"): the rotation's front serves one
   * job and goes to the back; a group at a limit leaves the rotation until the time it may
   * run again (or one of its jobs finishes). The jobs without a group take their turn as
   * one more participant.
   */
  #nextReady(now: number): StoredJob | undefined {
    if (this.#rotation.size === 0) {
      const entry = this.#ready.pop();
      return entry && this.#jobs.get(entry.id);
    }
    for (;;) {
      if (this.#ready.size > 0) this.#rotation.join(UNGROUPED);
      const name = this.#rotation.front();
      if (name === undefined) return undefined;
      this.#rotation.leave(name);
      if (name === UNGROUPED) {
        const entry = this.#ready.pop();
        if (!entry) continue;
        if (this.#ready.size > 0) this.#rotation.join(UNGROUPED);
        return this.#jobs.get(entry.id);
      }
      const group = this.#groups.get(name);
      if (!group) continue;
      const until = this.#blockedUntil(group, now);
      if (until !== undefined) {
        this.#groupWaits.set(name, until);
        continue;
      }
      const entry = group.ready.pop();
      if (!entry) continue;
      this.#groupedReady--;
      if (group.ready.size > 0) this.#rotation.join(name);
      return this.#jobs.get(entry.id);
    }
  }

  /** When a group at a limit may run again (epoch ms), or `undefined` when it may now. */
  #blockedUntil(group: GroupState, now: number): number | undefined {
    let until: number | undefined = group.holdUntil > now ? group.holdUntil : undefined;
    const limits = this.#limitsOf(group.name);
    if (limits === null) return until;
    if (group.active.size >= limits.concurrency) {
      // Until one of its jobs finishes (which brings the group back at once), or at the
      // latest when the first of their reservations runs out.
      let first = Number.POSITIVE_INFINITY;
      for (const deadline of group.active.values()) first = Math.min(first, deadline);
      until = Math.max(until ?? 0, first);
    }
    if (
      limits.max !== Number.POSITIVE_INFINITY &&
      group.window.count(now, limits.perMs) >= limits.max
    ) {
      until = Math.max(until ?? 0, group.window.nextFree(limits.perMs)!);
    }
    return until;
  }

  /** A group job's reservation ended: its group may take its turn again. */
  #leaveActive(stored: StoredJob): void {
    if (stored.group === null) return;
    const group = this.#groups.get(stored.group);
    if (!group) return;
    group.active.delete(stored.job.id);
    // Its wait may have been for this slot, even while it had no ready job (a job that
    // comes back ready then must not wait out a stale deadline): its turn is decided
    // afresh at the next reserve.
    this.#groupWaits.delete(group.name);
    if (group.ready.size > 0 && !this.#rotation.has(group.name)) {
      this.#rotation.join(group.name);
      this.#notify();
    } else if (group.ready.size === 0 && group.active.size === 0) {
      this.#maybeForget(group);
    }
  }

  /** Forgets a group that holds nothing: no jobs, no hold, no starts to count. */
  #maybeForget(group: GroupState): void {
    const now = this.#clock.now();
    const limits = this.#limitsOf(group.name);
    if (group.holdUntil > now) return;
    if (limits !== null && limits.max !== Number.POSITIVE_INFINITY) {
      if (group.window.count(now, limits.perMs) > 0) return;
    }
    if (this.#rotation.has(group.name) || this.#groupWaits.has(group.name)) return;
    this.#groups.delete(group.name);
  }

  /** Limits changed: every waiting group takes its turn again, and blocked reserves wake. */
  #limitsChanged(): void {
    for (const name of this.#groupWaits.names()) {
      this.#groupWaits.delete(name);
      const group = this.#groups.get(name);
      if (group && group.ready.size > 0) this.#rotation.join(name);
    }
    this.#notify();
  }

  #failAttempt(stored: StoredJob, now: number): void {
    const attempt = stored.job.attempts;
    const error = stored.job.lastError ?? "failed";
    if (attempt >= stored.job.maxAttempts) {
      this.#emit("dead", stored, now, { attempt, error });
      this.#toDlq(stored, now);
      return;
    }
    const delaySeconds = retryDelaySeconds(this.#retry, attempt, stored.job.backoffSeconds);
    this.#emit("retrying", stored, now, { attempt, error, delaySeconds });
    const due = now + delaySeconds * 1000;
    stored.job.availableAt = new Date(due);
    if (delaySeconds > 0) {
      this.#toDelayed(stored, due);
    } else {
      this.#toReady(stored, false);
      this.#notify();
    }
  }

  #toDlq(stored: StoredJob, now: number): void {
    stored.state = "dead";
    stored.version++;
    stored.seq = ++this.#finishSeq;
    stored.at = now;
    this.#dead.set(stored.job.id, stored.seq);
  }

  /**
   * A job completed or was cancelled: kept with `finishedAt` when the queue keeps that
   * kind, else deleted; then the kept ones are trimmed (docs/contract.md, "Retention").
   */
  #finish(stored: StoredJob, state: "completed" | "cancelled", now: number): void {
    const kept = state === "completed" ? this.#completed : this.#cancelled;
    stored.version++;
    stored.ready = null;
    if (kept.retention === null) {
      this.#jobs.delete(stored.job.id);
      return;
    }
    stored.state = state;
    stored.finishedAt = now;
    stored.seq = ++this.#finishSeq;
    if (state === "cancelled") stored.resultJson = null;
    kept.entries.pushBack({ id: stored.job.id, seq: stored.seq, finishedAt: now });
    const { count, ageSeconds } = kept.retention;
    const oldest = now - ageSeconds * 1000;
    for (;;) {
      const front = kept.entries.peekFront();
      if (!front || (kept.entries.length <= count && front.finishedAt >= oldest)) break;
      kept.entries.popFront();
      const old = this.#jobs.get(front.id);
      if (old?.state === state && old.seq === front.seq) this.#jobs.delete(front.id);
    }
  }

  /** The reserved record `job` refers to, or undefined when the reservation is gone or stale. */
  #fenced(job: JobRef): StoredJob | undefined {
    const id = jobIdOf(job);
    const stored = this.#jobs.get(id);
    if (stored?.state !== "processing") return undefined;
    // The attempt number fences the call: after a newer reservation it no longer
    // matches. A holder whose deadline passed but whose job nobody took yet may still
    // finish it, which saves a needless second run.
    if (typeof job !== "string" && job.attempts !== stored.job.attempts) return undefined;
    return stored;
  }

  #pruneDedupe(now: number): void {
    // Map iteration is insertion order, which is expiry order (fixed TTL).
    for (const [key, entry] of this.#dedupe) {
      if (entry.expiresAt > now) break;
      this.#dedupe.delete(key);
    }
  }

  #notify(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Waits until work may be available: an enqueue, a due delayed job, an expiry, a resume, or `maxMs`. */
  #waitForWork(maxMs: number, signal?: AbortSignal): Promise<void> {
    const now = this.#clock.now();
    let wait = maxMs;
    // While paused only resume() (or the end of the wait) can bring work.
    if (!this.#paused) {
      const times = [
        this.#delayed.peekScore(),
        this.#processing.peekScore(),
        this.#groupWaits.next(),
        this.#queueHoldUntil > now ? this.#queueHoldUntil : undefined,
      ];
      const rate = resolveRateLimit(this.#rateLimit, this.#realTime);
      if (rate !== null && this.#queueWindow.count(now, rate.perMs) >= rate.max) {
        times.push(this.#queueWindow.nextFree(rate.perMs));
      }
      for (const t of times) if (t !== undefined) wait = Math.min(wait, Math.max(1, t - now));
    }
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, wait);
      this.#waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  // ---- events ----------------------------------------------------------------

  #emit(
    type: JobEventType,
    stored: StoredJob,
    now: number,
    fields: Partial<Omit<JobEvent, "id" | "type" | "jobId" | "name" | "at">>,
  ): void {
    if (this.#eventsConfig === null) return;
    const event: JobEvent = {
      id: String(++this.#eventSeq),
      type,
      jobId: stored.job.id,
      name: stored.job.name,
      at: new Date(now),
      ...fields,
    };
    this.#events.pushBack(event);
    while (this.#events.length > this.#eventsConfig.maxLen) this.#events.popFront();
    this.#notifyEvents();
  }

  #notifyEvents(): void {
    const waiters = [...this.#eventWaiters];
    this.#eventWaiters.clear();
    for (const wake of waiters) wake();
  }

  async *#iterateEvents(after: number, signal: AbortSignal | undefined): AsyncGenerator<JobEvent> {
    let last = after;
    for (;;) {
      if (this.#closed || signal?.aborted) return;
      // The oldest event still held has the sequence number firstHeld.
      const firstHeld = this.#eventSeq - this.#events.length + 1;
      const next = Math.max(last + 1, firstHeld);
      if (next <= this.#eventSeq) {
        last = next;
        yield copyEvent(this.#events.at(next - firstHeld));
        continue;
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#eventWaiters.delete(done);
          signal?.removeEventListener("abort", done);
          resolve();
        };
        this.#eventWaiters.add(done);
        signal?.addEventListener("abort", done, { once: true });
      });
    }
  }

  // ---- reading ---------------------------------------------------------------

  /**
   * A copy of a stored job (made by `createJob`) for a caller, with its own payload and
   * `Date`, so nobody shares queued data. A spread copies every field, whatever `Job`
   * holds, and costs one object where a `createJob` call here would cost two.
   */
  #snapshot(stored: StoredJob): Job {
    const job = stored.job;
    return {
      ...job,
      payload: JSON.parse(stored.payloadJson),
      availableAt: new Date(job.availableAt.getTime()),
    };
  }

  #info(stored: StoredJob): JobInfo {
    return {
      ...this.#snapshot(stored),
      state: stored.state,
      priority: stored.priority,
      group: stored.group,
      createdAt: new Date(stored.createdAt),
      finishedAt: stored.finishedAt === null ? null : new Date(stored.finishedAt),
      progress: stored.progressJson === null ? null : JSON.parse(stored.progressJson),
      result: stored.resultJson === null ? null : JSON.parse(stored.resultJson),
    };
  }

  *#readyFrom(
    after: { group: string; priority: number; rank: number } | null,
  ): Generator<StoredJob> {
    if (after === null || after.group === UNGROUPED) {
      for (const entry of this.#ready.from(after)) yield this.#jobs.get(entry.id)!;
    }
    if (this.#groupedReady === 0) return;
    const names = [...this.#groups.keys()]
      .filter((name) => after === null || compareCodePoints(name, after.group) >= 0)
      .sort(compareCodePoints);
    for (const name of names) {
      const ready = this.#groups.get(name)!.ready;
      const start = after !== null && name === after.group ? after : null;
      for (const entry of ready.from(start)) yield this.#jobs.get(entry.id)!;
    }
  }

  *#deadFrom(after: number | null): Generator<StoredJob> {
    for (const [id, seq] of this.#dead) {
      if (after !== null && seq <= after) continue;
      yield this.#jobs.get(id)!;
    }
  }

  *#keptNewestFrom(kept: Kept, before: number | null): Generator<StoredJob> {
    const entries = kept.entries;
    // The last entry with a sequence number below the cursor's (they grow along the deque).
    let lo = 0;
    let hi = entries.length;
    if (before !== null) {
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (entries.at(mid).seq < before) lo = mid + 1;
        else hi = mid;
      }
    } else {
      lo = entries.length;
    }
    for (let i = lo - 1; i >= 0; i--) {
      const entry = entries.at(i);
      const stored = this.#jobs.get(entry.id);
      if (stored?.seq === entry.seq) yield stored;
    }
  }

  async #dlqList(opts: DlqListOptions = {}): Promise<Job[]> {
    this.#assertOpen();
    rejectUnknownKeys(opts, DLQ_LIST_OPTIONS, "opts");
    const limit = opts.limit === undefined ? 100 : validateInteger("opts.limit", opts.limit, 0);
    const offset = opts.offset === undefined ? 0 : validateInteger("opts.offset", opts.offset, 0);
    this.#housekeep(this.#clock.now());
    const out: Job[] = [];
    let i = 0;
    for (const id of this.#dead.keys()) {
      if (i++ < offset) continue;
      if (out.length >= limit) break;
      out.push(this.#snapshot(this.#jobs.get(id)!));
    }
    return out;
  }

  async #dlqRequeue(id: string): Promise<boolean> {
    this.#assertOpen();
    const jobId = jobIdOf(id, "id");
    this.#housekeep(this.#clock.now());
    if (!this.#dead.delete(jobId)) return false;
    const stored = this.#jobs.get(jobId)!;
    stored.job.attempts = 0;
    stored.job.availableAt = new Date(this.#clock.now());
    this.#toReady(stored, false);
    this.#notify();
    return true;
  }

  async #dlqRequeueAll(): Promise<number> {
    this.#assertOpen();
    this.#housekeep(this.#clock.now());
    let n = 0;
    for (const id of [...this.#dead.keys()]) if (await this.#dlqRequeue(id)) n++;
    return n;
  }

  async #dlqPurge(): Promise<number> {
    this.#assertOpen();
    this.#housekeep(this.#clock.now());
    const n = this.#dead.size;
    for (const id of this.#dead.keys()) this.#jobs.delete(id);
    this.#dead.clear();
    return n;
  }
}

/** A ready cursor: the group ("" for none), the negated priority, the rank. */
const READY_CURSOR = ["string", "number", "number"] as const;

function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

function copyEvent(event: JobEvent): JobEvent {
  const copy: JobEvent = { ...event, at: new Date(event.at.getTime()) };
  if (event.progress !== undefined) copy.progress = structuredClone(event.progress);
  if (event.result !== undefined) copy.result = structuredClone(event.result);
  return copy;
}
