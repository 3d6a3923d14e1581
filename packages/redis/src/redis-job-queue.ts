import { randomUUID } from "node:crypto";
import {
  BackendError,
  type Clock,
  ConfigError,
  DEDUPE_TTL_SECONDS,
  DEFAULT_BACKOFF_SECONDS,
  DEFAULT_MAX_ATTEMPTS,
  type DeadLetterQueue,
  type DlqListOptions,
  type EnqueueItem,
  type EnqueueOptions,
  errorMessage,
  type Job,
  type JobQueue,
  JobValidationError,
  type JsonObject,
  type JsonPayload,
  jobIdOf,
  type PreparedEnqueue,
  prepareEnqueue,
  prepareEnqueueMany,
  QueueClosedError,
  type QueueOptions,
  type QueueStats,
  type ReserveOptions,
  type RetryStrategy,
  resolveQueueOptions,
  validateInteger,
  validateSeconds,
  visibilityExpiredMessage,
} from "@svc-jobs/core";
import { type DefinesCommands, defineQueueCommands, type QueueCommands } from "./scripts.js";

/**
 * The client a {@link RedisJobQueue} runs on: an ioredis `Redis` or `Cluster` (ioredis 5
 * or 6), or an `ioredis-mock` instance in tests. Typed by the shape the queue uses, not
 * by ioredis' own classes, so either major version of ioredis fits.
 */
export interface RedisJobQueueClient extends DefinesCommands {
  /** True on an ioredis `Cluster`: the prefix then gets a `{hash tag}`. */
  readonly isCluster?: boolean;
  lpush(key: string, ...values: string[]): Promise<unknown>;
}

/** Options of {@link RedisJobQueue}. */
export interface RedisJobQueueOptions extends QueueOptions {
  /**
   * Prefix of every key of the queue (`{prefix}:ready`, `{prefix}:job:7`, ...). With a
   * `Cluster` client a prefix without a `{hash tag}` is wrapped as `{prefix}` so the whole
   * queue lives in one slot.
   * @default "jobs"
   */
  prefix?: string;
  /**
   * Whether `reserveNext({ blockSeconds })` waits with BLPOP on a dedicated connection.
   * `false` polls every `fallbackPollSeconds` instead. Clients that cannot block
   * (ioredis-mock) fall back to polling either way.
   * @default true
   */
  blocking?: boolean;
  /** Poll interval of the fallback for clients that cannot block, in seconds. @default 0.05 */
  fallbackPollSeconds?: number;
  /**
   * How long Redis remembers an enqueue's resend token, in seconds: an enqueue that
   * ioredis resends after a dropped connection within this time returns the first
   * result instead of creating a second job. 0 turns the tokens off.
   * @default 60
   */
  enqueueTokenTtlSeconds?: number;
  /**
   * Expired reservations and due delayed jobs handled per script call, at most.
   * Keeps each script short when thousands fall due at once.
   * @default 100
   */
  housekeepingBatch?: number;
  /** Random numbers in [0, 1) for retry jitter. @default Math.random */
  random?: () => number;
}

type Fields = (string | null | undefined | false)[];

/** The part of a `duplicate()` of the client the blocking reserve uses. */
interface BlockingConnection {
  blpop(key: string, timeoutSeconds: number): Promise<[string, string] | null>;
  disconnect(): void;
  on?(event: "error", listener: () => void): unknown;
}

/**
 * Why a wait ended: `wake` (a wake-up token arrived, an error, close or abort: look
 * again), `timeout` (this waiter's own time ran out), `quiet` (the shared BLPOP timed out
 * with no news).
 */
type WakeReason = "wake" | "timeout" | "quiet";

// Lua builds last_error of an expiry from these halves, so the text stays core's.
const [EXPIRED_PRE, EXPIRED_POST] = (() => {
  const probe = 987654321;
  const text = visibilityExpiredMessage(probe);
  const at = text.indexOf(String(probe));
  return [text.slice(0, at), text.slice(at + String(probe).length)];
})();

const MIN_WAIT_MS = 5;
const BATCH = 1000;
const ENQUEUE_CHUNK = 1000;
const DEDUPE_TTL_MS_TEXT = String(DEDUPE_TTL_SECONDS * 1000);
const DEFAULT_MAX_ATTEMPTS_TEXT = String(DEFAULT_MAX_ATTEMPTS);
const DEFAULT_BACKOFF_TEXT = String(DEFAULT_BACKOFF_SECONDS);
const MAX_RESERVE_MANY = 1000;

/**
 * The production backend: a job queue in Redis, every transition one Lua script, with
 * the key layout of the svc-infra guide (`jobs:ready`, `jobs:job:7`, ...) so its
 * runbooks keep working. Blocking reserves wait on their own connection and wake as soon
 * as a job is enqueued or a delayed job falls due.
 *
 * @example
 * ```ts
 * import { Redis } from "ioredis";
 * import { RedisJobQueue } from "@svc-jobs/redis";
 * import { WorkerRunner } from "@svc-jobs/core";
 *
 * const queue = new RedisJobQueue(new Redis(process.env.REDIS_URL!), { prefix: "jobs" });
 * await queue.enqueue("send_email", { to: "user@example.com" });
 * const runner = new WorkerRunner(queue, async (job) => sendEmail(job.payload));
 * await runner.start();
 * ```
 */
export class RedisJobQueue implements JobQueue {
  readonly visibilityTimeoutSeconds: number;
  readonly dlq: DeadLetterQueue;
  /** The key prefix in use: the `prefix` option, wrapped as `{prefix}` on a cluster. */
  readonly prefix: string;

  readonly #client: RedisJobQueueClient & QueueCommands;
  readonly #clock: Clock;
  readonly #retry: RetryStrategy;
  readonly #retryArgs: string[];
  readonly #maxPayloadBytes: number;
  readonly #tokenTtlMs: number;
  readonly #tokenTtlText: string;
  readonly #batch: string;
  readonly #fallbackPollMs: number;
  readonly #random: () => number;
  /** The prefix Lua builds job keys from: the client's own `keyPrefix` applies to KEYS only. */
  readonly #luaPrefix: string;
  readonly #keys: {
    ready: string;
    processing: string;
    vt: string;
    delayed: string;
    seq: string;
    dlq: string;
    wake: string;
  };

  #canBlock: boolean;
  #blocking: BlockingConnection | undefined;
  #round: Promise<void> | undefined;
  #waiters = new Set<(reason: WakeReason) => void>();
  #closed = false;

  constructor(client: RedisJobQueueClient, options: RedisJobQueueOptions = {}) {
    if (client === null || typeof client !== "object" || !("defineCommand" in client)) {
      throw new ConfigError(
        "RedisJobQueue needs an ioredis client (new Redis(url) or new Cluster(nodes)) or an ioredis-mock instance",
      );
    }
    // The options every backend shares (time, retries, limits) are checked in one place.
    const resolved = resolveQueueOptions(options);
    this.visibilityTimeoutSeconds = resolved.visibilityTimeoutSeconds;
    this.#clock = resolved.clock;
    this.#retry = resolved.retry;
    this.#retryArgs =
      this.#retry.kind === "linear"
        ? ["linear", "1", "0", "0"]
        : [
            "exponential",
            String(this.#retry.factor ?? 2),
            String(this.#retry.maxSeconds ?? 3600),
            String(this.#retry.jitter ?? 0.2),
          ];
    this.#maxPayloadBytes = resolved.maxPayloadBytes;
    this.#tokenTtlMs = Math.round(
      validateSeconds("enqueueTokenTtlSeconds", options.enqueueTokenTtlSeconds ?? 60) * 1000,
    );
    this.#tokenTtlText = String(this.#tokenTtlMs);
    this.#batch = String(validateInteger("housekeepingBatch", options.housekeepingBatch ?? 100, 1));
    this.#fallbackPollMs =
      validateSeconds("fallbackPollSeconds", options.fallbackPollSeconds ?? 0.05, 0.001) * 1000;
    this.#random = options.random ?? Math.random;
    this.#canBlock = options.blocking !== false;

    const prefix = options.prefix ?? "jobs";
    if (typeof prefix !== "string" || prefix.length === 0) {
      throw new ConfigError(
        `prefix must be a non-empty string, got ${JSON.stringify(prefix)}: e.g. "jobs"`,
      );
    }
    this.prefix = client.isCluster === true && !hasHashTag(prefix) ? `{${prefix}}` : prefix;
    const clientPrefix = (client as { options?: { keyPrefix?: string } }).options?.keyPrefix ?? "";
    this.#luaPrefix = clientPrefix + this.prefix;
    const p = this.prefix;
    this.#keys = {
      ready: `${p}:ready`,
      processing: `${p}:processing`,
      vt: `${p}:processing_vt`,
      delayed: `${p}:delayed`,
      seq: `${p}:seq`,
      dlq: `${p}:dlq`,
      wake: `${p}:wake`,
    };
    this.#client = defineQueueCommands(client);
    this.dlq = {
      list: (opts) => this.#dlqList(opts),
      requeue: (id) => this.#dlqRequeue(id),
      requeueAll: () => this.#dlqMany("requeue"),
      purge: () => this.#dlqMany("purge"),
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
    const [job] = await this.#insert([prepared]);
    return job as Job<P>;
  }

  async enqueueMany<P extends JsonPayload<P> = JsonObject>(
    items: EnqueueItem<P>[],
  ): Promise<Job<P>[]> {
    this.#assertOpen();
    const prepared = prepareEnqueueMany(items, { maxPayloadBytes: this.#maxPayloadBytes });
    if (prepared.length <= ENQUEUE_CHUNK) {
      return prepared.length ? (this.#insert(prepared) as Promise<Job<P>[]>) : [];
    }
    // Large batches go as several scripts, sent together (pipelined by ioredis), so no
    // single script holds Redis for long. Every item was validated above.
    const chunks: Promise<Job[]>[] = [];
    for (let i = 0; i < prepared.length; i += ENQUEUE_CHUNK) {
      chunks.push(this.#insert(prepared.slice(i, i + ENQUEUE_CHUNK)));
    }
    return (await Promise.all(chunks)).flat() as Job<P>[];
  }

  async reserveNext(opts: ReserveOptions = {}): Promise<Job | null> {
    const [job] = await this.reserveMany(1, opts);
    return job ?? null;
  }

  /**
   * Reserves up to `count` due jobs in one round trip (fewer when fewer are due), each
   * exactly as {@link reserveNext} would. With `blockSeconds`, waits until at least one
   * is due.
   */
  async reserveMany(count: number, opts: ReserveOptions = {}): Promise<Job[]> {
    this.#assertOpen();
    if (validateInteger("count", count, 1) > MAX_RESERVE_MANY) {
      throw new JobValidationError(
        "count",
        `reserveMany takes at most ${MAX_RESERVE_MANY} jobs per call, got ${count}: call it again for more`,
      );
    }
    const blockSeconds =
      opts.blockSeconds === undefined ? 0 : validateSeconds("opts.blockSeconds", opts.blockSeconds);
    let got = await this.#reserve(count);
    if (got.jobs.length > 0 || blockSeconds === 0 || opts.signal?.aborted) return got.jobs;

    const deadline = Date.now() + blockSeconds * 1000;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.#closed || opts.signal?.aborted) return [];
      let wait = remaining;
      if (got.nextDue !== null) {
        wait = Math.min(wait, Math.max(MIN_WAIT_MS, got.nextDue - this.#clock.now()));
      }
      const reason = await this.#waitForWork(wait, opts.signal);
      if (this.#closed || opts.signal?.aborted) return [];
      // Each reserve is a script call: skip it when nothing can have changed, so an idle
      // worker costs a few commands per second.
      if (reason === "quiet") continue;
      if (reason === "timeout" && Date.now() >= deadline) return [];
      got = await this.#reserve(count);
      if (got.jobs.length > 0) return got.jobs;
    }
  }

  async ack(job: Job | string): Promise<void> {
    this.#assertOpen();
    const [id, attempts] = fence(job);
    const k = this.#keys;
    await this.#call("ack", () =>
      this.#client.svcJobsAck(k.processing, k.vt, this.#luaPrefix, id, attempts),
    );
  }

  async fail(job: Job | string, error?: unknown): Promise<void> {
    this.#assertOpen();
    const [id, attempts] = fence(job);
    const k = this.#keys;
    await this.#call("fail", () =>
      this.#client.svcJobsFail(
        k.processing,
        k.vt,
        k.ready,
        k.delayed,
        k.dlq,
        k.wake,
        this.#luaPrefix,
        id,
        attempts,
        this.#now(),
        errorMessage(error),
        ...this.#retryArgs,
        String(this.#retry.kind === "linear" ? 0 : this.#random()),
      ),
    );
  }

  async release(job: Job | string): Promise<void> {
    this.#assertOpen();
    const [id, attempts] = fence(job);
    const k = this.#keys;
    await this.#call("release", () =>
      this.#client.svcJobsRelease(
        k.processing,
        k.vt,
        k.ready,
        k.wake,
        this.#luaPrefix,
        id,
        attempts,
      ),
    );
  }

  async extendVisibility(job: Job | string, seconds: number): Promise<void> {
    this.#assertOpen();
    validateSeconds("seconds", seconds, 0);
    const [id, attempts] = fence(job);
    const deadline = String(this.#clock.now() + seconds * 1000);
    await this.#call("extendVisibility", () =>
      this.#client.svcJobsExtendVisibility(this.#keys.vt, this.#luaPrefix, id, attempts, deadline),
    );
  }

  async stats(): Promise<QueueStats> {
    this.#assertOpen();
    const k = this.#keys;
    const [ready, delayed, processing, dlq] = await this.#call("stats", () =>
      this.#client.svcJobsStats(
        k.ready,
        k.processing,
        k.vt,
        k.delayed,
        k.dlq,
        this.#luaPrefix,
        this.#now(),
        String(BATCH),
        EXPIRED_PRE,
        EXPIRED_POST,
      ),
    );
    return {
      ready: Number(ready),
      delayed: Number(delayed),
      processing: Number(processing),
      dlq: Number(dlq),
    };
  }

  /**
   * Requeues expired reservations and promotes due delayed jobs now. Every reserve does
   * this as well; call it from a runbook or a cron when no worker is running.
   * @returns how many reservations expired and how many delayed jobs became ready
   */
  async housekeep(): Promise<{ requeued: number; promoted: number }> {
    this.#assertOpen();
    const k = this.#keys;
    let requeued = 0;
    let promoted = 0;
    for (;;) {
      const [r, p] = await this.#call("housekeep", () =>
        this.#client.svcJobsHousekeep(
          k.ready,
          k.processing,
          k.vt,
          k.delayed,
          k.dlq,
          k.wake,
          this.#luaPrefix,
          this.#now(),
          String(BATCH),
          EXPIRED_PRE,
          EXPIRED_POST,
        ),
      );
      requeued += Number(r);
      promoted += Number(p);
      if (Number(r) < BATCH && Number(p) < BATCH) return { requeued, promoted };
    }
  }

  /** Closes the blocking connection the queue opened; never the client passed in. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wakeAll("wake");
    const blocking = this.#blocking;
    this.#blocking = undefined;
    // disconnect(), not quit(): QUIT would queue behind a pending BLPOP.
    blocking?.disconnect();
  }

  // ---- internals -------------------------------------------------------------

  #assertOpen(): void {
    if (this.#closed) throw new QueueClosedError("RedisJobQueue");
  }

  #now(): string {
    return String(this.#clock.now());
  }

  async #call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (this.#closed) throw new QueueClosedError("RedisJobQueue");
      const message = error instanceof Error ? error.message : String(error);
      throw new BackendError(
        `Redis ${what} failed on queue "${this.prefix}": ${message}: check that Redis is reachable and the client is connected; the queue's state is unchanged unless the command reached Redis`,
        { code: "ERR_REDIS", cause: error },
      );
    }
  }

  async #insert(prepared: PreparedEnqueue[]): Promise<Job[]> {
    const now = this.#clock.now();
    const nowText = String(now);
    const args: string[] = [
      this.#keys.ready,
      this.#keys.delayed,
      this.#keys.seq,
      this.#keys.wake,
      this.#luaPrefix,
      nowText,
      this.#tokenTtlMs > 0 ? randomUUID() : "",
      this.#tokenTtlText,
      DEDUPE_TTL_MS_TEXT,
      DEFAULT_MAX_ATTEMPTS_TEXT,
      DEFAULT_BACKOFF_TEXT,
    ];
    // Three arguments per job; most jobs use the defaults, which the script fills in, so
    // each job costs Redis (and ioredis) as few arguments as possible.
    for (const p of prepared) {
      args.push(
        p.name,
        p.payloadJson,
        p.delaySeconds === 0 &&
          p.maxAttempts === DEFAULT_MAX_ATTEMPTS &&
          p.backoffSeconds === DEFAULT_BACKOFF_SECONDS &&
          p.dedupeKey === null
          ? ""
          : `${now + p.delaySeconds * 1000},${p.delaySeconds > 0 ? "1" : "0"},${p.maxAttempts},${p.backoffSeconds},${p.dedupeKey ?? ""}`,
      );
    }
    const reply = await this.#call("enqueue", () => this.#client.svcJobsEnqueue(...args));
    const fresh = (p: PreparedEnqueue, id: string): Job => ({
      id,
      name: p.name,
      payload: JSON.parse(p.payloadJson),
      availableAt: new Date(now + p.delaySeconds * 1000),
      attempts: 0,
      maxAttempts: p.maxAttempts,
      backoffSeconds: p.backoffSeconds,
      lastError: null,
    });
    if (reply[0] === "r") {
      // Every job is new, with consecutive ids.
      const first = Number(reply[1]);
      if (!Number.isSafeInteger(first) || Number(reply[2]) !== prepared.length) {
        throw new BackendError(
          `Redis enqueue returned an unexpected reply: ${JSON.stringify(reply)}`,
        );
      }
      return prepared.map((p, i) => fresh(p, String(first + i)));
    }
    return prepared.map((p, i) => {
      const entry = reply[i];
      if (typeof entry === "string") return fresh(p, entry);
      if (Array.isArray(entry) && entry.length >= 8) return toJob(entry);
      if (Array.isArray(entry) && typeof entry[0] === "string") {
        // A dedupe hit whose job already completed: the key still holds for its 24 h, so
        // nothing new is created; return what the caller originally got, reconstructed.
        return {
          id: entry[0],
          name: p.name,
          payload: JSON.parse(p.payloadJson),
          availableAt: new Date(now),
          attempts: 0,
          maxAttempts: p.maxAttempts,
          backoffSeconds: p.backoffSeconds,
          lastError: null,
        };
      }
      throw new BackendError(
        `Redis enqueue returned an unexpected reply for item ${i}: ${JSON.stringify(entry)}`,
      );
    });
  }

  async #reserve(count: number): Promise<{ jobs: Job[]; nextDue: number | null }> {
    const now = this.#clock.now();
    const k = this.#keys;
    const reply = await this.#call("reserve", () =>
      this.#client.svcJobsReserve(
        k.ready,
        k.processing,
        k.vt,
        k.delayed,
        k.dlq,
        k.wake,
        this.#luaPrefix,
        String(now),
        String(now + this.visibilityTimeoutSeconds * 1000),
        String(count),
        this.#batch,
        EXPIRED_PRE,
        EXPIRED_POST,
      ),
    );
    const jobs: Job[] = [];
    for (let i = 1; i < reply.length; i++) jobs.push(toJob(reply[i] as Fields));
    const head = reply[0];
    const nextDue = typeof head === "string" && head !== "" ? Number(head) : null;
    return { jobs, nextDue };
  }

  /** Waits until work may be available: a wake-up from Redis, `maxMs`, or the signal. */
  #waitForWork(maxMs: number, signal?: AbortSignal): Promise<WakeReason> {
    return new Promise<WakeReason>((resolve) => {
      const done = (reason: WakeReason) => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener("abort", onAbort);
        resolve(reason);
      };
      const onAbort = () => done("wake");
      const timer = setTimeout(
        () => done("timeout"),
        this.#canBlock ? maxMs : Math.min(maxMs, this.#fallbackPollMs),
      );
      this.#waiters.add(done);
      signal?.addEventListener("abort", onAbort, { once: true });
      if (this.#canBlock) this.#startRound(maxMs);
    });
  }

  /**
   * One BLPOP on the wake list at a time, on the queue's own connection, shared by all of
   * this queue's waiters (a connection runs blocking commands one after another).
   */
  #startRound(maxMs: number): void {
    if (this.#round || this.#closed) return;
    const blocking = this.#blockingConnection();
    if (!blocking) return;
    // BLPOP takes seconds with decimals; 0 would mean forever.
    const timeoutSeconds = Math.max(0.01, Math.ceil(maxMs) / 1000);
    this.#round = (async () => {
      let reason: WakeReason = "wake";
      try {
        const got = await blocking.blpop(this.#keys.wake, timeoutSeconds);
        if (got === null) reason = "quiet";
        else if (this.#waiters.size === 0 && !this.#closed) {
          // Nobody here wants it any more (their waits ended): pass it on to other workers.
          await this.#client.lpush(this.#keys.wake, "1").catch(() => {});
        }
      } catch (error) {
        if (!this.#closed && isUnsupported(error)) {
          this.#canBlock = false;
        } else if (!this.#closed) {
          // Redis is away: do not spin; the next reserve reports the error.
          await new Promise((r) => setTimeout(r, Math.min(maxMs, 100)));
        }
      } finally {
        this.#round = undefined;
      }
      this.#wakeAll(reason);
    })();
  }

  #blockingConnection(): BlockingConnection | undefined {
    if (!this.#blocking) {
      try {
        const c = this.#client as unknown as { duplicate?: () => BlockingConnection };
        if (typeof c.duplicate !== "function") {
          this.#canBlock = false;
          return undefined;
        }
        this.#blocking = c.duplicate();
        // A dropped blocking connection reconnects by itself; its errors surface as a
        // failed BLPOP (handled above), not as an unhandled 'error' event.
        this.#blocking.on?.("error", () => {});
      } catch {
        this.#canBlock = false;
        return undefined;
      }
    }
    return this.#blocking;
  }

  #wakeAll(reason: WakeReason): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake(reason);
  }

  async #dlqList(opts: DlqListOptions = {}): Promise<Job[]> {
    this.#assertOpen();
    const limit = opts.limit === undefined ? 100 : validateInteger("opts.limit", opts.limit, 0);
    const offset = opts.offset === undefined ? 0 : validateInteger("opts.offset", opts.offset, 0);
    const k = this.#keys;
    const out: Job[] = [];
    // Pages of at most BATCH, so one script never returns an unbounded reply.
    for (let at = offset, left = limit; left > 0; ) {
      const page = Math.min(left, BATCH);
      const [read, ...jobs] = await this.#call("dlq.list", () =>
        this.#client.svcJobsDlqList(
          k.ready,
          k.processing,
          k.vt,
          k.delayed,
          k.dlq,
          this.#luaPrefix,
          this.#now(),
          this.#batch,
          EXPIRED_PRE,
          EXPIRED_POST,
          String(at),
          String(page),
        ),
      );
      for (const f of jobs) out.push(toJob(f));
      if (Number(read) < page) break;
      at += page;
      left -= page;
    }
    return out;
  }

  async #dlqRequeue(id: string): Promise<boolean> {
    this.#assertOpen();
    const jobId = jobIdOf(id, "id");
    const k = this.#keys;
    // A reservation that expired on its last attempt belongs in the DLQ by now: move it
    // there first, as the memory backend does, so the DLQ is the same on every backend.
    await this.housekeep();
    const n = await this.#call("dlq.requeue", () =>
      this.#client.svcJobsDlqRequeue(
        k.dlq,
        k.ready,
        k.wake,
        this.#luaPrefix,
        this.#now(),
        jobId,
        "0",
      ),
    );
    return Number(n) > 0;
  }

  /** Requeues or purges the whole DLQ in batches, so no single script blocks Redis for long. */
  async #dlqMany(op: "requeue" | "purge"): Promise<number> {
    this.#assertOpen();
    const k = this.#keys;
    await this.housekeep();
    let total = 0;
    for (;;) {
      const n = Number(
        await this.#call(`dlq.${op}`, () =>
          op === "requeue"
            ? this.#client.svcJobsDlqRequeue(
                k.dlq,
                k.ready,
                k.wake,
                this.#luaPrefix,
                this.#now(),
                "",
                String(BATCH),
              )
            : this.#client.svcJobsDlqPurge(k.dlq, this.#luaPrefix, String(BATCH)),
        ),
      );
      total += n;
      if (n < BATCH) return total;
    }
  }
}

/** The id and the fencing token (attempt number, '' for a bare id) of an ack/fail/... call. */
function fence(job: Job | string): [string, string] {
  const id = jobIdOf(job);
  if (typeof job === "string") return [id, ""];
  const attempts = (job as { attempts?: unknown }).attempts;
  return [id, typeof attempts === "number" ? String(attempts) : ""];
}

function toJob(f: Fields): Job {
  const lastError = f[7];
  return {
    id: String(f[0]),
    name: String(f[1]),
    payload: JSON.parse(String(f[2])),
    availableAt: new Date(Number(f[3])),
    attempts: Number(f[4]),
    maxAttempts: Number(f[5]),
    backoffSeconds: Number(f[6]),
    // The hash keeps last_error as "" until the first failure (SPEC: every field a string).
    lastError: typeof lastError === "string" && lastError !== "" ? lastError : null,
  };
}

/** Redis Cluster hash tag rule: a `{` followed later by a `}` with something between. */
function hasHashTag(key: string): boolean {
  const open = key.indexOf("{");
  if (open < 0) return false;
  const close = key.indexOf("}", open + 1);
  return close > open + 1;
}

function isUnsupported(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /unsupported command|unknown command|not supported/i.test(message);
}
