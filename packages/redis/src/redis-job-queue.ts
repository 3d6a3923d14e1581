import {
  type AckOptions,
  BackendError,
  type CancelOptions,
  type Clock,
  ConfigError,
  type DeadLetterQueue,
  type DlqListOptions,
  type EnqueueItem,
  type EnqueueOptions,
  type EventsOptions,
  errorMessage,
  type FlowLimits,
  type GroupLimits,
  type Job,
  type JobEvent,
  type JobInfo,
  type JobPage,
  type JobQueue,
  type JobRef,
  type JobState,
  JobValidationError,
  type JsonObject,
  type JsonPayload,
  type JsonValue,
  type ListJobsOptions,
  QueueClosedError,
  type QueueOptions,
  type QueueStats,
  type RateLimit,
  type ReleaseOptions,
  type ReservationCheck,
  type ReserveOptions,
  type SetGroupLimitsOptions,
  systemClock,
} from "@svc-jobs/core";
import {
  createJob,
  DLQ_LIST_OPTIONS,
  describeValue as describe,
  jobIdOf,
  type PreparedEnqueue,
  prepareEnqueue,
  prepareEnqueueMany,
  RESERVE_OPTIONS,
  rejectUnknownKeys,
  resolveQueueOptions,
  traceEnqueue,
  validateAckOptions,
  validateCancelOptions,
  validateGroupLimits,
  validateInteger,
  validateJsonValue,
  validateRateLimit,
  validateReleaseOptions,
  validateSeconds,
  validateSetGroupLimitsOptions,
} from "@svc-jobs/core/backend";
import { assertIoredisClient } from "./assert-ioredis-client.js";
import { type EventStreamClient, jobEvents } from "./event-stream.js";
import {
  isoUtc,
  jobFromHash,
  newJobDefaults,
  newJobFields,
  newJobTable,
  untracedFields,
} from "./job-hash.js";
import { JobInspection } from "./job-inspection.js";
import { queueKeys } from "./queue-keys.js";
import { QueueScripts } from "./queue-scripts.js";
import type { DefinesCommands } from "./scripts.js";
import { WakeWaiter } from "./wake-waiter.js";

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

/** The options of {@link RedisJobQueueOptions} besides the shared `QueueOptions`. */
const OWN_OPTION_KEYS = [
  "prefix",
  "blocking",
  "fallbackPollSeconds",
  "enqueueTokenTtlSeconds",
  "housekeepingBatch",
  "random",
] as const satisfies readonly (keyof RedisJobQueueOptions)[];

const MIN_WAIT_MS = 5;
/** Jobs per script for stats, housekeep() and the DLQ's pages and bulk operations. */
const BATCH = 1000;
const ENQUEUE_CHUNK = 1000;
const MAX_RESERVE_MANY = 1000;

/**
 * The production backend: a job queue in Redis, every transition one Lua script costing
 * O(log n), with layout version 2 (docs/redis-layout.md): svc-infra's keys and encodings,
 * so a Python svc-infra service can share the queue and its runbooks keep working. Blocking reserves wait on their own connection and wake as soon
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

  /** The key prefix: the `messaging.destination.name` of the queue's trace spans (docs/tracing.md). */
  get name(): string {
    return this.prefix;
  }

  readonly #clock: Clock;
  readonly #maxPayloadBytes: number;
  readonly #scripts: QueueScripts;
  readonly #waiter: WakeWaiter;
  readonly #eventsEnabled: boolean;
  readonly #inspection: JobInspection;
  readonly #eventsKey: string;
  readonly #eventsClient: EventStreamClient;
  readonly #blockingEvents: boolean;
  /** Aborts when the queue closes: ends every events() iteration. */
  readonly #closing = new AbortController();
  #closed = false;
  /** True once the queue's keys are known to be at layout version 2. */
  #layoutDone = false;
  #layoutCheck: Promise<void> | undefined;

  constructor(client: RedisJobQueueClient, options: RedisJobQueueOptions = {}) {
    assertIoredisClient(client, "RedisJobQueue");
    // The options every backend shares (time, retries, limits) are checked in one place.
    // Its own keys are known too, so a typo in either set is refused by name.
    const resolved = resolveQueueOptions(options, OWN_OPTION_KEYS);
    this.visibilityTimeoutSeconds = resolved.visibilityTimeoutSeconds;
    this.#clock = resolved.clock;
    this.#maxPayloadBytes = resolved.maxPayloadBytes;
    const tokenTtlSeconds = validateSeconds(
      "enqueueTokenTtlSeconds",
      options.enqueueTokenTtlSeconds ?? 60,
    );
    const housekeepingBatch = validateInteger(
      "housekeepingBatch",
      options.housekeepingBatch ?? 100,
      1,
    );
    const fallbackPollSeconds = validateSeconds(
      "fallbackPollSeconds",
      options.fallbackPollSeconds ?? 0.05,
      0.001,
    );

    const keys = queueKeys(options.prefix ?? "jobs", {
      cluster: client.isCluster === true,
      clientKeyPrefix: (client as { options?: { keyPrefix?: string } }).options?.keyPrefix ?? "",
    });
    this.prefix = keys.prefix;
    this.#scripts = new QueueScripts(client, keys, {
      housekeepingBatch,
      retry: resolved.retry,
      random: options.random ?? Math.random,
      enqueueTokenTtlMs: Math.round(tokenTtlSeconds * 1000),
      keepCompleted: resolved.keepCompleted,
      keepCancelled: resolved.keepCancelled,
      events: resolved.events,
      visibilityTimeoutSeconds: resolved.visibilityTimeoutSeconds,
      realTime: resolved.clock === systemClock,
    });
    this.#eventsEnabled = resolved.events !== null;
    this.#inspection = new JobInspection(client, keys, {
      call: (what, run) => this.#call(what, run),
      housekeep: () => this.housekeep(),
    });
    this.#eventsKey = keys.events;
    this.#eventsClient = client as unknown as EventStreamClient;
    // ioredis-mock's XREAD does not block as Redis does: events() polls there.
    this.#blockingEvents = options.blocking !== false && !isIoredisMock(client);
    this.#waiter = new WakeWaiter(client, keys.wake, {
      blocking: options.blocking !== false,
      fallbackPollMs: fallbackPollSeconds * 1000,
    });
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
    const [job] = await traceEnqueue(this.prefix, [prepared], () => this.#insert([prepared]));
    return job as Job<P>;
  }

  async enqueueMany<P extends JsonPayload<P> = JsonObject>(
    items: EnqueueItem<P>[],
  ): Promise<Job<P>[]> {
    this.#assertOpen();
    const prepared = prepareEnqueueMany(items, { maxPayloadBytes: this.#maxPayloadBytes });
    return traceEnqueue(this.prefix, prepared, () => this.#insertMany(prepared)) as Promise<
      Job<P>[]
    >;
  }

  async #insertMany(prepared: PreparedEnqueue[]): Promise<Job[]> {
    if (prepared.length <= ENQUEUE_CHUNK) {
      return prepared.length ? this.#insert(prepared) : [];
    }
    // Large batches go as several scripts, sent together (pipelined by ioredis), so no
    // single script holds Redis for long. Every item was validated above.
    const chunks: Promise<Job[]>[] = [];
    for (let i = 0; i < prepared.length; i += ENQUEUE_CHUNK) {
      chunks.push(this.#insert(prepared.slice(i, i + ENQUEUE_CHUNK)));
    }
    return (await Promise.all(chunks)).flat();
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
    rejectUnknownKeys(opts, RESERVE_OPTIONS, "opts");
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
      const reason = await this.#waiter.wait(wait, opts.signal);
      if (this.#closed || opts.signal?.aborted) return [];
      // Each reserve is a script call: skip it when nothing can have changed, so an idle
      // worker costs a few commands per second.
      if (reason === "quiet") continue;
      if (reason === "timeout" && Date.now() >= deadline) return [];
      got = await this.#reserve(count);
      if (got.jobs.length > 0) return got.jobs;
    }
  }

  async ack(job: JobRef, opts?: AckOptions): Promise<void> {
    this.#assertOpen();
    const [id, attempts] = fence(job);
    // The checks every backend shares; no result (or null) is sent as ''.
    const result = validateAckOptions(opts);
    const resultJson = result === null ? "" : JSON.stringify(result);
    const now = this.#clock.now();
    await this.#call("ack", () => this.#scripts.ack(id, attempts, now, resultJson));
  }

  async fail(job: JobRef, error?: unknown): Promise<void> {
    this.#assertOpen();
    const [id, attempts] = fence(job);
    const message = errorMessage(error);
    await this.#call("fail", () => this.#scripts.fail(id, attempts, this.#clock.now(), message));
  }

  async release(job: JobRef, opts?: ReleaseOptions): Promise<void> {
    this.#assertOpen();
    const { delaySeconds, scope } = validateReleaseOptions(opts);
    const [id, attempts] = fence(job);
    const now = this.#clock.now();
    await this.#call("release", () =>
      this.#scripts.release(id, attempts, delaySeconds, scope, now),
    );
  }

  async extendVisibility(job: JobRef, seconds: number): Promise<void> {
    this.#assertOpen();
    validateSeconds("seconds", seconds, 0);
    const [id, attempts] = fence(job);
    const deadline = this.#clock.now() + seconds * 1000; // epoch ms; sent as seconds
    await this.#call("extendVisibility", () =>
      this.#scripts.extendVisibility(id, attempts, deadline),
    );
  }

  async stats(): Promise<QueueStats> {
    this.#assertOpen();
    return this.#call("stats", () => this.#scripts.stats(this.#clock.now(), BATCH));
  }

  // ---- seeing and controlling jobs (docs/contract.md, "Seeing and controlling jobs") ----

  async getJob(id: string): Promise<JobInfo | null> {
    this.#assertOpen();
    return this.#inspection.getJob(id);
  }

  async listJobs(opts: ListJobsOptions): Promise<JobPage> {
    this.#assertOpen();
    return this.#inspection.listJobs(opts);
  }

  async countByName(state: JobState): Promise<Record<string, number>> {
    this.#assertOpen();
    return this.#inspection.countByName(state);
  }

  /**
   * Cancels a ready, delayed or reserved job (cancel-4.lua). A waiting job's removal scans
   * its priority's list (an operator's action; docs/redis-layout.md, "Costs").
   */
  async cancel(id: string, opts?: CancelOptions): Promise<boolean> {
    this.#assertOpen();
    const jobId = jobIdOf(id, "id");
    const reason = validateCancelOptions(opts) ?? "";
    // A reservation that expired on its last attempt is dead, not cancellable: settle
    // expiries first, as the DLQ operations do, so every backend answers alike.
    await this.housekeep();
    const now = this.#clock.now();
    return this.#call("cancel", () => this.#scripts.cancel(jobId, now, reason));
  }

  /** Makes a delayed job ready now (promote-3.lua). */
  async promote(id: string): Promise<boolean> {
    this.#assertOpen();
    const jobId = jobIdOf(id, "id");
    return this.#call("promote", () => this.#scripts.promote(jobId, this.#clock.now()));
  }

  // ---- flow control (docs/contract.md, "Flow control"; docs/redis-layout.md) ----

  async setRateLimit(limit: RateLimit | null): Promise<void> {
    this.#assertOpen();
    const checked = validateRateLimit(limit);
    await this.#call("setRateLimit", () =>
      checked === null
        ? this.#scripts.setRateLimit("", "")
        : this.#scripts.setRateLimit(String(checked.max), String(checked.perSeconds)),
    );
  }

  async setGroupLimits(limits: GroupLimits | null, opts?: SetGroupLimitsOptions): Promise<void> {
    this.#assertOpen();
    const checked = validateGroupLimits(limits);
    const group = validateSetGroupLimitsOptions(opts);
    const spec =
      checked === null
        ? ""
        : [checked.concurrency, checked.max, checked.perSeconds]
            .map((v) => (v === undefined ? "" : String(v)))
            .join(",");
    await this.#call("setGroupLimits", () => this.#scripts.setGroupLimits(group ?? "", spec));
  }

  async getLimits(): Promise<FlowLimits> {
    this.#assertOpen();
    const stored = await this.#call("getLimits", () => this.#scripts.readLimits());
    const now = this.#clock.now();
    const groupOverrides: Record<string, GroupLimits> = {};
    const pairs: [string, GroupLimits][] = [];
    for (let i = 0; i + 1 < stored.overrides.length; i += 2) {
      pairs.push([stored.overrides[i]!, parseGroupSpec(stored.overrides[i + 1]!)]);
    }
    // By code point (UTF-8 byte order), as every backend lists groups.
    pairs.sort(([a], [b]) => (a === b ? 0 : Buffer.compare(Buffer.from(a), Buffer.from(b))));
    for (const [group, limits] of pairs) {
      Object.defineProperty(groupOverrides, group, {
        value: limits,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    const holdUntil = stored.holdUntil === "" ? null : Number(stored.holdUntil) * 1000;
    return {
      rateLimit:
        stored.rateMax === ""
          ? null
          : { max: Number(stored.rateMax), perSeconds: Number(stored.ratePer) },
      groupLimits: stored.group === "" ? null : parseGroupSpec(stored.group),
      groupOverrides,
      heldUntil: holdUntil !== null && holdUntil > now ? new Date(holdUntil) : null,
    };
  }

  /** Pauses the queue for every process that uses it: `{prefix}:paused` (pause-1.lua). */
  async pause(): Promise<void> {
    this.#assertOpen();
    await this.#call("pause", () => this.#scripts.pause("pause"));
  }

  /** Ends a pause and wakes blocked reserves (pause-1.lua). */
  async resume(): Promise<void> {
    this.#assertOpen();
    await this.#call("resume", () => this.#scripts.pause("resume"));
  }

  async isPaused(): Promise<boolean> {
    this.#assertOpen();
    return this.#call("isPaused", () => this.#scripts.pause("read"));
  }

  events(opts: EventsOptions = {}): AsyncIterable<JobEvent> {
    this.#assertOpen();
    if (!this.#eventsEnabled) {
      throw new ConfigError(
        `queue "${this.prefix}" records no events (its events option is false): create it with events: true or { maxLen } to use events()`,
      );
    }
    return jobEvents(this.#eventsClient, this.#eventsKey, opts, {
      closed: this.#closing.signal,
      blocking: this.#blockingEvents,
    });
  }

  /** Records a reserved job's progress (progress-1.lua), fenced like `ack`. */
  async progress(job: JobRef, value: JsonValue): Promise<void> {
    this.#assertOpen();
    const [id, attempts] = fence(job);
    const valueJson = JSON.stringify(validateJsonValue(value, "value"));
    const now = this.#clock.now();
    await this.#call("progress", () => this.#scripts.progress(id, attempts, now, valueJson));
  }

  /**
   * Which of `jobs` the caller no longer holds (checkReservations-6.lua, after housekeeping:
   * an expired reservation is lost), in one script per 1,000.
   */
  async checkReservations(jobs: JobRef[]): Promise<ReservationCheck[]> {
    this.#assertOpen();
    if (!Array.isArray(jobs)) {
      throw new JobValidationError("jobs", `jobs must be an array, got ${describe(jobs)}`);
    }
    const held = jobs.map((job, i) => fence(job, `jobs[${i}]`));
    const out: ReservationCheck[] = [];
    for (let i = 0; i < held.length; i += BATCH) {
      const chunk = held.slice(i, i + BATCH);
      const lost = await this.#call("checkReservations", () =>
        this.#scripts.checkReservations(this.#clock.now(), chunk),
      );
      for (const check of lost) out.push(check);
    }
    return out;
  }

  /**
   * Requeues expired reservations and promotes due delayed jobs now. Every reserve does
   * this as well; call it from a runbook or a cron when no worker is running.
   * @returns how many reservations expired and how many delayed jobs became ready
   */
  async housekeep(): Promise<{ requeued: number; promoted: number }> {
    this.#assertOpen();
    let requeued = 0;
    let promoted = 0;
    for (;;) {
      const done = await this.#call("housekeep", () =>
        this.#scripts.housekeep(this.#clock.now(), BATCH),
      );
      requeued += done.requeued;
      promoted += done.promoted;
      if (done.requeued < BATCH && done.promoted < BATCH) return { requeued, promoted };
    }
  }

  /** Closes the blocking connection the queue opened; never the client passed in. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    this.#waiter.close();
  }

  // ---- internals -------------------------------------------------------------

  #assertOpen(): void {
    if (this.#closed) throw new QueueClosedError("RedisJobQueue");
  }

  /**
   * Checks the layout once per queue object, before its first script: a queue at version 1
   * (or one svc-infra created) is upgraded to version 2 in batches (upgrade-4.lua), each
   * atomic; concurrent callers finish the same upgrade. See docs/redis-layout.md.
   */
  #ensureLayout(): Promise<void> {
    this.#layoutCheck ??= (async () => {
      while (!(await this.#scripts.upgrade(BATCH))) {
        if (this.#closed) throw new QueueClosedError("RedisJobQueue");
      }
      this.#layoutDone = true;
    })().catch((error: unknown) => {
      this.#layoutCheck = undefined;
      throw error;
    });
    return this.#layoutCheck;
  }

  async #call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      if (!this.#layoutDone) await this.#ensureLayout();
      return await run();
    } catch (error) {
      if (this.#closed) throw new QueueClosedError("RedisJobQueue");
      // A reply the scripts could not read is already a BackendError that says so.
      if (error instanceof BackendError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new BackendError(
        `Redis ${what} failed on queue "${this.prefix}": ${message}: check that Redis is reachable and the client is connected; the queue's state is unchanged unless the command reached Redis`,
        { code: "ERR_REDIS", cause: error },
      );
    }
  }

  async #insert(prepared: PreparedEnqueue[]): Promise<Job[]> {
    const now = this.#clock.now();
    const nowIso = isoUtc(now);
    const table = newJobTable(prepared, now);
    const results = await this.#call("enqueue", () => this.#scripts.enqueue(now, nowIso, table));
    // A new job is what the script wrote: what this call sent, over a new job's defaults.
    // A dedupe hit is the hash the script read back, over what this call sent but its trace
    // context: the job shows the context its first enqueue recorded, or none (docs/tracing.md).
    return results.map((result, i) => {
      const p = prepared[i] as PreparedEnqueue;
      if (typeof result === "string") {
        return createJob({
          id: result,
          name: p.name,
          payload: JSON.parse(p.payloadJson),
          availableAt: now + p.delaySeconds * 1000,
          maxAttempts: p.maxAttempts,
          backoffSeconds: p.backoffSeconds,
          traceContext: p.traceContext,
        });
      }
      return jobFromHash(newJobDefaults(nowIso), untracedFields(newJobFields(table, i)), result);
    });
  }

  async #reserve(count: number): Promise<{ jobs: Job[]; nextDue: number | null }> {
    // The clock is read when the script is sent, after the first call's layout check: a
    // rate limit's window counts each start at this time (docs/contract.md, "Flow control").
    const got = await this.#call("reserve", () => {
      const now = this.#clock.now();
      return this.#scripts.reserve(now, now + this.visibilityTimeoutSeconds * 1000, count);
    });
    return { jobs: got.jobs.map((fields) => jobFromHash(fields)), nextDue: got.nextDue };
  }

  async #dlqList(opts: DlqListOptions = {}): Promise<Job[]> {
    this.#assertOpen();
    rejectUnknownKeys(opts, DLQ_LIST_OPTIONS, "opts");
    const limit = opts.limit === undefined ? 100 : validateInteger("opts.limit", opts.limit, 0);
    const offset = opts.offset === undefined ? 0 : validateInteger("opts.offset", opts.offset, 0);
    const out: Job[] = [];
    // Pages of at most BATCH, so one script never returns an unbounded reply.
    for (let at = offset, left = limit; left > 0; ) {
      const page = Math.min(left, BATCH);
      const got = await this.#call("dlq.list", () =>
        this.#scripts.dlqList(this.#clock.now(), at, page),
      );
      for (const fields of got.jobs) out.push(jobFromHash(fields));
      if (got.read < page) break;
      at += page;
      left -= page;
    }
    return out;
  }

  async #dlqRequeue(id: string): Promise<boolean> {
    this.#assertOpen();
    const jobId = jobIdOf(id, "id");
    // A reservation that expired on its last attempt belongs in the DLQ by now: move it
    // there first, as the memory backend does, so the DLQ is the same on every backend.
    await this.housekeep();
    return this.#call("dlq.requeue", () => this.#scripts.dlqRequeueOne(this.#clock.now(), jobId));
  }

  /** Requeues or purges the whole DLQ in batches, so no single script blocks Redis for long. */
  async #dlqMany(op: "requeue" | "purge"): Promise<number> {
    this.#assertOpen();
    await this.housekeep();
    let total = 0;
    for (;;) {
      const n = await this.#call(`dlq.${op}`, () =>
        op === "requeue"
          ? this.#scripts.dlqRequeueOldest(this.#clock.now(), BATCH)
          : this.#scripts.dlqPurge(BATCH),
      );
      total += n;
      if (n < BATCH) return total;
    }
  }
}

/** The id and the fencing token (attempt number, '' for a bare id) of an ack/fail/... call. */
function fence(job: JobRef, field = "job"): [string, string] {
  const id = jobIdOf(job, field);
  if (typeof job === "string") return [id, ""];
  const attempts = (job as { attempts?: unknown }).attempts;
  return [id, typeof attempts === "number" ? String(attempts) : ""];
}

/** Whether `client` is an ioredis-mock instance (its class is `RedisMock`). */
function isIoredisMock(client: object): boolean {
  return /RedisMock/.test((client as { constructor?: { name?: string } }).constructor?.name ?? "");
}

/** Group limits as limits-1.lua stores them: 'concurrency,max,per', each part '' when unset. */
function parseGroupSpec(spec: string): GroupLimits {
  const [concurrency = "", max = "", per = ""] = spec.split(",");
  const limits: GroupLimits = {};
  if (concurrency !== "") limits.concurrency = Number(concurrency);
  if (max !== "") {
    limits.max = Number(max);
    limits.perSeconds = Number(per);
  }
  return limits;
}
