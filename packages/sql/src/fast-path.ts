import type { PreparedEnqueue } from "@svc-jobs/core/backend";
import { sql } from "kysely";
import { type AnyKysely, TABLES } from "./job-tables.js";
import { NOTIFY_CHANNEL, notifyPayload } from "./pg-notifier.js";
import { type JobRow, newJobRow } from "./queue-transaction.js";

// PostgreSQL's fast path (docs/sql-backend.md, "The fast path"): the acks and reserves of a
// batch in one function call, one round trip and one transaction, while the queue is in
// the common case. Internal.

/** The functions of schema version 2 (see {@link fastPathFunctionSql}). */
export const FAST_PATH_FUNCTION = "svc_jobs_ack_reserve";
export const FAST_ENQUEUE_FUNCTION = "svc_jobs_enqueue";

function qualified(schema: string | null, name: string): string {
  return schema === null ? `"${name}"` : `"${schema}"."${name}"`;
}

/**
 * Both functions plan their statements once per connection (`plan_cache_mode =
 * force_generic_plan`): left to choose, PostgreSQL re-planned them at every call, which cost
 * more than running them (docs/sql-backend.md, "The fast path").
 *
 * `svc_jobs_ack_reserve(queue, now, ids, attempts, results, count, deadline, maxLen,
 * channel, payload, cleanup)`: holding the queue's
 * control row (`FOR UPDATE`, as every transaction of the queue), when the queue is not
 * paused nor held, has no rate limit, nobody in the rotation, no group waiting, nothing due
 * for the housekeeping (expired reservation, due delayed job) and none of the acked jobs
 * has a group: deletes the reserved rows the acks point to (fenced by their attempt), then
 * reserves up to `count` heads of ready in (priority desc, rank) order until `deadline`,
 * their tie order `at_seq` from the control row's `order_seq`. Returns the reserved rows,
 * or one row with `busy` when the queue is not in that case (nothing was written), or one
 * row with `wake` (when something falls due) when `count` found nothing. With events
 * (`maxLen` not null), writes the `completed` and `reserved` events with the next event ids,
 * trims the oldest beyond `maxLen` and sends `pg_notify(channel, payload)`, as the general
 * transaction does. With `cleanup`, also deletes the expired dedupe keys and cancel records
 * (the general reserve's once-a-second cleanup).
 * `schema` is a checked identifier (checkSchema).
 */
export function fastPathFunctionSql(schema: string | null) {
  const fn = qualified(schema, FAST_PATH_FUNCTION);
  const queues = qualified(schema, TABLES.queues);
  const jobs = qualified(schema, TABLES.jobs);
  const groups = qualified(schema, TABLES.groups);
  const events = qualified(schema, TABLES.events);
  const dedupe = qualified(schema, TABLES.dedupe);
  const cancelled = qualified(schema, TABLES.cancelled);
  const enqueue = qualified(schema, FAST_ENQUEUE_FUNCTION);
  return [
    sql.raw(`create or replace function ${enqueue}(
  p_queue text, p_now bigint, p_names text[], p_payloads text[], p_priorities integer[],
  p_max_attempts integer[], p_backoffs double precision[], p_available bigint[],
  p_delayed boolean[], p_trace_parents text[], p_trace_states text[], p_data text[],
  p_max_len integer, p_channel text, p_work text, p_events text)
returns bigint
language plpgsql set plan_cache_mode = force_generic_plan as $fn$
declare
  c record;
  v_n integer := cardinality(p_names);
  v_delayed integer := coalesce(array_length(array_positions(p_delayed, true), 1), 0);
  v_events integer := case when p_max_len is null then 0 else cardinality(p_names) end;
begin
  select * into c from ${queues} q where q.name = p_queue for update;
  insert into ${jobs} (queue, id, name, payload, state, priority, rank, attempts, max_attempts,
      backoff_seconds, available_at, at, at_seq, seq, created_at, trace_parent, trace_state)
    select p_queue, c.next_id + x.ord, x.name, x.payload,
      case when x.delayed then 'delayed' else 'ready' end, x.priority,
      case when x.delayed then 0
        else c.rank_back + count(*) filter (where not x.delayed) over (order by x.ord) end,
      0, x.max_attempts, x.backoff, x.available, x.available,
      case when x.delayed then c.order_seq + count(*) filter (where x.delayed) over (order by x.ord)
        else 0 end,
      0, p_now, x.tp, x.ts
    from unnest(p_names, p_payloads, p_priorities, p_max_attempts, p_backoffs, p_available,
                p_delayed, p_trace_parents, p_trace_states)
      with ordinality x(name, payload, priority, max_attempts, backoff, available, delayed, tp, ts, ord);
  if v_events > 0 then
    insert into ${events} (queue, id, type, job_id, name, at, data)
      select p_queue, c.event_seq + x.ord, 'enqueued', c.next_id + x.ord, x.name, p_now, x.data
      from unnest(p_names, p_data) with ordinality x(name, data, ord);
    delete from ${events} x where x.queue = p_queue and x.id <= c.event_seq + v_n - p_max_len;
  end if;
  update ${queues} q set next_id = c.next_id + v_n, rank_back = c.rank_back + v_n - v_delayed,
    order_seq = c.order_seq + v_delayed, event_seq = c.event_seq + v_events
    where q.name = p_queue;
  if v_n > v_delayed then
    perform pg_notify(p_channel, p_work);
  elsif v_events > 0 then
    perform pg_notify(p_channel, p_events);
  end if;
  return c.next_id + 1;
end
$fn$`),
    sql.raw(`create or replace function ${fn}(
  p_queue text, p_now bigint, p_ids bigint[], p_atts integer[], p_results text[],
  p_count integer, p_deadline bigint, p_max_len integer, p_channel text, p_payload text,
  p_cleanup boolean)
returns table (busy boolean, wake bigint, id bigint, name text, payload text,
  attempts integer, max_attempts integer, backoff_seconds double precision, last_error text,
  available_at bigint, at_seq bigint, trace_parent text, trace_state text)
language plpgsql set plan_cache_mode = force_generic_plan as $fn$
#variable_conflict use_column
declare
  c record;
  n integer := 0;
  k integer;
  ev bigint;
begin
  select * into c from ${queues} q where q.name = p_queue for update;
  if not found or c.paused <> 0 or c.hold_until > p_now or c.rate_max is not null
     or exists (select 1 from ${groups} g where g.queue = p_queue
                and (g.rot is not null or g.wait_until is not null))
     or (p_count > 0 and (
          exists (select 1 from ${jobs} j where j.queue = p_queue and j.state = 'processing'
                  and j.at <= p_now)
          or exists (select 1 from ${jobs} j where j.queue = p_queue and j.state = 'delayed'
                     and j.at <= p_now)))
     or exists (select 1 from ${jobs} j where j.queue = p_queue and j.id = any(p_ids)
                and j.state = 'processing' and j.group_name is not null) then
    return query select true, null::bigint, null::bigint, null::text, null::text,
      null::integer, null::integer, null::double precision, null::text, null::bigint,
      null::bigint, null::text, null::text;
    return;
  end if;
  if p_cleanup then
    delete from ${dedupe} x where x.queue = p_queue and x.expires_at <= p_now;
    delete from ${cancelled} x where x.queue = p_queue and x.until <= p_now;
  end if;
  ev := c.event_seq;
  if cardinality(p_ids) > 0 then
    -- Each acked row's completed event, in the order of the acks (the first ack of a row).
    with a as (select x.id, x.att, x.res, x.ord
               from unnest(p_ids, p_atts, p_results) with ordinality x(id, att, res, ord)),
    -- \`state || ''\`: so that the plan looks the rows up by key, never by the partial index
    -- of processing jobs (it would read every reserved job of the queue).
    d as (delete from ${jobs} j where j.queue = p_queue and j.id = any(p_ids)
            and j.state || '' = 'processing'
            and exists (select 1 from a where a.id = j.id and (a.att is null or a.att = j.attempts))
          returning j.id, j.name, j.attempts),
    m as (select distinct on (d.id) d.id, d.name, d.attempts, a.res, a.ord
          from d join a on a.id = d.id and (a.att is null or a.att = d.attempts)
          order by d.id, a.ord)
    insert into ${events} (queue, id, type, job_id, name, at, data)
      select p_queue, ev + row_number() over (order by m.ord), 'completed', m.id, m.name, p_now,
        '{"attempt":' || m.attempts || coalesce(',"result":' || m.res, '') || '}'
      from m where p_max_len is not null;
    get diagnostics k = row_count;
    ev := ev + k;
  end if;
  if p_count > 0 then
  return query
    with p as (
      select h.id, row_number() over (order by h.priority desc, h.rank) as ord
      from (select r.id, r.priority, r.rank from ${jobs} r
            where r.queue = p_queue and r.state = 'ready' and r.group_name is null
            order by r.priority desc, r.rank limit p_count) h),
    u as (
      update ${jobs} j set state = 'processing', attempts = j.attempts + 1, at = p_deadline,
        at_seq = c.order_seq + (select p.ord from p where p.id = j.id)
      where j.queue = p_queue and j.id = any(array(select p.id from p))
      returning j.*),
    e as (insert into ${events} (queue, id, type, job_id, name, at, data)
      select p_queue, ev + row_number() over (order by u.at_seq), 'reserved', u.id, u.name, p_now,
        '{"attempt":' || u.attempts || '}'
      from u where p_max_len is not null)
    select false, null::bigint, u.id, u.name, u.payload, u.attempts, u.max_attempts,
      u.backoff_seconds::double precision, u.last_error, u.available_at, u.at_seq,
      u.trace_parent, u.trace_state
    from u;
  get diagnostics n = row_count;
  if n = 0 then
    return query select false, least(
        (select min(j.at) from ${jobs} j where j.queue = p_queue and j.state = 'delayed'),
        (select min(j.at) from ${jobs} j where j.queue = p_queue and j.state = 'processing')),
      null::bigint, null::text, null::text, null::integer, null::integer,
      null::double precision, null::text, null::bigint, null::bigint, null::text, null::text;
  end if;
  end if;
  if p_max_len is not null then
    ev := ev + n;
  end if;
  if n > 0 or ev > c.event_seq then
    update ${queues} q set order_seq = c.order_seq + n, event_seq = ev where q.name = p_queue;
  end if;
  if ev > c.event_seq then
    delete from ${events} x where x.queue = p_queue and x.id <= ev - p_max_len;
    perform pg_notify(p_channel, p_payload);
  end if;
end
$fn$`),
  ];
}

/** What one call of the fast path gave: `undefined` when the queue needs the general path. */
export interface FastPathResult {
  rows: JobRow[];
  wake: number | undefined;
  /** Whether it wrote events. */
  emitted: boolean;
}

/** Calls the fast path (outside any transaction: the call is its own). */
export async function callFastPath(
  db: AnyKysely,
  schema: string | null,
  args: {
    queue: string;
    now: number;
    ids: string[];
    attempts: (number | null)[];
    /** Each ack's result as JSON, null without one. */
    results: (string | null)[];
    count: number;
    deadline: number;
    /** The queue's `events.maxLen`, null without events. */
    maxLen: number | null;
    /** Whether to delete the expired dedupe keys and cancel records too. */
    cleanup: boolean;
  },
): Promise<FastPathResult | undefined> {
  const fn = sql.raw(qualified(schema, FAST_PATH_FUNCTION));
  const { rows } = await sql<
    JobRow & { busy: boolean; wake: string | null }
  >`select * from ${fn}(${args.queue}, ${args.now}, ${args.ids}::bigint[], ${args.attempts}::integer[], ${args.results}::text[], ${args.count}, ${args.deadline}, ${args.maxLen}::integer, ${NOTIFY_CHANNEL}, ${notifyPayload(args.queue, false)}, ${args.cleanup})`.execute(
    db,
  );
  if (rows[0]?.busy === true) return undefined;
  const jobs = rows.filter((row) => row.id !== null);
  jobs.sort((a, b) => Number(a.at_seq) - Number(b.at_seq));
  const wake = rows.find((row) => row.id === null)?.wake;
  return {
    rows: jobs,
    wake: wake === null || wake === undefined ? undefined : Number(wake),
    emitted: args.maxLen !== null && (jobs.length > 0 || args.ids.length > 0),
  };
}

/**
 * Enqueues `prepared` (no dedupe key, no group) in one call: returns the new rows (ids in
 * order, counters assigned as the general path assigns them).
 */
export async function callFastEnqueue(
  db: AnyKysely,
  schema: string | null,
  args: { queue: string; now: number; prepared: PreparedEnqueue[]; maxLen: number | null },
): Promise<JobRow[]> {
  const { queue, now, prepared } = args;
  const rows = prepared.map((p) => newJobRow(queue, now, p, 0));
  const col = <K extends keyof JobRow>(key: K) => rows.map((row) => row[key]);
  const fn = sql.raw(qualified(schema, FAST_ENQUEUE_FUNCTION));
  const delayed = prepared.map((p) => p.delaySeconds > 0);
  const data = rows.map((row) =>
    JSON.stringify({
      delaySeconds: (Number(row.available_at) - now) / 1000,
      priority: row.priority,
    }),
  );
  const { rows: out } = await sql<{ first: string }>`select ${fn}(${queue}, ${now},
    ${col("name")}::text[], ${col("payload")}::text[], ${col("priority")}::integer[],
    ${col("max_attempts")}::integer[], ${col("backoff_seconds")}::double precision[],
    ${col("available_at")}::bigint[], ${delayed}::boolean[], ${col("trace_parent")}::text[],
    ${col("trace_state")}::text[], ${data}::text[], ${args.maxLen}::integer, ${NOTIFY_CHANNEL},
    ${notifyPayload(queue, true)}, ${notifyPayload(queue, false)}) as first`.execute(db);
  const first = Number(out[0]?.first);
  for (const [i, row] of rows.entries()) {
    row.id = first + i;
    if (!delayed[i]) row.state = "ready";
  }
  return rows;
}
