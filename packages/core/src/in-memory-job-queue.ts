import type { Clock } from "./clock.js";
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
import { type QueueOptions, resolveQueueOptions } from "./queue-options.js";
import { type RetryStrategy, retryDelaySeconds } from "./retry.js";
import {
  jobIdOf,
  type PreparedEnqueue,
  prepareEnqueue,
  prepareEnqueueMany,
  validateInteger,
  validateSeconds,
} from "./validate.js";

/** Options of {@link InMemoryJobQueue}: the options every queue takes. */
export interface InMemoryJobQueueOptions extends QueueOptions {}

type State = "ready" | "delayed" | "processing" | "dlq";

interface Record_ {
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
  #records = new Map<string, Record_>();
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
    const rec = this.#fenced(job);
    if (!rec) return;
    this.#processingCount--;
    this.#records.delete(rec.job.id);
  }

  async fail(job: JobRef, error?: unknown): Promise<void> {
    this.#assertOpen();
    const rec = this.#fenced(job);
    if (!rec) return;
    this.#processingCount--;
    rec.job.lastError = errorMessage(error);
    this.#failAttempt(rec, this.#clock.now());
  }

  async release(job: JobRef): Promise<void> {
    this.#assertOpen();
    const rec = this.#fenced(job);
    if (!rec) return;
    this.#processingCount--;
    rec.job.attempts = Math.max(0, rec.job.attempts - 1);
    rec.state = "ready";
    rec.version++;
    this.#readyFront(rec.job.id);
    this.#notify();
  }

  async extendVisibility(job: JobRef, seconds: number): Promise<void> {
    this.#assertOpen();
    validateSeconds("seconds", seconds, 0);
    const rec = this.#fenced(job);
    if (!rec) return;
    rec.at = this.#clock.now() + seconds * 1000;
    rec.version++;
    this.#processing.push(rec.at, { id: rec.job.id, version: rec.version });
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
        const existing = this.#records.get(hit.id);
        if (existing) return this.#snapshot(existing);
        // The first job finished: the key still holds for its 24 h, so nothing new is
        // created; return what the caller originally got, reconstructed.
        return {
          id: hit.id,
          name: p.name,
          payload: JSON.parse(p.payloadJson),
          availableAt: new Date(now),
          attempts: 0,
          maxAttempts: p.maxAttempts,
          backoffSeconds: p.backoffSeconds,
          lastError: null,
        };
      }
    }
    const id = String(++this.#seq);
    const availableAt = now + p.delaySeconds * 1000;
    const rec: Record_ = {
      job: {
        id,
        name: p.name,
        payload: p.payload,
        availableAt: new Date(availableAt),
        attempts: 0,
        maxAttempts: p.maxAttempts,
        backoffSeconds: p.backoffSeconds,
        lastError: null,
      },
      payloadJson: p.payloadJson,
      state: "ready",
      at: availableAt,
      version: 0,
    };
    this.#records.set(id, rec);
    if (p.dedupeKey !== null) {
      this.#dedupe.set(p.dedupeKey, { id, expiresAt: now + DEDUPE_TTL_SECONDS * 1000 });
    }
    if (p.delaySeconds > 0) {
      rec.state = "delayed";
      this.#delayed.push(availableAt, { id, version: rec.version });
      this.#delayedCount++;
    } else {
      this.#readyBack(id);
      this.#notify();
    }
    return this.#snapshot(rec);
  }

  #tryReserve(): Job | null {
    const now = this.#clock.now();
    this.#housekeep(now);
    while (this.#readyHead < this.#ready.length) {
      const id = this.#ready[this.#readyHead]!;
      this.#ready[this.#readyHead] = "";
      this.#readyHead++;
      const rec = this.#records.get(id);
      if (rec?.state !== "ready") continue;
      this.#readyCount--;
      this.#compactReady();
      rec.state = "processing";
      rec.job.attempts++;
      rec.at = now + this.visibilityTimeoutSeconds * 1000;
      rec.version++;
      this.#processing.push(rec.at, { id, version: rec.version });
      this.#processingCount++;
      return this.#snapshot(rec);
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
      const rec = this.#records.get(top.id);
      if (rec?.state !== "processing" || rec.version !== top.version) continue;
      this.#processingCount--;
      rec.job.lastError = visibilityExpiredMessage(rec.job.attempts);
      if (rec.job.attempts >= rec.job.maxAttempts) {
        this.#toDlq(rec);
      } else {
        rec.state = "ready";
        rec.version++;
        rec.job.availableAt = new Date(now);
        this.#readyBack(rec.job.id);
      }
    }
    for (;;) {
      const top = this.#delayed.peek();
      if (!top || this.#delayed.peekScore()! > now) break;
      this.#delayed.pop();
      const rec = this.#records.get(top.id);
      if (rec?.state !== "delayed" || rec.version !== top.version) continue;
      this.#delayedCount--;
      rec.state = "ready";
      rec.version++;
      this.#readyBack(rec.job.id);
    }
  }

  #failAttempt(rec: Record_, now: number): void {
    if (rec.job.attempts >= rec.job.maxAttempts) {
      this.#toDlq(rec);
      return;
    }
    const delaySeconds = retryDelaySeconds(this.#retry, rec.job.attempts, rec.job.backoffSeconds);
    const due = now + delaySeconds * 1000;
    rec.job.availableAt = new Date(due);
    rec.version++;
    if (delaySeconds > 0) {
      rec.state = "delayed";
      rec.at = due;
      this.#delayed.push(due, { id: rec.job.id, version: rec.version });
      this.#delayedCount++;
    } else {
      rec.state = "ready";
      this.#readyBack(rec.job.id);
      this.#notify();
    }
  }

  #toDlq(rec: Record_): void {
    rec.state = "dlq";
    rec.version++;
    this.#dead.set(rec.job.id, true);
  }

  /** The reserved record `job` refers to, or undefined when the reservation is gone or stale. */
  #fenced(job: JobRef): Record_ | undefined {
    const id = jobIdOf(job);
    const rec = this.#records.get(id);
    if (rec?.state !== "processing") return undefined;
    // The attempt number fences the call: after a newer reservation it no longer
    // matches. A holder whose deadline passed but whose job nobody took yet may still
    // finish it, which saves a needless second run.
    if (typeof job !== "string" && job.attempts !== rec.job.attempts) return undefined;
    return rec;
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

  #snapshot(rec: Record_): Job {
    const j = rec.job;
    return {
      id: j.id,
      name: j.name,
      payload: JSON.parse(rec.payloadJson),
      availableAt: new Date(j.availableAt.getTime()),
      attempts: j.attempts,
      maxAttempts: j.maxAttempts,
      backoffSeconds: j.backoffSeconds,
      lastError: j.lastError,
    };
  }

  async #dlqList(opts: DlqListOptions = {}): Promise<Job[]> {
    this.#assertOpen();
    const limit = opts.limit === undefined ? 100 : validateInteger("opts.limit", opts.limit, 0);
    const offset = opts.offset === undefined ? 0 : validateInteger("opts.offset", opts.offset, 0);
    this.#housekeep(this.#clock.now());
    const out: Job[] = [];
    let i = 0;
    for (const id of this.#dead.keys()) {
      if (i++ < offset) continue;
      if (out.length >= limit) break;
      out.push(this.#snapshot(this.#records.get(id)!));
    }
    return out;
  }

  async #dlqRequeue(id: string): Promise<boolean> {
    this.#assertOpen();
    const jobId = jobIdOf(id, "id");
    this.#housekeep(this.#clock.now());
    if (!this.#dead.delete(jobId)) return false;
    const rec = this.#records.get(jobId)!;
    rec.state = "ready";
    rec.version++;
    rec.job.attempts = 0;
    rec.job.availableAt = new Date(this.#clock.now());
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
    for (const id of this.#dead.keys()) this.#records.delete(id);
    this.#dead.clear();
    return n;
  }
}
