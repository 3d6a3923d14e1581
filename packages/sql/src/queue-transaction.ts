import {
  type GroupLimits,
  type Job,
  type JobEvent,
  type JobEventType,
  type JobInfo,
  type JobRef,
  type JobState,
  type RetryStrategy,
  retryDelaySeconds,
  visibilityExpiredMessage,
} from "@svc-jobs/core";
import {
  createJob,
  jobIdOf,
  type PreparedEnqueue,
  toJobTraceContext,
} from "@svc-jobs/core/backend";
import { type RawBuilder, sql } from "kysely";
import { type AnyKysely, type SqlDialect, TABLES } from "./job-tables.js";
import { NOTIFY_CHANNEL } from "./pg-notifier.js";

// One transaction of the SQL queue: every transition of docs/contract.md, in the same
// order as the in-memory reference (packages/core/src/in-memory-job-queue.ts), on rows.
// The caller holds the queue's lock (PostgreSQL: the control row FOR UPDATE; SQLite:
// BEGIN IMMEDIATE), so the steps of one transaction see no other writer. Internal.

/** A job row as the database returns it (PostgreSQL: bigint columns as strings). */
export interface JobRow {
  queue: string;
  id: number | string;
  name: string;
  payload: string;
  state: JobState;
  priority: number;
  rank: number | string;
  group_name: string | null;
  attempts: number;
  max_attempts: number;
  backoff_seconds: number;
  last_error: string | null;
  available_at: number | string;
  at: number | string;
  at_seq: number | string;
  seq: number | string;
  created_at: number | string;
  finished_at: number | string | null;
  progress: string | null;
  result: string | null;
  trace_parent: string | null;
  trace_state: string | null;
}

/** The queue's control row. */
export interface ControlRow {
  name: string;
  next_id: number;
  order_seq: number;
  rank_back: number;
  rank_front: number;
  event_seq: number;
  paused: number;
  rate_max: number | null;
  rate_per_seconds: number | null;
  group_limits: string | null;
  hold_until: number;
}

/** What a transaction needs of its queue. */
export interface QueueConfig {
  queue: string;
  dialect: SqlDialect;
  visibilityTimeoutMs: number;
  retry: RetryStrategy;
  keepCompleted: { count: number; ageSeconds: number } | null;
  keepCancelled: { count: number; ageSeconds: number } | null;
  eventsMaxLen: number | null;
  schema: string | null;
}

/** An event row, buffered until {@link QueueTx.flush}. */
interface EventRow {
  queue: string;
  id: number;
  type: JobEventType;
  job_id: number;
  name: string;
  at: number;
  data: string;
}

/** Events per INSERT (PostgreSQL: beyond it, separate statements before the flush). */
const EVENT_CHUNK = 500;

/** The participant of the rotation that stands for the jobs without a group. */
const UNGROUPED = "";
/** Rows handled per housekeeping step, so one reserve stays bounded. */
const HOUSEKEEP_BATCH = 1000;

export function num(value: number | string | bigint | null | undefined): number {
  return value === null || value === undefined ? 0 : Number(value);
}

export function parseControl(row: Record<string, unknown>): ControlRow {
  return {
    name: row.name as string,
    next_id: num(row.next_id as string),
    order_seq: num(row.order_seq as string),
    rank_back: num(row.rank_back as string),
    rank_front: num(row.rank_front as string),
    event_seq: num(row.event_seq as string),
    paused: num(row.paused as number),
    rate_max: row.rate_max === null ? null : num(row.rate_max as number),
    rate_per_seconds: row.rate_per_seconds === null ? null : num(row.rate_per_seconds as number),
    group_limits: (row.group_limits as string | null) ?? null,
    hold_until: num(row.hold_until as string),
  };
}

export function rowToJob(row: JobRow): Job {
  return createJob({
    id: String(row.id),
    name: row.name,
    payload: JSON.parse(row.payload),
    availableAt: num(row.available_at),
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    backoffSeconds: num(row.backoff_seconds),
    lastError: row.last_error,
    traceContext:
      row.trace_parent === null ? undefined : toJobTraceContext(row.trace_parent, row.trace_state),
  });
}

export function rowToInfo(row: JobRow): JobInfo {
  return {
    ...rowToJob(row),
    state: row.state,
    priority: row.priority,
    group: row.group_name,
    createdAt: new Date(num(row.created_at)),
    finishedAt: row.finished_at === null ? null : new Date(num(row.finished_at)),
    progress: row.progress === null ? null : JSON.parse(row.progress),
    result: row.result === null ? null : JSON.parse(row.result),
  };
}

export function rowToEvent(row: Record<string, unknown>): JobEvent {
  return {
    id: String(row.id),
    type: row.type as JobEventType,
    jobId: String(row.job_id),
    name: row.name as string,
    at: new Date(num(row.at as string)),
    ...(JSON.parse(row.data as string) as object),
  };
}

interface ResolvedGroupLimits {
  concurrency: number;
  max: number;
  perMs: number;
}

function resolveGroupLimits(text: string | null): ResolvedGroupLimits | null {
  if (text === null) return null;
  const limits = JSON.parse(text) as GroupLimits;
  return {
    concurrency: limits.concurrency ?? Number.POSITIVE_INFINITY,
    max: limits.max ?? Number.POSITIVE_INFINITY,
    perMs: (limits.perSeconds ?? 0) * 1000,
  };
}

/** `p` as a new job row (not yet written): delayed, with its counters still to assign. */
export function newJobRow(queue: string, now: number, p: PreparedEnqueue, id: number): JobRow {
  const availableAt = now + p.delaySeconds * 1000;
  return {
    queue: queue,
    id,
    name: p.name,
    payload: p.payloadJson,
    state: "delayed",
    priority: p.priority,
    rank: 0,
    group_name: p.group,
    attempts: 0,
    max_attempts: p.maxAttempts,
    backoff_seconds: p.backoffSeconds,
    last_error: null,
    available_at: availableAt,
    at: availableAt,
    at_seq: 0,
    seq: 0,
    created_at: now,
    finished_at: null,
    progress: null,
    result: null,
    trace_parent: p.traceContext?.traceparent ?? null,
    trace_state: p.traceContext?.tracestate ?? null,
  };
}

/** The transitions of one transaction; `flush()` writes the control row's counters back. */
export class QueueTx {
  readonly db: AnyKysely;
  readonly ctl: ControlRow;
  /** The queue clock's time of the operation running (each operation of a batch reads it). */
  now: number;
  readonly config: QueueConfig;
  /** Whether something a blocked reserve waits for happened (local wake-up). */
  woke = false;
  /** Whether the transaction wrote events (event iterators wake). */
  emitted = false;
  #ctlDirty = false;
  #events: EventRow[] = [];

  constructor(db: AnyKysely, ctl: ControlRow, now: number, config: QueueConfig) {
    this.db = db;
    this.ctl = ctl;
    this.now = now;
    this.config = config;
  }

  get queue(): string {
    return this.config.queue;
  }

  nextOrder(): number {
    this.#ctlDirty = true;
    return ++this.ctl.order_seq;
  }

  touch(): void {
    this.#ctlDirty = true;
  }

  /**
   * Writes what the transaction buffered: the control row's counters and the events (with
   * the trim of the oldest), and on PostgreSQL sends `notify` (a `pg_notify` payload). On
   * PostgreSQL it is one statement (data-modifying CTEs), to keep the queue's lock short.
   */
  async flush(notify: string | null): Promise<void> {
    const c = this.ctl;
    const maxLen = this.config.eventsMaxLen;
    const events = this.#events;
    this.#events = [];
    const trimTo = maxLen !== null && events.length > 0 ? c.event_seq - maxLen : 0;
    const control = {
      next_id: c.next_id,
      order_seq: c.order_seq,
      rank_back: c.rank_back,
      rank_front: c.rank_front,
      event_seq: c.event_seq,
      paused: c.paused,
      rate_max: c.rate_max,
      rate_per_seconds: c.rate_per_seconds,
      group_limits: c.group_limits,
      hold_until: c.hold_until,
    };
    if (!this.isPostgres || events.length > EVENT_CHUNK) {
      if (this.#ctlDirty) {
        await this.db
          .updateTable(TABLES.queues)
          .set(control)
          .where("name", "=", this.queue)
          .execute();
      }
      for (let i = 0; i < events.length; i += EVENT_CHUNK) {
        await this.db
          .insertInto(TABLES.events)
          .values(events.slice(i, i + EVENT_CHUNK))
          .execute();
      }
      if (trimTo > 0) {
        await this.db
          .deleteFrom(TABLES.events)
          .where("queue", "=", this.queue)
          .where("id", "<=", trimTo)
          .execute();
      }
      if (notify !== null && this.isPostgres) {
        await sql`select pg_notify(${NOTIFY_CHANNEL}, ${notify})`.execute(this.db);
      }
      return;
    }
    const parts: RawBuilder<unknown>[] = [];
    if (this.#ctlDirty) {
      parts.push(
        sql`c as (update ${this.#table(TABLES.queues)} set ${sql.join(
          Object.entries(control).map(([k, v]) => sql`${sql.ref(k)} = ${v}`),
        )} where name = ${this.queue})`,
      );
    }
    if (events.length > 0) {
      parts.push(
        sql`e as (insert into ${this.#table(TABLES.events)} (queue, id, type, job_id, name, at, data) values ${sql.join(
          events.map(
            (e) =>
              sql`(${e.queue}, ${e.id}, ${e.type}, ${e.job_id}, ${e.name}, ${e.at}, ${e.data})`,
          ),
        )})`,
      );
    }
    if (trimTo > 0) {
      parts.push(
        sql`t as (delete from ${this.#table(TABLES.events)} where queue = ${this.queue} and id <= ${trimTo})`,
      );
    }
    if (parts.length === 0 && notify === null) return;
    const select =
      notify === null ? sql`select 1` : sql`select pg_notify(${NOTIFY_CHANNEL}, ${notify})`;
    await (parts.length === 0 ? select : sql`with ${sql.join(parts)} ${select}`).execute(this.db);
  }

  #table(name: string) {
    return sql.table(this.config.schema === null ? name : `${this.config.schema}.${name}`);
  }

  // ---- reading -------------------------------------------------------------------

  async job(id: string): Promise<JobRow | undefined> {
    if (!/^[1-9][0-9]{0,15}$/.test(id)) return undefined;
    return (await this.db
      .selectFrom(TABLES.jobs)
      .selectAll()
      .where("queue", "=", this.queue)
      .where("id", "=", id)
      .executeTakeFirst()) as JobRow | undefined;
  }

  /** The reserved row `ref` refers to, or undefined when the reservation is gone or stale. */
  async fenced(ref: JobRef): Promise<JobRow | undefined> {
    const row = await this.job(jobIdOf(ref));
    if (row?.state !== "processing") return undefined;
    // The attempt fences the call (docs/contract.md, "fencing token").
    if (typeof ref !== "string" && ref.attempts !== row.attempts) return undefined;
    return row;
  }

  /**
   * PostgreSQL, the acks of a batch in one statement (`state || ''`: looked up by key, never
   * by the partial index of every processing job): deletes the reserved rows the refs
   * point to (fenced as {@link fenced}) and returns each ref's row, or undefined when its
   * reservation is gone or stale (a second ref to the same row gets undefined).
   */
  async takeReserved(refs: JobRef[]): Promise<(JobRow | undefined)[]> {
    const ids: string[] = [];
    const attempts: (number | null)[] = [];
    for (const ref of refs) {
      const id = jobIdOf(ref);
      if (!/^[1-9][0-9]{0,15}$/.test(id)) continue;
      ids.push(id);
      attempts.push(typeof ref === "string" ? null : ref.attempts);
    }
    const rows =
      ids.length === 0
        ? []
        : ((
            await sql<JobRow>`delete from ${this.#table(TABLES.jobs)} j
              where j.queue = ${this.queue} and j.id = any(${ids}::bigint[])
                and j.state || '' = 'processing'
                and exists (select 1 from unnest(${ids}::bigint[], ${attempts}::int[]) a(id, att)
                            where a.id = j.id and (a.att is null or a.att = j.attempts))
              returning j.*`.execute(this.db)
          ).rows as JobRow[]);
    const byId = new Map(rows.map((row) => [String(row.id), row]));
    return refs.map((ref) => {
      const id = jobIdOf(ref);
      const row = byId.get(id);
      if (row === undefined || (typeof ref !== "string" && ref.attempts !== row.attempts)) {
        return undefined;
      }
      byId.delete(id);
      return row;
    });
  }

  /**
   * PostgreSQL, a reserve in the common case in one statement: when nothing is due for the
   * housekeeping (no expired reservation, no due delayed job, no group wait over) and nobody
   * is in the rotation, takes up to `count` heads of `svc_jobs_jobs_ready` in order and
   * reserves them until `deadline` (deadline ties ordered by `order_seq`, as one by one).
   * Returns undefined when the general path is needed.
   */
  async reserveHeads(count: number, deadline: number): Promise<JobRow[] | undefined> {
    const { queue, now } = this;
    const jobs = this.#table(TABLES.jobs);
    const groups = this.#table(TABLES.groups);
    const base = this.ctl.order_seq;
    const result = await sql<JobRow & { busy: boolean }>`with g as (select (
        exists (select 1 from ${jobs} where queue = ${queue} and state = 'processing' and at <= ${now})
        or exists (select 1 from ${jobs} where queue = ${queue} and state = 'delayed' and at <= ${now})
        or exists (select 1 from ${groups} where queue = ${queue}
                   and (rot is not null or wait_until <= ${now}))) as busy),
      p as (select id, row_number() over (order by priority desc, rank) as ord
            from (select id, priority, rank from ${jobs}
                  where queue = ${queue} and state = 'ready' and group_name is null
                    and not (select busy from g)
                  order by priority desc, rank limit ${count}) h),
      u as (update ${jobs} j set state = 'processing', attempts = j.attempts + 1,
              at = ${deadline}, at_seq = ${base} + (select ord from p where p.id = j.id)
            where j.queue = ${queue} and j.id = any(array(select id from p)) returning j.*)
      select g.busy, u.* from g left join u on true`.execute(this.db);
    if (result.rows[0]?.busy !== false) return undefined;
    const rows = result.rows.filter((row) => row.id !== null) as JobRow[];
    for (const row of rows) delete (row as Partial<{ busy: boolean }>).busy;
    rows.sort((a, b) => num(a.at_seq) - num(b.at_seq));
    if (rows.length > 0) {
      this.ctl.order_seq += rows.length;
      this.touch();
    }
    return rows;
  }

  async update(row: JobRow, values: Partial<Record<keyof JobRow, unknown>>): Promise<void> {
    Object.assign(row, values);
    await this.db
      .updateTable(TABLES.jobs)
      .set(values)
      .where("queue", "=", this.queue)
      .where("id", "=", row.id)
      .execute();
  }

  // ---- events --------------------------------------------------------------------

  async emit(
    type: JobEventType,
    row: { id: number | string; name: string },
    fields: Partial<Omit<JobEvent, "id" | "type" | "jobId" | "name" | "at">>,
  ): Promise<void> {
    const maxLen = this.config.eventsMaxLen;
    if (maxLen === null) return;
    this.touch();
    this.emitted = true;
    // Written by flush(), with the control row.
    this.#events.push({
      queue: this.queue,
      id: ++this.ctl.event_seq,
      type,
      job_id: num(row.id),
      name: row.name,
      at: this.now,
      data: JSON.stringify(fields),
    });
  }

  // ---- housekeeping --------------------------------------------------------------

  /**
   * Expired reservations back to ready (or dead), due delayed jobs to ready, due groups back.
   * With `cleanup`, also deletes expired dedupe keys and cancel records (their reads check
   * the expiry themselves, so this is only about space).
   */
  async housekeep(cleanup = true): Promise<void> {
    const { db, queue, now } = this;
    if (cleanup) await this.cleanup();
    // Expired reservations first, then due delayed jobs, each in (time, order) order, each
    // read from the head of the index (queue, state, at, at_seq).
    const timed = (state: "processing" | "delayed") =>
      db
        .selectFrom(TABLES.jobs)
        .selectAll()
        .where("queue", "=", queue)
        .where("state", "=", state)
        .where("at", "<=", now)
        .orderBy("at")
        .orderBy("at_seq")
        .limit(HOUSEKEEP_BATCH)
        .execute() as Promise<JobRow[]>;
    const expired = await timed("processing");
    for (const row of expired) {
      await this.leaveActive(row);
      const error = visibilityExpiredMessage(row.attempts);
      row.last_error = error;
      await this.emit("expired", row, { attempt: row.attempts, error });
      if (row.attempts >= row.max_attempts) {
        await this.emit("dead", row, { attempt: row.attempts, error });
        await this.toDlq(row, { last_error: error });
      } else {
        await this.toReady(row, false, { last_error: error, available_at: now });
      }
    }
    const due = await timed("delayed");
    for (const row of due) await this.toReady(row, false, {});
    const waits = await db
      .selectFrom(TABLES.groups)
      .select("name")
      .where("queue", "=", queue)
      .where("wait_until", "<=", now)
      .orderBy("wait_until")
      .orderBy("name")
      .execute();
    for (const { name } of waits) {
      await this.setGroup(name as string, { wait_until: null, wait_seq: null });
      if (await this.hasReady(name as string)) await this.join(name as string);
    }
  }

  /** Deletes expired dedupe keys and cancel records (their reads check the expiry). */
  async cleanup(): Promise<void> {
    const { db, queue, now } = this;
    await db
      .deleteFrom(TABLES.dedupe)
      .where("queue", "=", queue)
      .where("expires_at", "<=", now)
      .execute();
    await db
      .deleteFrom(TABLES.cancelled)
      .where("queue", "=", queue)
      .where("until", "<=", now)
      .execute();
  }

  // ---- transitions ---------------------------------------------------------------

  /**
   * Puts a job in ready by its priority: at the back, or at the front (`release`); a job with
   * a group makes its group join the rotation unless the group waits.
   */
  async toReady(
    row: JobRow,
    front: boolean,
    values: Partial<Record<keyof JobRow, unknown>>,
  ): Promise<void> {
    this.touch();
    const rank = front ? --this.ctl.rank_front : ++this.ctl.rank_back;
    await this.update(row, { ...values, state: "ready", rank });
    if (row.group_name !== null) await this.joinUnlessWaiting(row.group_name);
    this.woke = true;
  }

  async toDelayed(
    row: JobRow,
    due: number,
    values: Partial<Record<keyof JobRow, unknown>>,
  ): Promise<void> {
    await this.update(row, { ...values, state: "delayed", at: due, at_seq: this.nextOrder() });
  }

  async toDlq(row: JobRow, values: Partial<Record<keyof JobRow, unknown>>): Promise<void> {
    await this.update(row, { ...values, state: "dead", seq: this.nextOrder(), at: this.now });
  }

  /** A failed attempt: retried after the retry delay, or dead on the last attempt. */
  async failAttempt(row: JobRow, lastError: string): Promise<void> {
    const attempt = row.attempts;
    if (attempt >= row.max_attempts) {
      await this.emit("dead", row, { attempt, error: lastError });
      await this.toDlq(row, { last_error: lastError });
      return;
    }
    const delaySeconds = retryDelaySeconds(this.config.retry, attempt, num(row.backoff_seconds));
    await this.emit("retrying", row, { attempt, error: lastError, delaySeconds });
    const due = this.now + delaySeconds * 1000;
    if (delaySeconds > 0) {
      await this.toDelayed(row, due, { last_error: lastError, available_at: due });
    } else {
      await this.toReady(row, false, { last_error: lastError, available_at: due });
    }
  }

  /**
   * A job completed or was cancelled: kept with `finishedAt` when the queue keeps that kind,
   * else deleted; then the kept ones are trimmed (docs/contract.md, "Retention").
   */
  async finish(
    row: JobRow,
    state: "completed" | "cancelled",
    values: Partial<Record<keyof JobRow, unknown>>,
  ): Promise<void> {
    const retention = state === "completed" ? this.config.keepCompleted : this.config.keepCancelled;
    if (retention === null) {
      await this.db
        .deleteFrom(TABLES.jobs)
        .where("queue", "=", this.queue)
        .where("id", "=", row.id)
        .execute();
      return;
    }
    await this.update(row, {
      ...values,
      state,
      finished_at: this.now,
      seq: this.nextOrder(),
      ...(state === "cancelled" ? { result: null } : {}),
    });
    if (Number.isFinite(retention.ageSeconds)) {
      await this.db
        .deleteFrom(TABLES.jobs)
        .where("queue", "=", this.queue)
        .where("state", "=", state)
        .where("finished_at", "<", this.now - retention.ageSeconds * 1000)
        .execute();
    }
    if (Number.isFinite(retention.count)) {
      const edge = await this.db
        .selectFrom(TABLES.jobs)
        .select("seq")
        .where("queue", "=", this.queue)
        .where("state", "=", state)
        .orderBy("seq", "desc")
        .offset(retention.count)
        .limit(1)
        .executeTakeFirst();
      if (edge) {
        await this.db
          .deleteFrom(TABLES.jobs)
          .where("queue", "=", this.queue)
          .where("state", "=", state)
          .where("seq", "<=", edge.seq)
          .execute();
      }
    }
  }

  // ---- groups, the rotation and limits (docs/contract.md, "Flow control") ----------

  async group(name: string): Promise<Record<string, unknown> | undefined> {
    return this.db
      .selectFrom(TABLES.groups)
      .selectAll()
      .where("queue", "=", this.queue)
      .where("name", "=", name)
      .executeTakeFirst();
  }

  /** Updates a group's row, creating it first when missing. */
  async setGroup(name: string, values: Record<string, unknown>): Promise<void> {
    await this.db
      .insertInto(TABLES.groups)
      .values({ queue: this.queue, name, hold_until: 0, ...values })
      .onConflict((oc) => oc.columns(["queue", "name"]).doUpdateSet(values))
      .execute();
  }

  async hasReady(name: string): Promise<boolean> {
    let q = this.db
      .selectFrom(TABLES.jobs)
      .select("id")
      .where("queue", "=", this.queue)
      .where("state", "=", "ready");
    q = name === UNGROUPED ? q.where("group_name", "is", null) : q.where("group_name", "=", name);
    return (await q.limit(1).executeTakeFirst()) !== undefined;
  }

  /** Joins the back of the rotation, unless already in. */
  async join(name: string): Promise<void> {
    const existing = await this.group(name);
    if (existing && existing.rot !== null) return;
    await this.setGroup(name, { rot: this.nextOrder() });
  }

  async joinUnlessWaiting(name: string): Promise<void> {
    const existing = await this.group(name);
    if (existing && (existing.rot !== null || existing.wait_until !== null)) return;
    await this.setGroup(name, { rot: this.nextOrder() });
  }

  async leaveRotation(name: string): Promise<void> {
    await this.setGroup(name, { rot: null });
  }

  async limitsOf(name: string): Promise<ResolvedGroupLimits | null> {
    const row = await this.group(name);
    const override = (row?.limits as string | null | undefined) ?? null;
    return resolveGroupLimits(override ?? this.ctl.group_limits);
  }

  /** A group job's reservation ended: its group may take its turn again. */
  async leaveActive(row: JobRow): Promise<void> {
    const name = row.group_name;
    if (name === null) return;
    const existing = await this.group(name);
    if (existing?.wait_until !== null && existing?.wait_until !== undefined) {
      await this.setGroup(name, { wait_until: null, wait_seq: null });
    }
    if ((existing?.rot ?? null) === null && (await this.hasReady(name))) {
      await this.setGroup(name, { rot: this.nextOrder() });
      this.woke = true;
    }
  }

  /** Starts in a sliding window: `count` in `(now - perMs, now]`, and the oldest. */
  async window(scope: string, perMs: number): Promise<{ count: number; oldest: number | null }> {
    await this.db
      .deleteFrom(TABLES.starts)
      .where("queue", "=", this.queue)
      .where("scope", "=", scope)
      .where("at", "<=", this.now - perMs)
      .execute();
    const row = await this.db
      .selectFrom(TABLES.starts)
      .select((eb) => [eb.fn.countAll().as("n"), eb.fn.min("at").as("oldest")])
      .where("queue", "=", this.queue)
      .where("scope", "=", scope)
      .executeTakeFirst();
    return {
      count: num(row?.n as string),
      oldest: row?.oldest === null || row?.oldest === undefined ? null : num(row.oldest as string),
    };
  }

  async recordStart(scope: string): Promise<void> {
    await this.db
      .insertInto(TABLES.starts)
      .values({ queue: this.queue, scope, at: this.now })
      .execute();
  }

  /** When a group at a limit may run again (epoch ms), or `undefined` when it may now. */
  async blockedUntil(name: string): Promise<number | undefined> {
    const now = this.now;
    const row = await this.group(name);
    const hold = num(row?.hold_until as string);
    let until: number | undefined = hold > now ? hold : undefined;
    const limits = resolveGroupLimits(
      ((row?.limits as string | null | undefined) ?? null) || this.ctl.group_limits,
    );
    if (limits === null) return until;
    if (Number.isFinite(limits.concurrency)) {
      const active = await this.db
        .selectFrom(TABLES.jobs)
        .select((eb) => [eb.fn.countAll().as("n"), eb.fn.min("at").as("first")])
        .where("queue", "=", this.queue)
        .where("state", "=", "processing")
        .where("group_name", "=", name)
        .executeTakeFirst();
      if (num(active?.n as string) >= limits.concurrency) {
        until = Math.max(until ?? 0, num(active?.first as string));
      }
    }
    if (limits.max !== Number.POSITIVE_INFINITY) {
      const w = await this.window(`g:${name}`, limits.perMs);
      if (w.count >= limits.max) until = Math.max(until ?? 0, (w.oldest ?? now) + limits.perMs);
    }
    return until;
  }

  /** The front of the rotation, or undefined when it is empty. */
  async front(): Promise<string | undefined> {
    const row = await this.db
      .selectFrom(TABLES.groups)
      .select("name")
      .where("queue", "=", this.queue)
      .where("rot", "is not", null)
      .orderBy("rot")
      .limit(1)
      .executeTakeFirst();
    return row?.name as string | undefined;
  }

  async popReady(name: string): Promise<JobRow | undefined> {
    let q = this.db
      .selectFrom(TABLES.jobs)
      .selectAll()
      .where("queue", "=", this.queue)
      .where("state", "=", "ready");
    q = name === UNGROUPED ? q.where("group_name", "is", null) : q.where("group_name", "=", name);
    return (await q.orderBy("priority", "desc").orderBy("rank").limit(1).executeTakeFirst()) as
      | JobRow
      | undefined;
  }

  /**
   * The next job to reserve (docs/contract.md, "Groups"): the rotation's front serves one job
   * and goes to the back; a group at a limit waits until it may run again. The jobs without a
   * group take their turn as one more participant.
   */
  async nextReady(): Promise<{ row: JobRow; rotation: boolean } | undefined> {
    if ((await this.front()) === undefined) {
      const row = await this.popReady(UNGROUPED);
      return row && { row, rotation: false };
    }
    for (;;) {
      const ungrouped = await this.hasReady(UNGROUPED);
      if (ungrouped) await this.join(UNGROUPED);
      const name = await this.front();
      if (name === undefined) return undefined;
      await this.leaveRotation(name);
      if (name === UNGROUPED) {
        const row = await this.popReady(UNGROUPED);
        if (!row) continue;
        // Joins the back again when more are ready: afterTake, once this one left ready.
        return { row, rotation: true };
      }
      const until = await this.blockedUntil(name);
      if (until !== undefined) {
        const g = await this.group(name);
        await this.setGroup(name, {
          wait_until: until,
          wait_seq: g?.wait_seq ?? this.nextOrder(),
        });
        continue;
      }
      const row = await this.popReady(name);
      if (!row) continue;
      return { row, rotation: true };
    }
  }

  /** After a reserve took `row` from ready: its participant rejoins when it has more. */
  async afterTake(row: JobRow, usedRotation: boolean): Promise<void> {
    if (!usedRotation) return;
    const name = row.group_name ?? UNGROUPED;
    if (await this.hasReady(name)) await this.join(name);
  }

  /** Limits changed: every waiting group takes its turn again. */
  async limitsChanged(): Promise<void> {
    const waiting = await this.db
      .selectFrom(TABLES.groups)
      .select("name")
      .where("queue", "=", this.queue)
      .where("wait_until", "is not", null)
      .orderBy("wait_seq")
      .execute();
    for (const { name } of waiting) {
      await this.setGroup(name as string, { wait_until: null, wait_seq: null });
      if (await this.hasReady(name as string)) await this.join(name as string);
    }
    this.woke = true;
  }

  /** The earliest time something becomes reservable by the clock, for a blocked reserve. */
  async nextWake(): Promise<number | undefined> {
    const times: number[] = [];
    const timed = await this.db
      .selectFrom(TABLES.jobs)
      .select((eb) => eb.fn.min("at").as("t"))
      .where("queue", "=", this.queue)
      .where("state", "in", ["delayed", "processing"])
      .executeTakeFirst();
    if (timed?.t !== null && timed?.t !== undefined) times.push(num(timed.t as string));
    const waits = await this.db
      .selectFrom(TABLES.groups)
      .select((eb) => eb.fn.min("wait_until").as("t"))
      .where("queue", "=", this.queue)
      .executeTakeFirst();
    if (waits?.t !== null && waits?.t !== undefined) times.push(num(waits.t as string));
    if (this.ctl.hold_until > this.now) times.push(this.ctl.hold_until);
    if (this.ctl.rate_max !== null) {
      // A full window frees a start when its oldest start leaves it.
      const perMs = (this.ctl.rate_per_seconds ?? 0) * 1000;
      const w = await this.window("q", perMs);
      if (w.count >= this.ctl.rate_max && w.oldest !== null) times.push(w.oldest + perMs);
    }
    return times.length === 0 ? undefined : Math.min(...times);
  }

  /** Dialect-specific SQL helper for raw fragments. */
  get isPostgres(): boolean {
    return this.config.dialect === "postgres";
  }

  /** Serializes `p` into a job row (not yet written). */
  newRow(p: PreparedEnqueue, id: number): JobRow {
    return newJobRow(this.queue, this.now, p, id);
  }
}

export { sql };
