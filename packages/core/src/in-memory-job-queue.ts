import type { Clock } from "./clock.js";
import { createJob } from "./create-job.js";
import { errorMessage, visibilityExpiredMessage } from "./error-message.js";
import { QueueClosedError } from "./errors.js";
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
import type { JsonObject, JsonPayload } from "./json.js";
import { DLQ_LIST_OPTIONS, RESERVE_OPTIONS } from "./option-keys.js";
import { type PreparedEnqueue, prepareEnqueue, prepareEnqueueMany } from "./prepare-enqueue.js";
import { type QueueOptions, resolveQueueOptions } from "./queue-options.js";
import { rejectUnknownKeys } from "./reject-unknown-keys.js";
import { type RetryStrategy, retryDelaySeconds } from "./retry.js";
import { jobIdOf, validateInteger, validateSeconds } from "./validate.js";

/** Options of {@link InMemoryJobQueue}: the options every queue takes. */
export interface InMemoryJobQueueOptions extends QueueOptions {}

type State = "ready" | "delayed" | "processing" | "dlq";

/** A job as the queue keeps it, with where it is and since when. */
interface StoredJob {
  job: Job;
  /** The payload as stored (JSON text), so callers cannot mutate queued data. */
  payloadJson: string;
  state: State;
  /** Visibility deadline while processing, due time while delayed (epoch ms). */
  at: number;
  /** Bumped on every state change, so stale heap entries are skipped. */
  version: number;
}

/**
 * A complete queue in process memory, for development and tests. It has the same
 * semantics as the Redis backend (visibility timeouts, retries, DLQ, dedupe,
 * blocking reserve) and passes the same conformance suite; it does not survive a
 * restart.
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
  readonly dlq: DeadLetterQueue;

  #clock: Clock;
  #retry: RetryStrategy;
  #maxPayloadBytes: number;
  #seq = 0;
  #jobs = new Map<string, StoredJob>();
  /** FIFO of ready ids; `#readyHead` avoids O(n) shifts. Entries may be stale (checked on pop). */
  #ready: string[] = [];
  #readyHead = 0;
  #readyCount = 0;
  #delayed = new MinHeap<{ id: string; version: number }>();
  #delayedCount = 0;
  #processing = new MinHeap<{ id: string; version: number }>();
  #processingCount = 0;
  #dead = new Map<string, true>();
  #dedupe = new Map<string, { id: string; expiresAt: number }>();
  #waiters = new Set<() => void>();
  #closed = false;

  constructor(options: InMemoryJobQueueOptions = {}) {
    const resolved = resolveQueueOptions(options);
    this.visibilityTimeoutSeconds = resolved.visibilityTimeoutSeconds;
    this.#clock = resolved.clock;
    this.#retry = resolved.retry;
    this.#maxPayloadBytes = resolved.maxPayloadBytes;
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
    return this.#insert(prepared) as Job<P>;
  }

  async enqueueMany<P extends JsonPayload<P> = JsonObject>(
    items: EnqueueItem<P>[],
  ): Promise<Job<P>[]> {
    this.#assertOpen();
    const prepared = prepareEnqueueMany(items, { maxPayloadBytes: this.#maxPayloadBytes });
    return prepared.map((p) => this.#insert(p) as Job<P>);
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

  async ack(job: JobRef): Promise<void> {
    this.#assertOpen();
    const stored = this.#fenced(job);
    if (!stored) return;
    this.#processingCount--;
    this.#jobs.delete(stored.job.id);
  }

  async fail(job: JobRef, error?: unknown): Promise<void> {
    this.#assertOpen();
    const stored = this.#fenced(job);
    if (!stored) return;
    this.#processingCount--;
    stored.job.lastError = errorMessage(error);
    this.#failAttempt(stored, this.#clock.now());
  }

  async release(job: JobRef): Promise<void> {
    this.#assertOpen();
    const stored = this.#fenced(job);
    if (!stored) return;
    this.#processingCount--;
    stored.job.attempts = Math.max(0, stored.job.attempts - 1);
    stored.state = "ready";
    stored.version++;
    this.#readyFront(stored.job.id);
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
  }

  async stats(): Promise<QueueStats> {
    this.#assertOpen();
    this.#housekeep(this.#clock.now());
    return {
      ready: this.#readyCount,
      delayed: this.#delayedCount,
      processing: this.#processingCount,
      dlq: this.#dead.size,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#notify();
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
      }),
      payloadJson: p.payloadJson,
      state: "ready",
      at: availableAt,
      version: 0,
    };
    this.#jobs.set(id, stored);
    if (p.dedupeKey !== null) {
      this.#dedupe.set(p.dedupeKey, { id, expiresAt: now + DEDUPE_TTL_SECONDS * 1000 });
    }
    if (p.delaySeconds > 0) {
      stored.state = "delayed";
      this.#delayed.push(availableAt, { id, version: stored.version });
      this.#delayedCount++;
    } else {
      this.#readyBack(id);
      this.#notify();
    }
    return this.#snapshot(stored);
  }

  #tryReserve(): Job | null {
    const now = this.#clock.now();
    this.#housekeep(now);
    while (this.#readyHead < this.#ready.length) {
      const id = this.#ready[this.#readyHead]!;
      this.#ready[this.#readyHead] = "";
      this.#readyHead++;
      const stored = this.#jobs.get(id);
      if (stored?.state !== "ready") continue;
      this.#readyCount--;
      this.#compactReady();
      stored.state = "processing";
      stored.job.attempts++;
      stored.at = now + this.visibilityTimeoutSeconds * 1000;
      stored.version++;
      this.#processing.push(stored.at, { id, version: stored.version });
      this.#processingCount++;
      return this.#snapshot(stored);
    }
    this.#compactReady();
    return null;
  }

  /** Promotes due delayed jobs and requeues expired reservations. */
  #housekeep(now: number): void {
    this.#pruneDedupe(now);
    for (;;) {
      const top = this.#processing.peek();
      if (!top || this.#processing.peekScore()! > now) break;
      this.#processing.pop();
      const stored = this.#jobs.get(top.id);
      if (stored?.state !== "processing" || stored.version !== top.version) continue;
      this.#processingCount--;
      stored.job.lastError = visibilityExpiredMessage(stored.job.attempts);
      if (stored.job.attempts >= stored.job.maxAttempts) {
        this.#toDlq(stored);
      } else {
        stored.state = "ready";
        stored.version++;
        stored.job.availableAt = new Date(now);
        this.#readyBack(stored.job.id);
      }
    }
    for (;;) {
      const top = this.#delayed.peek();
      if (!top || this.#delayed.peekScore()! > now) break;
      this.#delayed.pop();
      const stored = this.#jobs.get(top.id);
      if (stored?.state !== "delayed" || stored.version !== top.version) continue;
      this.#delayedCount--;
      stored.state = "ready";
      stored.version++;
      this.#readyBack(stored.job.id);
    }
  }

  #failAttempt(stored: StoredJob, now: number): void {
    if (stored.job.attempts >= stored.job.maxAttempts) {
      this.#toDlq(stored);
      return;
    }
    const delaySeconds = retryDelaySeconds(
      this.#retry,
      stored.job.attempts,
      stored.job.backoffSeconds,
    );
    const due = now + delaySeconds * 1000;
    stored.job.availableAt = new Date(due);
    stored.version++;
    if (delaySeconds > 0) {
      stored.state = "delayed";
      stored.at = due;
      this.#delayed.push(due, { id: stored.job.id, version: stored.version });
      this.#delayedCount++;
    } else {
      stored.state = "ready";
      this.#readyBack(stored.job.id);
      this.#notify();
    }
  }

  #toDlq(stored: StoredJob): void {
    stored.state = "dlq";
    stored.version++;
    this.#dead.set(stored.job.id, true);
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

  #readyBack(id: string): void {
    this.#ready.push(id);
    this.#readyCount++;
  }

  #readyFront(id: string): void {
    if (this.#readyHead > 0) {
      this.#readyHead--;
      this.#ready[this.#readyHead] = id;
    } else {
      this.#ready.unshift(id);
    }
    this.#readyCount++;
  }

  #compactReady(): void {
    if (this.#readyHead > 1024 && this.#readyHead * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#readyHead);
      this.#readyHead = 0;
    }
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

  /** Waits until work may be available: an enqueue, a due delayed job, an expiry, or `maxMs`. */
  #waitForWork(maxMs: number, signal?: AbortSignal): Promise<void> {
    const now = this.#clock.now();
    let wait = maxMs;
    const nextDelayed = this.#delayed.peekScore();
    if (nextDelayed !== undefined) wait = Math.min(wait, Math.max(1, nextDelayed - now));
    const nextExpiry = this.#processing.peekScore();
    if (nextExpiry !== undefined) wait = Math.min(wait, Math.max(1, nextExpiry - now));
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
    stored.state = "ready";
    stored.version++;
    stored.job.attempts = 0;
    stored.job.availableAt = new Date(this.#clock.now());
    this.#readyBack(jobId);
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
