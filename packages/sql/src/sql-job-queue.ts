import {
  type AckOptions,
  BackendError,
  type CancelOptions,
  type Clock,
  ConfigError,
  DEDUPE_TTL_SECONDS,
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
  JobsError,
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
  type RetryStrategy,
  type SetGroupLimitsOptions,
} from "@svc-jobs/core";
import {
  compareCodePoints,
  createJob,
  DLQ_LIST_OPTIONS,
  decodeCursorOf,
  describeValue,
  encodeCursor,
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
  validateEventsOptions,
  validateGroupLimits,
  validateInteger,
  validateJobState,
  validateJsonValue,
  validateListJobsOptions,
  validateRateLimit,
  validateReleaseOptions,
  validateSeconds,
  validateSetGroupLimitsOptions,
} from "@svc-jobs/core/backend";
import { sql } from "kysely";
import { callFastEnqueue, callFastPath, type FastPathResult } from "./fast-path.js";
import {
  type AnyKysely,
  type AnyTransaction,
  checkDialect,
  checkSchema,
  onSchema,
  type SqlDialect,
  TABLES,
} from "./job-tables.js";
import { type NotifyPool, notifyPayload, PgNotifier } from "./pg-notifier.js";
import {
  type JobRow,
  num,
  parseControl,
  type QueueConfig,
  QueueTx,
  rowToEvent,
  rowToInfo,
  rowToJob,
} from "./queue-transaction.js";

/** Options of {@link SqlJobQueue}: its own, and the options every queue takes. */
export interface SqlJobQueueOptions extends QueueOptions {
  /** The database behind `db`. */
  dialect: SqlDialect;
  /**
   * The schema of the tables, as given to {@link migrateJobTables}.
   * @default the connection's search path (PostgreSQL), `main` (SQLite)
   */
  schema?: string;
  /**
   * The queue's name: several queues share the tables, each its own jobs, ids, limits and
   * events. At most 200 characters.
   * @default "default"
   */
  queue?: string;
  /**
   * How often a blocked reserve and an `events()` iterator look for work another process
   * wrote (work written through this queue object wakes them at once). With `notify`, only
   * while its connection is down; it then checks once a second at most anyway.
   * @default 0.05
   */
  pollIntervalSeconds?: number;
  /**
   * PostgreSQL: a `pg` `Pool` to take one dedicated connection from, which `LISTEN`s so that
   * blocked reserves and `events()` wake when another process writes work or events, instead
   * of polling. The connection is opened on the first wait and closed by `close()`.
   * Every write transaction of every `SqlJobQueue` on PostgreSQL sends the `NOTIFY`.
   * @default none: poll every `pollIntervalSeconds`
   */
  notify?: NotifyPool;
}

/** Options of {@link SqlJobQueue.enqueue}: the contract's, and the caller's transaction. */
export interface SqlEnqueueOptions extends EnqueueOptions {
  /**
   * A Kysely transaction of the caller: the job is written in it, so it exists if and only
   * if the transaction commits (docs/sql-backend.md, "Enqueue in your transaction").
   */
  trx?: AnyTransaction | AnyKysely;
}

/** Options of {@link SqlJobQueue.enqueueMany}. */
export interface SqlEnqueueManyOptions {
  /** As {@link SqlEnqueueOptions.trx}. */
  trx?: AnyTransaction | AnyKysely;
}

const OWN_KEYS = ["dialect", "schema", "queue", "pollIntervalSeconds", "notify"];
/** How often a waiter looks anyway while LISTEN is up (a lost notification costs this much). */
const LISTENING_POLL_MS = 1000;
const ENQUEUE_MANY_KEYS = { keys: ["trx"], hints: { transaction: "trx" }, noun: "option" };
/** Rows per INSERT statement of a batch (parameter limits of both databases). */
const INSERT_CHUNK = 500;
const READY_CURSOR_KINDS = ["string", "number", "number"] as const;
/** Operations in one transaction at most (the rest wait for the next). */
const MAX_BATCH = 500;

/** PostgreSQL's code for an undefined function. */
const UNDEFINED_FUNCTION = "42883";
/** Batches that skip the fast path after it found the queue outside the common case. */
const FAST_SKIPS_AFTER_BUSY = 8;

interface AckRequest {
  job: JobRef;
  result: JsonValue;
}

/** An operation waiting for a transaction of {@link SqlJobQueue} (its `#write`). */
interface PendingOp {
  run: (tx: QueueTx) => Promise<unknown>;
  /** Set on an ack, which the batch may settle with the others in one statement. */
  ack?: AckRequest;
  /** Set on a reserve: how many it takes, and whether it wants the next wake-up time. */
  reserve?: { count: number; wake: boolean };
  /** Set on an enqueue: what it writes. */
  enqueue?: PreparedEnqueue[];
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  value: unknown;
}

/**
 * The svc-jobs queue on PostgreSQL or SQLite through Kysely. Passes the conformance suite
 * of `@svc-jobs/core/testing`. Create the tables first with {@link migrateJobTables}.
 *
 * @example
 * ```ts
 * await migrateJobTables(db, { dialect: "postgres" });
 * const queue = new SqlJobQueue(db, { dialect: "postgres" });
 * await db.transaction().execute(async (trx) => {
 *   await trx.insertInto("orders").values(order).execute();
 *   await queue.enqueue("ship_order", { orderId: order.id }, { trx });
 * });
 * ```
 */
export class SqlJobQueue implements JobQueue {
  readonly visibilityTimeoutSeconds: number;
  /** The queue's name (`options.queue`): also its `messaging.destination.name`. */
  readonly name: string;
  readonly dialect: SqlDialect;
  readonly schema: string | null;
  readonly dlq: DeadLetterQueue;

  #db: AnyKysely;
  #clock: Clock;
  #retry: RetryStrategy;
  #maxPayloadBytes: number;
  #config: QueueConfig;
  #pollMs: number;
  #ready: Promise<void> | undefined;
  #closed = false;
  /** Local waiters: `work` ones (blocked reserves) and the others (event iterators). */
  #waiters = new Map<() => void, boolean>();
  /** Counts of wake-ups (work, any), so a waiter sees one that came before it slept. */
  #workGen = 0;
  #anyGen = 0;
  #notifier: PgNotifier | undefined;
  /** Operations waiting for this object's next transaction, and whether one is running. */
  #pending: PendingOp[] = [];
  #writing = false;
  /** Batches left that go straight to the general path (see #fastPath); infinite when the
   * tables have no functions (migrated by an older version). */
  #fastSkips = 0;
  /** When reserves last deleted expired dedupe keys and cancel records (queue clock). */
  #lastCleanup = Number.NEGATIVE_INFINITY;

  constructor(db: AnyKysely, options: SqlJobQueueOptions) {
    if (
      db === null ||
      typeof db !== "object" ||
      typeof (db as AnyKysely).selectFrom !== "function"
    ) {
      throw new ConfigError(`SqlJobQueue takes a Kysely instance, got ${describeValue(db)}`);
    }
    if (options === null || typeof options !== "object") {
      throw new ConfigError(
        'SqlJobQueue takes options { dialect: "postgres" | "sqlite", queue?, schema?, ... }',
      );
    }
    const resolved = resolveQueueOptions(options, OWN_KEYS);
    this.dialect = checkDialect(options.dialect, "options.dialect");
    this.schema = checkSchema(options.schema, "options.schema");
    const queue = options.queue ?? "default";
    if (typeof queue !== "string" || queue.length === 0 || queue.length > 200) {
      throw new ConfigError(
        `options.queue must be a non-empty string of at most 200 characters, got ${describeValue(queue)}`,
      );
    }
    this.name = queue;
    this.#pollMs =
      validateSeconds("pollIntervalSeconds", options.pollIntervalSeconds ?? 0.05, 0.001) * 1000;
    if (options.notify !== undefined) {
      if (this.dialect !== "postgres") {
        throw new ConfigError("options.notify is for PostgreSQL (LISTEN/NOTIFY); SQLite polls");
      }
      const pool = options.notify as Partial<NotifyPool> | null;
      if (pool === null || typeof pool !== "object" || typeof pool.connect !== "function") {
        throw new ConfigError(
          `options.notify must be a pg Pool (anything with connect()), got ${describeValue(pool)}`,
        );
      }
      this.#notifier = new PgNotifier(pool as NotifyPool, queue, (work) => this.#notify(work));
    }
    this.visibilityTimeoutSeconds = resolved.visibilityTimeoutSeconds;
    this.#db = db;
    this.#clock = resolved.clock;
    this.#retry = resolved.retry;
    this.#maxPayloadBytes = resolved.maxPayloadBytes;
    this.#config = {
      queue,
      dialect: this.dialect,
      visibilityTimeoutMs: resolved.visibilityTimeoutSeconds * 1000,
      retry: resolved.retry,
      keepCompleted: resolved.keepCompleted,
      keepCancelled: resolved.keepCancelled,
      eventsMaxLen: resolved.events?.maxLen ?? null,
      schema: this.schema,
    };
    this.dlq = {
      list: (opts) => this.#dlqList(opts),
      requeue: (id) => this.#dlqRequeue(id),
      requeueAll: () => this.#dlqRequeueAll(),
      purge: () => this.#dlqPurge(),
    };
  }

  // ---- enqueue ---------------------------------------------------------------------

  async enqueue<P extends JsonPayload<P> = JsonObject>(
    name: string,
    payload: P,
    opts?: SqlEnqueueOptions,
  ): Promise<Job<P>> {
    this.#assertOpen();
    // `trx` is this backend's own option: taken out before the contract's checks, which
    // refuse keys they do not know.
    let trx: AnyKysely | undefined;
    let rest: EnqueueOptions | undefined = opts;
    if (opts !== null && typeof opts === "object" && "trx" in opts) {
      const { trx: given, ...others } = opts;
      trx = checkTrx(given, "opts.trx");
      rest = others;
    }
    const prepared = prepareEnqueue(name, payload, rest, {
      maxPayloadBytes: this.#maxPayloadBytes,
    });
    const [job] = await traceEnqueue(this.name, [prepared], () =>
      this.#write((tx) => this.#insert(tx, [prepared]), trx, { enqueue: [prepared] }),
    );
    return job as Job<P>;
  }

  async enqueueMany<P extends JsonPayload<P> = JsonObject>(
    items: EnqueueItem<P>[],
    opts?: SqlEnqueueManyOptions,
  ): Promise<Job<P>[]> {
    this.#assertOpen();
    let trx: AnyKysely | undefined;
    if (opts !== undefined && opts !== null) {
      if (typeof opts !== "object") {
        throw new JobValidationError(
          "opts",
          `enqueueMany options must be { trx? }, got ${describeValue(opts)}`,
        );
      }
      rejectUnknownKeys(opts, ENQUEUE_MANY_KEYS, "opts");
      trx = opts.trx === undefined ? undefined : checkTrx(opts.trx, "opts.trx");
    }
    const prepared = prepareEnqueueMany(items, { maxPayloadBytes: this.#maxPayloadBytes });
    if (prepared.length === 0) return [];
    return (await traceEnqueue(this.name, prepared, () =>
      this.#write((tx) => this.#insert(tx, prepared), trx, { enqueue: prepared }),
    )) as Job<P>[];
  }

  // ---- reserve ---------------------------------------------------------------------

  async reserveNext(opts: ReserveOptions = {}): Promise<Job | null> {
    const jobs = await this.#reserve(1, opts);
    return jobs[0] ?? null;
  }

  async reserveMany(count: number, opts: ReserveOptions = {}): Promise<Job[]> {
    validateInteger("count", count, 1);
    if (count > 1000) {
      throw new JobValidationError("count", `count must be at most 1000, got ${count}`);
    }
    return this.#reserve(count, opts);
  }

  async #reserve(count: number, opts: ReserveOptions): Promise<Job[]> {
    this.#assertOpen();
    rejectUnknownKeys(opts, RESERVE_OPTIONS, "opts");
    const blockSeconds =
      opts.blockSeconds === undefined ? 0 : validateSeconds("opts.blockSeconds", opts.blockSeconds);
    const deadline = Date.now() + blockSeconds * 1000;
    for (;;) {
      const since = this.#gen(true);
      const { jobs, wakeAt } = await this.#write(
        async (tx) => {
          const jobs = await this.#tryReserve(tx, count);
          return {
            jobs,
            wakeAt: jobs.length > 0 || blockSeconds === 0 ? undefined : await tx.nextWake(),
          };
        },
        undefined,
        { reserve: { count, wake: blockSeconds > 0 } },
      );
      if (jobs.length > 0 || blockSeconds === 0) return jobs;
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.#closed || opts.signal?.aborted) return [];
      let wait = Math.min(remaining, await this.#pollInterval());
      if (wakeAt !== undefined) wait = Math.min(wait, Math.max(1, wakeAt - this.#clock.now()));
      await this.#sleep(wait, opts.signal, true, since);
      if (this.#closed || opts.signal?.aborted) return [];
    }
  }

  async #tryReserve(tx: QueueTx, count: number): Promise<Job[]> {
    // Expired dedupe keys and cancel records go at most once a second of the queue's clock.
    const cleanup = tx.now - this.#lastCleanup >= 1000 || tx.now < this.#lastCleanup;
    if (cleanup) this.#lastCleanup = tx.now;
    const out: Job[] = [];
    const c = tx.ctl;
    if (tx.isPostgres && c.paused === 0 && c.hold_until <= tx.now && c.rate_max === null) {
      // The common case in one statement (docs/sql-backend.md, "Reserve").
      const rows = await tx.reserveHeads(count, tx.now + this.#config.visibilityTimeoutMs);
      if (rows !== undefined) {
        if (cleanup) await tx.cleanup();
        for (const row of rows) {
          await tx.emit("reserved", row, { attempt: row.attempts });
          out.push(rowToJob(row));
        }
        return out;
      }
    }
    await tx.housekeep(cleanup);
    // docs/contract.md, "Pause" and "Flow control": a pause, a hold, then the rate limit.
    if (c.paused !== 0 || c.hold_until > tx.now) return out;
    const ratePerMs = c.rate_max === null ? null : (c.rate_per_seconds ?? 0) * 1000;
    let room = count;
    if (c.rate_max !== null && ratePerMs !== null) {
      const w = await tx.window("q", ratePerMs);
      room = Math.min(room, c.rate_max - w.count);
    }
    while (out.length < room) {
      const next = await tx.nextReady();
      if (!next) break;
      const { row } = next;
      const deadline = tx.now + this.#config.visibilityTimeoutMs;
      await tx.update(row, {
        state: "processing",
        attempts: row.attempts + 1,
        at: deadline,
        at_seq: tx.nextOrder(),
      });
      await tx.afterTake(row, next.rotation);
      if (c.rate_max !== null) await tx.recordStart("q");
      if (row.group_name !== null) {
        const limits = await tx.limitsOf(row.group_name);
        if (limits !== null && limits.max !== Number.POSITIVE_INFINITY) {
          await tx.recordStart(`g:${row.group_name}`);
        }
      }
      await tx.emit("reserved", row, { attempt: row.attempts });
      out.push(rowToJob(row));
    }
    return out;
  }

  // ---- settling ----------------------------------------------------------------------

  async ack(job: JobRef, opts?: AckOptions): Promise<void> {
    this.#assertOpen();
    const result = validateAckOptions(opts);
    jobIdOf(job);
    await this.#write(
      async (tx) => {
        const row = await tx.fenced(job);
        if (!row) return;
        await tx.leaveActive(row);
        await tx.emit("completed", row, { attempt: row.attempts, result });
        await tx.finish(row, "completed", { result: JSON.stringify(result) });
      },
      undefined,
      { ack: { job, result } },
    );
  }

  async fail(job: JobRef, error?: unknown): Promise<void> {
    this.#assertOpen();
    jobIdOf(job);
    const message = errorMessage(error);
    await this.#write(async (tx) => {
      const row = await tx.fenced(job);
      if (!row) return;
      await tx.leaveActive(row);
      await tx.failAttempt(row, message);
    });
  }

  async release(job: JobRef, opts?: ReleaseOptions): Promise<void> {
    this.#assertOpen();
    const { delaySeconds, scope } = validateReleaseOptions(opts);
    jobIdOf(job);
    await this.#write(async (tx) => {
      const row = await tx.fenced(job);
      if (!row) return;
      const attempts = Math.max(0, row.attempts - 1);
      const until = tx.now + delaySeconds * 1000;
      if (delaySeconds > 0 && scope === "queue") {
        tx.ctl.hold_until = Math.max(tx.ctl.hold_until, until);
        tx.touch();
      } else if (delaySeconds > 0 && scope === "group" && row.group_name !== null) {
        const group = await tx.group(row.group_name);
        await tx.setGroup(row.group_name, {
          hold_until: Math.max(num(group?.hold_until as string), until),
        });
      } else if (delaySeconds > 0) {
        // docs/contract.md, "Flow control": the job alone waits, delayed.
        row.attempts = attempts;
        await tx.leaveActive(row);
        await tx.toDelayed(row, until, { attempts, available_at: until });
        return;
      }
      row.attempts = attempts;
      await tx.leaveActive(row);
      // docs/contract.md, "Priorities": release puts a job at the front of its priority.
      await tx.toReady(row, true, { attempts });
    });
  }

  async extendVisibility(job: JobRef, seconds: number): Promise<void> {
    this.#assertOpen();
    validateSeconds("seconds", seconds, 0);
    jobIdOf(job);
    await this.#write(async (tx) => {
      const row = await tx.fenced(job);
      if (!row) return;
      await tx.update(row, { at: tx.now + seconds * 1000, at_seq: tx.nextOrder() });
    });
  }

  async stats(): Promise<QueueStats> {
    this.#assertOpen();
    return this.#write(async (tx) => {
      await tx.housekeep();
      const rows = await tx.db
        .selectFrom(TABLES.jobs)
        .select(["state", (eb) => eb.fn.countAll().as("n")])
        .where("queue", "=", this.name)
        .groupBy("state")
        .execute();
      const by = new Map(rows.map((r) => [r.state as string, num(r.n as string)]));
      return {
        ready: by.get("ready") ?? 0,
        delayed: by.get("delayed") ?? 0,
        processing: by.get("processing") ?? 0,
        dlq: by.get("dead") ?? 0,
        completed: by.get("completed") ?? 0,
        cancelled: by.get("cancelled") ?? 0,
        paused: tx.ctl.paused !== 0,
      };
    });
  }

  // ---- seeing and controlling jobs ------------------------------------------------------

  async getJob(id: string): Promise<JobInfo | null> {
    this.#assertOpen();
    const jobId = jobIdOf(id, "id");
    return this.#write(async (tx) => {
      await tx.housekeep();
      const row = await tx.job(jobId);
      return row ? rowToInfo(row) : null;
    });
  }

  async listJobs(opts: ListJobsOptions): Promise<JobPage> {
    this.#assertOpen();
    const { state, name, limit, cursor } = validateListJobsOptions(opts);
    const pg = this.dialect === "postgres";
    return this.#write(async (tx) => {
      await tx.housekeep();
      let q = tx.db
        .selectFrom(TABLES.jobs)
        .selectAll()
        .where("queue", "=", this.name)
        .where("state", "=", state);
      if (name !== null) q = q.where("name", "=", name);
      let keyOf: (row: JobRow) => (number | string)[];
      switch (state) {
        case "ready": {
          // docs/contract.md, "Listing": the jobs without a group, then each group's by name.
          const groupKey = pg
            ? sql`coalesce(group_name, '') collate "C"`
            : sql`coalesce(group_name, '')`;
          if (cursor !== null) {
            const [g, p, r] = decodeCursorOf(cursor, state, READY_CURSOR_KINDS) as [
              string,
              number,
              number,
            ];
            q = q.where(
              sql<boolean>`(${groupKey} > ${g} or (${groupKey} = ${g} and (priority < ${-p} or (priority = ${-p} and rank > ${r}))))`,
            );
          }
          q = q.orderBy(groupKey).orderBy("priority", "desc").orderBy("rank");
          keyOf = (row) => [row.group_name ?? "", -row.priority, num(row.rank)];
          break;
        }
        case "delayed": {
          if (cursor !== null) {
            const [at, id] = decodeCursorOf(cursor, state, ["number", "number"]) as number[];
            q = q.where(sql<boolean>`(at > ${at} or (at = ${at} and id > ${id}))`);
          }
          q = q.orderBy("at").orderBy("id");
          keyOf = (row) => [num(row.at), num(row.id)];
          break;
        }
        case "processing": {
          if (cursor !== null) {
            const [id] = decodeCursorOf(cursor, state, ["number"]) as number[];
            q = q.where("id", ">", id);
          }
          q = q.orderBy("id");
          keyOf = (row) => [num(row.id)];
          break;
        }
        case "dead": {
          if (cursor !== null) {
            const [seq] = decodeCursorOf(cursor, state, ["number"]) as number[];
            q = q.where("seq", ">", seq);
          }
          q = q.orderBy("seq");
          keyOf = (row) => [num(row.seq)];
          break;
        }
        default: {
          // completed and cancelled: newest first.
          if (cursor !== null) {
            const [seq] = decodeCursorOf(cursor, state, ["number"]) as number[];
            q = q.where("seq", "<", seq);
          }
          q = q.orderBy("seq", "desc");
          keyOf = (row) => [num(row.seq)];
        }
      }
      const rows = (await q.limit(limit + 1).execute()) as JobRow[];
      const more = rows.length > limit;
      const page = rows.slice(0, limit);
      return {
        jobs: page.map(rowToInfo),
        cursor: more ? encodeCursor(state, keyOf(page[page.length - 1]!)) : null,
      };
    });
  }

  async countByName(state: JobState): Promise<Record<string, number>> {
    this.#assertOpen();
    const wanted = validateJobState(state);
    return this.#write(async (tx) => {
      await tx.housekeep();
      const rows = await tx.db
        .selectFrom(TABLES.jobs)
        .select(["name", (eb) => eb.fn.countAll().as("n")])
        .where("queue", "=", this.name)
        .where("state", "=", wanted)
        .groupBy("name")
        .orderBy("name")
        .execute();
      return Object.fromEntries(rows.map((r) => [r.name as string, num(r.n as string)]));
    });
  }

  async cancel(id: string, opts?: CancelOptions): Promise<boolean> {
    this.#assertOpen();
    const jobId = jobIdOf(id, "id");
    const reason = validateCancelOptions(opts);
    return this.#write(async (tx) => {
      await tx.housekeep();
      const row = await tx.job(jobId);
      if (!row) return false;
      switch (row.state) {
        case "ready":
        case "delayed":
          break;
        case "processing":
          // The reservation ends now; the holder learns it from checkReservations.
          await tx.leaveActive(row);
          await tx.db
            .insertInto(TABLES.cancelled)
            .values({
              queue: this.name,
              job_id: row.id,
              attempts: row.attempts,
              until: Math.max(num(row.at), tx.now + this.#config.visibilityTimeoutMs),
              reason,
            })
            .onConflict((oc) =>
              oc.columns(["queue", "job_id"]).doUpdateSet({
                attempts: row.attempts,
                until: Math.max(num(row.at), tx.now + this.#config.visibilityTimeoutMs),
                reason,
              }),
            )
            .execute();
          break;
        default:
          return false;
      }
      await tx.emit("cancelled", row, reason === null ? {} : { reason });
      await tx.finish(row, "cancelled", {});
      return true;
    });
  }

  async pause(): Promise<void> {
    this.#assertOpen();
    await this.#write(async (tx) => {
      tx.ctl.paused = 1;
      tx.touch();
    });
  }

  async resume(): Promise<void> {
    this.#assertOpen();
    await this.#write(async (tx) => {
      tx.ctl.paused = 0;
      tx.touch();
      tx.woke = true;
    });
  }

  async isPaused(): Promise<boolean> {
    this.#assertOpen();
    await this.#ensureControl();
    const row = await onSchema(this.#db, this.schema)
      .selectFrom(TABLES.queues)
      .select("paused")
      .where("name", "=", this.name)
      .executeTakeFirst();
    return num(row?.paused as number) !== 0;
  }

  events(opts?: EventsOptions): AsyncIterable<JobEvent> {
    this.#assertOpen();
    const { signal, after } = validateEventsOptions(opts);
    if (this.#config.eventsMaxLen === null) {
      throw new ConfigError(
        "events() needs the queue's event stream, which this queue was made without (events: false): leave the events option out, or pass true or { maxLen }",
      );
    }
    let start: Promise<number>;
    if (after !== null) {
      if (!/^(0|[1-9][0-9]{0,15})$/.test(after)) {
        throw new JobValidationError(
          "opts.after",
          `opts.after must be the id of an event of this queue, got ${describeValue(after)}`,
        );
      }
      start = Promise.resolve(Number(after));
    } else {
      // Read now, so nothing written after this call is missed.
      start = this.#lastEventId();
      start.catch(() => {});
    }
    return { [Symbol.asyncIterator]: () => this.#iterateEvents(start, signal) };
  }

  async progress(job: JobRef, value: JsonValue): Promise<void> {
    this.#assertOpen();
    const checked = validateJsonValue(value, "value");
    jobIdOf(job);
    await this.#write(async (tx) => {
      const row = await tx.fenced(job);
      if (!row) return;
      await tx.update(row, { progress: JSON.stringify(checked) });
      await tx.emit("progress", row, { progress: checked });
    });
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
    if (refs.length === 0) return [];
    return this.#write(async (tx) => {
      await tx.housekeep();
      const out: ReservationCheck[] = [];
      for (const { job, id } of refs) {
        if (await tx.fenced(job)) continue;
        const cancelled = /^[1-9][0-9]{0,15}$/.test(id)
          ? await tx.db
              .selectFrom(TABLES.cancelled)
              .selectAll()
              .where("queue", "=", this.name)
              .where("job_id", "=", id)
              .where("until", ">", tx.now)
              .executeTakeFirst()
          : undefined;
        const sameAttempt =
          cancelled !== undefined &&
          (typeof job === "string" || job.attempts === num(cancelled.attempts as number));
        out.push(
          sameAttempt
            ? { id, status: "cancelled", reason: (cancelled?.reason as string | null) ?? null }
            : { id, status: "lost" },
        );
      }
      return out;
    });
  }

  async promote(id: string): Promise<boolean> {
    this.#assertOpen();
    const jobId = jobIdOf(id, "id");
    return this.#write(async (tx) => {
      await tx.housekeep();
      const row = await tx.job(jobId);
      if (row?.state !== "delayed") return false;
      await tx.toReady(row, false, { available_at: tx.now });
      return true;
    });
  }

  // ---- flow control ------------------------------------------------------------------

  async setRateLimit(limit: RateLimit | null): Promise<void> {
    this.#assertOpen();
    const checked = validateRateLimit(limit);
    await this.#write(async (tx) => {
      tx.ctl.rate_max = checked?.max ?? null;
      tx.ctl.rate_per_seconds = checked?.perSeconds ?? null;
      tx.touch();
      // Starts are counted while a limit is set: a new limit starts from an empty window.
      if (checked === null) {
        await tx.db
          .deleteFrom(TABLES.starts)
          .where("queue", "=", this.name)
          .where("scope", "=", "q")
          .execute();
      }
      await tx.limitsChanged();
    });
  }

  async setGroupLimits(limits: GroupLimits | null, opts?: SetGroupLimitsOptions): Promise<void> {
    this.#assertOpen();
    const checked = validateGroupLimits(limits);
    const group = validateSetGroupLimitsOptions(opts);
    await this.#write(async (tx) => {
      const text = checked === null ? null : JSON.stringify(checked);
      if (group === null) {
        tx.ctl.group_limits = text;
        tx.touch();
      } else {
        await tx.setGroup(group, { limits: text });
      }
      await tx.limitsChanged();
    });
  }

  async getLimits(): Promise<FlowLimits> {
    this.#assertOpen();
    await this.#ensureControl();
    const db = onSchema(this.#db, this.schema);
    const now = this.#clock.now();
    const row = await db
      .selectFrom(TABLES.queues)
      .selectAll()
      .where("name", "=", this.name)
      .executeTakeFirstOrThrow();
    const ctl = parseControl(row);
    const overridesRows = await db
      .selectFrom(TABLES.groups)
      .select(["name", "limits"])
      .where("queue", "=", this.name)
      .where("limits", "is not", null)
      .execute();
    const overrides: Record<string, GroupLimits> = {};
    for (const o of overridesRows.sort((a, b) =>
      compareCodePoints(a.name as string, b.name as string),
    )) {
      Object.defineProperty(overrides, o.name as string, {
        value: JSON.parse(o.limits as string),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return {
      rateLimit:
        ctl.rate_max === null ? null : { max: ctl.rate_max, perSeconds: ctl.rate_per_seconds ?? 0 },
      groupLimits: ctl.group_limits === null ? null : JSON.parse(ctl.group_limits),
      groupOverrides: overrides,
      heldUntil: ctl.hold_until > now ? new Date(ctl.hold_until) : null,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#notify();
    await this.#notifier?.close();
  }

  // ---- the dead letter queue -----------------------------------------------------------

  async #dlqList(opts: DlqListOptions = {}): Promise<Job[]> {
    this.#assertOpen();
    rejectUnknownKeys(opts, DLQ_LIST_OPTIONS, "opts");
    const limit = opts.limit === undefined ? 100 : validateInteger("opts.limit", opts.limit, 0);
    const offset = opts.offset === undefined ? 0 : validateInteger("opts.offset", opts.offset, 0);
    return this.#write(async (tx) => {
      await tx.housekeep();
      if (limit === 0) return [];
      const rows = (await tx.db
        .selectFrom(TABLES.jobs)
        .selectAll()
        .where("queue", "=", this.name)
        .where("state", "=", "dead")
        .orderBy("seq")
        .limit(limit)
        .offset(offset)
        .execute()) as JobRow[];
      return rows.map(rowToJob);
    });
  }

  async #dlqRequeue(id: string): Promise<boolean> {
    this.#assertOpen();
    const jobId = jobIdOf(id, "id");
    return this.#write(async (tx) => {
      await tx.housekeep();
      const row = await tx.job(jobId);
      if (row?.state !== "dead") return false;
      await tx.toReady(row, false, { attempts: 0, available_at: tx.now });
      return true;
    });
  }

  async #dlqRequeueAll(): Promise<number> {
    this.#assertOpen();
    return this.#write(async (tx) => {
      await tx.housekeep();
      const rows = (await tx.db
        .selectFrom(TABLES.jobs)
        .selectAll()
        .where("queue", "=", this.name)
        .where("state", "=", "dead")
        .orderBy("seq")
        .execute()) as JobRow[];
      for (const row of rows) await tx.toReady(row, false, { attempts: 0, available_at: tx.now });
      return rows.length;
    });
  }

  async #dlqPurge(): Promise<number> {
    this.#assertOpen();
    return this.#write(async (tx) => {
      await tx.housekeep();
      const result = await tx.db
        .deleteFrom(TABLES.jobs)
        .where("queue", "=", this.name)
        .where("state", "=", "dead")
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }

  // ---- internals -----------------------------------------------------------------------

  #assertOpen(): void {
    if (this.#closed) throw new QueueClosedError("SqlJobQueue");
  }

  /** Writes `prepared` (validated), in order, deduplicated; one INSERT per 500 jobs. */
  async #insert(tx: QueueTx, prepared: PreparedEnqueue[]): Promise<Job[]> {
    const now = tx.now;
    const keys = [...new Set(prepared.flatMap((p) => (p.dedupeKey === null ? [] : [p.dedupeKey])))];
    const known = new Map<string, number>();
    if (keys.length > 0) {
      const hits = await tx.db
        .selectFrom(TABLES.dedupe)
        .select(["key", "job_id"])
        .where("queue", "=", this.name)
        .where("key", "in", keys)
        .where("expires_at", ">", now)
        .execute();
      for (const hit of hits) known.set(hit.key as string, num(hit.job_id as string));
    }
    const out: (Job | number)[] = [];
    const rows: JobRow[] = [];
    const fresh = new Map<string, number>();
    for (const p of prepared) {
      const hit =
        p.dedupeKey === null ? undefined : (fresh.get(p.dedupeKey) ?? known.get(p.dedupeKey));
      if (hit !== undefined) {
        out.push(hit);
        continue;
      }
      tx.touch();
      const id = ++tx.ctl.next_id;
      const row = tx.newRow(p, id);
      if (p.delaySeconds > 0) {
        row.at_seq = tx.nextOrder();
      } else {
        row.state = "ready";
        row.rank = ++tx.ctl.rank_back;
      }
      rows.push(row);
      out.push(id);
      if (p.dedupeKey !== null) fresh.set(p.dedupeKey, id);
    }
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      await tx.db
        .insertInto(TABLES.jobs)
        .values(rows.slice(i, i + INSERT_CHUNK))
        .execute();
    }
    if (fresh.size > 0) {
      const entries = [...fresh].map(([key, id]) => ({
        queue: this.name,
        key,
        job_id: id,
        expires_at: now + DEDUPE_TTL_SECONDS * 1000,
      }));
      for (let i = 0; i < entries.length; i += INSERT_CHUNK) {
        await tx.db
          .insertInto(TABLES.dedupe)
          .values(entries.slice(i, i + INSERT_CHUNK))
          .onConflict((oc) =>
            oc.columns(["queue", "key"]).doUpdateSet((eb) => ({
              job_id: eb.ref("excluded.job_id"),
              expires_at: eb.ref("excluded.expires_at"),
            })),
          )
          .execute();
      }
    }
    // Events, then the rotation, in the order given (docs/contract.md, "Events", "Groups").
    for (const row of rows) {
      await tx.emit("enqueued", row, {
        delaySeconds: (num(row.available_at) - now) / 1000,
        priority: row.priority,
      });
      if (row.state === "ready") {
        tx.woke = true;
        if (row.group_name !== null) await tx.joinUnlessWaiting(row.group_name);
      }
    }
    const byId = new Map(rows.map((r) => [num(r.id), r]));
    const result: Job[] = [];
    for (let i = 0; i < out.length; i++) {
      const entry = out[i]!;
      const row = typeof entry === "number" ? byId.get(entry) : undefined;
      if (row) {
        result.push(rowToJob(row));
        continue;
      }
      // A dedupe hit: the earlier job in its current state, or, once it finished, a job
      // with its id and this call's fields (docs/contract.md, "Dedupe").
      const existing = await tx.job(String(entry));
      const p = prepared[i]!;
      result.push(
        existing
          ? rowToJob(existing)
          : createJob({
              id: String(entry),
              name: p.name,
              payload: JSON.parse(p.payloadJson),
              availableAt: now,
              maxAttempts: p.maxAttempts,
              backoffSeconds: p.backoffSeconds,
            }),
      );
    }
    return result;
  }

  #ensureControl(): Promise<void> {
    this.#ready ??= (async () => {
      await onSchema(this.#db, this.schema)
        .insertInto(TABLES.queues)
        .values({ name: this.name })
        .onConflict((oc) => oc.column("name").doNothing())
        .execute();
    })().catch((error) => {
      this.#ready = undefined;
      throw wrap(error);
    });
    return this.#ready;
  }

  /**
   * Runs `fn` in a write transaction holding the queue's lock: PostgreSQL locks the queue's
   * control row (`FOR UPDATE`), SQLite takes the database's write lock (`BEGIN IMMEDIATE`).
   * With the caller's `trx`, in that transaction. Otherwise the operations of this object
   * that arrive while one of its transactions runs share the next one (group commit, docs/
   * sql-backend.md, "Transactions and locking"); `kind` marks an ack, a reserve or an
   * enqueue, which the batch may do with the others in one statement (the fast path).
   */
  #write<T>(
    fn: (tx: QueueTx) => Promise<T>,
    trx?: AnyKysely,
    kind: Pick<PendingOp, "ack" | "reserve" | "enqueue"> = {},
  ): Promise<T> {
    if (trx !== undefined) {
      return this.#transaction(trx, fn).catch((error) => {
        throw wrap(error);
      });
    }
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({
        run: fn,
        ...kind,
        resolve: resolve as (value: unknown) => void,
        reject,
        value: undefined,
      });
      if (!this.#writing) {
        this.#writing = true;
        // Starts on the next turn of the event loop, so that what the same turn still sends
        // (an ack, then the worker's next reserve) shares the transaction.
        setImmediate(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        await this.#commitBatch(this.#pending.splice(0, MAX_BATCH));
      }
    } finally {
      this.#writing = false;
    }
  }

  /**
   * One transaction for `batch` (or one call of the fast path). When it fails and surely
   * wrote nothing (an operation failed before the commit, or the database refused the fast
   * path's statement), each operation of the batch runs alone, so only the failing one sees
   * its error. Otherwise (a failed commit, a lost connection) they all fail: whether it was
   * written is unknown.
   */
  async #commitBatch(batch: PendingOp[]): Promise<void> {
    let nothingWritten: (error: unknown) => boolean = () => false;
    try {
      await this.#ensureControl();
      nothingWritten = refusedStatement;
      if (!(await this.#fastPath(batch))) {
        nothingWritten = () => true;
        await this.#transaction(undefined, async (tx) => {
          await this.#runOps(tx, batch);
          nothingWritten = () => false;
        });
      }
    } catch (error) {
      if (batch.length > 1 && nothingWritten(error)) {
        for (const op of batch) await this.#commitBatch([op]);
        return;
      }
      for (const op of batch) op.reject(wrap(error));
      return;
    }
    for (const op of batch) op.resolve(op.value);
  }

  /**
   * PostgreSQL: a batch of only acks and reserves in one call of the fast path's function
   * (docs/sql-backend.md, "The fast path"), when the queue is in the common case. Returns
   * false, having written nothing, when the batch needs the general transaction.
   */
  async #fastPath(batch: PendingOp[]): Promise<boolean> {
    const c = this.#config;
    if (c.dialect !== "postgres") return false;
    if (batch.every((op) => op.enqueue?.every((p) => p.dedupeKey === null && p.group === null))) {
      return this.#fastEnqueue(batch);
    }
    // Kept completed jobs are the general path's (it keeps and trims them).
    if (c.keepCompleted !== null) return false;
    if (this.#fastSkips > 0) {
      this.#fastSkips--;
      return false;
    }
    const now = this.#clock.now();
    const ids: string[] = [];
    const attempts: (number | null)[] = [];
    const results: (string | null)[] = [];
    let count = 0;
    for (const op of batch) {
      if (op.reserve) {
        count += op.reserve.count;
      } else if (op.ack) {
        const id = jobIdOf(op.ack.job);
        // Not an id this queue gives: the general path's ack finds nothing either.
        if (!/^[1-9][0-9]{0,15}$/.test(id)) continue;
        ids.push(id);
        attempts.push(typeof op.ack.job === "string" ? null : op.ack.job.attempts);
        results.push(op.ack.result === undefined ? null : JSON.stringify(op.ack.result));
      } else {
        return false;
      }
    }
    // Expired dedupe keys and cancel records go at most once a second, as in #tryReserve.
    const cleanup = count > 0 && (now - this.#lastCleanup >= 1000 || now < this.#lastCleanup);
    let result: FastPathResult | undefined;
    try {
      result = await callFastPath(this.#db, this.schema, {
        queue: this.name,
        now,
        ids,
        attempts,
        results,
        count,
        deadline: now + c.visibilityTimeoutMs,
        maxLen: c.eventsMaxLen,
        cleanup,
      });
    } catch (error) {
      // Tables migrated by an older version (no function yet): the general path only.
      if ((error as { code?: unknown }).code === UNDEFINED_FUNCTION) {
        this.#fastSkips = Number.POSITIVE_INFINITY;
        return false;
      }
      throw error;
    }
    if (result === undefined) {
      this.#fastSkips = FAST_SKIPS_AFTER_BUSY;
      return false;
    }
    if (cleanup) this.#lastCleanup = now;
    const { rows, wake, emitted } = result;
    if (emitted) this.#notify(false);
    let next = 0;
    for (const op of batch) {
      if (!op.reserve) continue;
      const jobs = rows.slice(next, next + op.reserve.count).map(rowToJob);
      next += jobs.length;
      op.value = { jobs, wakeAt: jobs.length > 0 || !op.reserve.wake ? undefined : wake };
    }
    return true;
  }

  /** Enqueues without dedupe keys nor groups, of every operation of the batch, in one call. */
  async #fastEnqueue(batch: PendingOp[]): Promise<boolean> {
    if (this.#fastSkips === Number.POSITIVE_INFINITY) return false;
    const prepared = batch.flatMap((op) => op.enqueue as PreparedEnqueue[]);
    let rows: JobRow[];
    try {
      rows = await callFastEnqueue(this.#db, this.schema, {
        queue: this.name,
        now: this.#clock.now(),
        prepared,
        maxLen: this.#config.eventsMaxLen,
      });
    } catch (error) {
      if ((error as { code?: unknown }).code === UNDEFINED_FUNCTION) {
        this.#fastSkips = Number.POSITIVE_INFINITY;
        return false;
      }
      throw error;
    }
    const woke = rows.some((row) => row.state === "ready");
    if (woke || this.#config.eventsMaxLen !== null) this.#notify(woke);
    let next = 0;
    for (const op of batch) {
      const count = (op.enqueue as PreparedEnqueue[]).length;
      op.value = rows.slice(next, next + count).map(rowToJob);
      next += count;
    }
    return true;
  }

  /** The operations of one transaction: the acks together first, then the rest in order. */
  async #runOps(tx: QueueTx, batch: PendingOp[]): Promise<void> {
    // Operations in flight together have no order between them (none has returned yet), so
    // doing the acks first is one of the orders they may take.
    const acks =
      tx.isPostgres && this.#config.keepCompleted === null ? batch.filter((op) => op.ack) : [];
    if (acks.length > 0) {
      tx.now = this.#clock.now();
      const rows = await tx.takeReserved(acks.map((op) => (op.ack as AckRequest).job));
      for (const [i, op] of acks.entries()) {
        const row = rows[i];
        if (!row) continue;
        await tx.leaveActive(row);
        await tx.emit("completed", row, { attempt: row.attempts, result: op.ack?.result });
      }
    }
    for (const op of batch) {
      if (acks.length > 0 && op.ack) continue;
      tx.now = this.#clock.now();
      op.value = await op.run(tx);
    }
  }

  /** One transaction holding the queue's lock (in `trx` when given): `fn`, then the flush. */
  async #transaction<T>(trx: AnyKysely | undefined, fn: (tx: QueueTx) => Promise<T>): Promise<T> {
    const run = async (db: AnyKysely): Promise<{ value: T; woke: boolean; emitted: boolean }> => {
      const s = onSchema(db, this.schema);
      if (trx !== undefined) {
        // In the caller's transaction the control row is made in it too: on SQLite the
        // queue's own Kysely waits for the one connection that transaction holds, and a
        // rollback must not leave this object believing the row exists.
        await s
          .insertInto(TABLES.queues)
          .values({ name: this.name })
          .onConflict((oc) => oc.column("name").doNothing())
          .execute();
      }
      let q = s.selectFrom(TABLES.queues).selectAll().where("name", "=", this.name);
      if (this.dialect === "postgres") q = q.forUpdate();
      const row = await q.executeTakeFirstOrThrow();
      const tx = new QueueTx(s, parseControl(row), this.#clock.now(), this.#config);
      const value = await fn(tx);
      // The NOTIFY is delivered at commit, to every process that LISTENs (options.notify).
      await tx.flush(tx.woke || tx.emitted ? notifyPayload(this.name, tx.woke) : null);
      return { value, woke: tx.woke, emitted: tx.emitted };
    };
    let result: { value: T; woke: boolean; emitted: boolean };
    if (trx !== undefined) {
      result = await run(trx);
    } else if (this.dialect === "postgres") {
      result = await this.#db.transaction().execute(run);
    } else {
      result = await this.#db.connection().execute(async (conn) => {
        await sql`begin immediate`.execute(conn);
        try {
          const r = await run(conn);
          await sql`commit`.execute(conn);
          return r;
        } catch (error) {
          await sql`rollback`.execute(conn).catch(() => {});
          throw error;
        }
      });
    }
    if (result.woke || result.emitted) this.#notify(result.woke);
    return result.value;
  }

  async #lastEventId(): Promise<number> {
    await this.#ensureControl();
    const row = await onSchema(this.#db, this.schema)
      .selectFrom(TABLES.queues)
      .select("event_seq")
      .where("name", "=", this.name)
      .executeTakeFirst();
    return num(row?.event_seq as string);
  }

  async *#iterateEvents(
    start: Promise<number>,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<JobEvent> {
    let last = await start;
    const db = onSchema(this.#db, this.schema);
    for (;;) {
      if (this.#closed || signal?.aborted) return;
      let rows: Record<string, unknown>[];
      const since = this.#gen(false);
      try {
        rows = await db
          .selectFrom(TABLES.events)
          .selectAll()
          .where("queue", "=", this.name)
          .where("id", ">", last)
          .orderBy("id")
          .limit(100)
          .execute();
      } catch (error) {
        if (this.#closed || signal?.aborted) return;
        throw wrap(error);
      }
      for (const row of rows) {
        if (this.#closed || signal?.aborted) return;
        last = num(row.id as string);
        yield rowToEvent(row);
      }
      if (rows.length === 0) await this.#sleep(await this.#pollInterval(), signal, false, since);
    }
  }

  /** Wakes the local waiters: every one for work, the event iterators only for events. */
  #notify(work = true): void {
    if (work) this.#workGen++;
    this.#anyGen++;
    for (const [wake, forWork] of [...this.#waiters]) if (work || !forWork) wake();
  }

  /** What {@link #sleep} compares to see a wake-up that came while the caller was querying. */
  #gen(work: boolean): number {
    return work ? this.#workGen : this.#anyGen;
  }

  /** How long a waiter sleeps before it looks again. */
  async #pollInterval(): Promise<number> {
    if (this.#notifier === undefined) return this.#pollMs;
    await this.#notifier.ensure();
    return this.#notifier.listening ? Math.max(this.#pollMs, LISTENING_POLL_MS) : this.#pollMs;
  }

  /**
   * Waits `ms`, or less when work (`work`) or events arrive (this object wrote them, or a
   * notification said so), the queue closes, or `signal` aborts.
   */
  #sleep(ms: number, signal: AbortSignal | undefined, work: boolean, since: number): Promise<void> {
    return new Promise<void>((resolve) => {
      // Closed, aborted or woken while the caller was querying: the wake-up already went by.
      if (this.#closed || signal?.aborted || this.#gen(work) !== since) {
        resolve();
        return;
      }
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.set(done, work);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}

/** An error of PostgreSQL refusing a statement (it has a SQLSTATE): the statement wrote nothing. */
function refusedStatement(error: unknown): boolean {
  const { code, severity } = (error ?? {}) as { code?: unknown; severity?: unknown };
  return typeof severity === "string" && typeof code === "string" && /^[0-9A-Z]{5}$/.test(code);
}

function wrap(error: unknown): unknown {
  if (error instanceof JobsError) return error;
  return new BackendError(
    `the SQL job queue failed: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );
}

function checkTrx(value: unknown, field: string): AnyKysely {
  if (
    value === null ||
    typeof value !== "object" ||
    typeof (value as AnyKysely).selectFrom !== "function"
  ) {
    throw new JobValidationError(
      field,
      `${field} must be a Kysely transaction, got ${describeValue(value)}`,
    );
  }
  return value as AnyKysely;
}
