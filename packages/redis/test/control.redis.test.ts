// Seeing and controlling jobs on Redis, what the conformance suite cannot see: the keys and
// hash fields written (docs/redis-layout.md, "Seeing and controlling jobs"), nothing added to
// a waiting job's hash, a Python svc-infra worker on a queue that uses all of it, the bounded
// cost of retention trimming, and cancelling a job svc-infra holds.
import { JobCancelledError, ManualClock, WorkerRunner } from "@svc-jobs/core";
import { expectedStats } from "@svc-jobs/core/testing";
import { RedisJobQueue, type RedisJobQueueOptions } from "@svc-jobs/redis";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { svcInfra } from "./interop/svc-infra.js";

const redis = redisFixture(Redis);

/** Runs one svc-infra-style operation on queue `prefix`; its JSON result. */
const py = svcInfra(() => redis.url);

/** The stream entries of `key` as plain objects (field -> value). */
async function streamOf(key: string): Promise<Record<string, string>[]> {
  const entries = await redis.client.xrange(key, "-", "+");
  return entries.map(([, fields]) => {
    const out: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i]!] = fields[i + 1]!;
    return out;
  });
}

function queueOn(p: string, options: RedisJobQueueOptions = {}): RedisJobQueue {
  return new RedisJobQueue(redis.client, { prefix: p, ...options });
}

const START = Date.UTC(2030, 0, 1);
const START_ISO = "2030-01-01T00:00:00.000000+00:00";

describe("layout of seeing and controlling jobs", () => {
  it("adds nothing to a plain waiting job's hash, whatever the queue keeps", async () => {
    const p = redis.prefix("plain");
    const queue = queueOn(p, {
      keepCompleted: true,
      keepCancelled: { count: 10 },
      events: { maxLen: 100 },
    });
    const plain = await queue.enqueue("plain", { a: 1 });
    const [many] = await queue.enqueueMany([{ name: "many", payload: {} }]);
    for (const id of [plain.id, many!.id]) {
      expect(Object.keys(await redis.client.hgetall(`${p}:job:${id}`))).toEqual([
        "id",
        "name",
        "payload",
        "available_at",
      ]);
    }
    // A reservation adds only what svc-infra's and svc-jobs's reserve always added.
    const held = await queue.reserveNext();
    expect(Object.keys(await redis.client.hgetall(`${p}:job:${held!.id}`)).sort()).toEqual(
      ["attempts", "available_at", "id", "name", "payload", "svc_jobs_reserved"].sort(),
    );
  });

  it("writes the keys and fields of docs/redis-layout.md", async () => {
    const clock = new ManualClock(START);
    const p = redis.prefix("control");
    const queue = queueOn(p, {
      clock,
      visibilityTimeoutSeconds: 30,
      keepCompleted: true,
      keepCancelled: true,
      events: { maxLen: 1000 },
    });
    const plain = await queue.enqueue("plain", {});
    const high = await queue.enqueue("high", {}, { priority: 5 });
    const low = await queue.enqueue("low", {}, { priority: -3, maxAttempts: 1 });
    const later = await queue.enqueue("later", {}, { delaySeconds: 10, priority: 5 });

    // Priorities: a LIST per non-zero level, the levels in a ZSET; 0 stays in ready.
    expect(await redis.client.lrange(`${p}:ready`, 0, -1)).toEqual([plain.id]);
    expect(await redis.client.lrange(`${p}:prio:5`, 0, -1)).toEqual([high.id]);
    expect(await redis.client.lrange(`${p}:prio:-3`, 0, -1)).toEqual([low.id]);
    expect(await redis.client.zrange(`${p}:priorities`, 0, -1, "WITHSCORES")).toEqual([
      "-3",
      "-3",
      "5",
      "5",
    ]);
    expect(await redis.client.hget(`${p}:job:${high.id}`, "svc_jobs_priority")).toBe("5");
    // A delayed job: available_at is its due time, the enqueue time goes beside it; it
    // enters its level when due.
    expect(await redis.client.hgetall(`${p}:job:${later.id}`)).toEqual({
      id: later.id,
      name: "later",
      payload: "{}",
      available_at: "2030-01-01T00:00:10.000000+00:00",
      svc_jobs_priority: "5",
      svc_jobs_created_at: START_ISO,
    });
    expect(await redis.client.zscore(`${p}:delayed`, later.id)).toBe(String(START / 1000 + 10));
    expect((await queue.stats()).ready).toBe(3);

    // Reserve order: the highest positive level, ready, then the negative levels.
    const [h, z, l] = await queue.reserveMany(3);
    expect([h?.id, z?.id, l?.id]).toEqual([high.id, plain.id, low.id]);
    // Emptied levels leave the ZSET (and the ZSET goes when the last one does).
    expect(await redis.client.exists(`${p}:priorities`, `${p}:prio:5`, `${p}:prio:-3`)).toBe(0);

    await queue.progress(h!, { pct: 50 });
    expect(await redis.client.hget(`${p}:job:${high.id}`, "svc_jobs_progress")).toBe('{"pct":50}');
    clock.advance(1);
    await queue.ack(h!, { result: { ok: true } });
    expect(await redis.client.hgetall(`${p}:job:${high.id}`)).toMatchObject({
      svc_jobs_state: "completed",
      svc_jobs_finished_at: String(START / 1000 + 1),
      svc_jobs_result: '{"ok":true}',
      svc_jobs_progress: '{"pct":50}',
    });
    expect(await redis.client.hexists(`${p}:job:${high.id}`, "svc_jobs_reserved")).toBe(0);
    expect(await redis.client.zscore(`${p}:completed`, high.id)).toBe(String(START / 1000 + 1));

    expect(await queue.cancel(plain.id, { reason: "withdrawn" })).toBe(true);
    expect(await redis.client.hgetall(`${p}:job:${plain.id}`)).toMatchObject({
      svc_jobs_state: "cancelled",
      svc_jobs_finished_at: String(START / 1000 + 1),
      svc_jobs_cancel_reason: "withdrawn",
    });
    expect(await redis.client.zscore(`${p}:cancelled`, plain.id)).toBe(String(START / 1000 + 1));
    expect(await redis.client.zcard(`${p}:processing_vt`)).toBe(1);

    await queue.fail(l!, new Error("fatal"));
    expect(await redis.client.hget(`${p}:job:${low.id}`, "svc_jobs_state")).toBe("dead");
    expect(await queue.dlq.requeue(low.id)).toBe(true);
    // Back by its priority, no longer dead, its enqueue time kept beside the new available_at.
    expect(await redis.client.hget(`${p}:job:${low.id}`, "svc_jobs_state")).toBeNull();
    expect(await redis.client.hget(`${p}:job:${low.id}`, "svc_jobs_created_at")).toBe(START_ISO);
    expect(await redis.client.lrange(`${p}:prio:-3`, 0, -1)).toEqual([low.id]);

    // The delayed job falls due into its level, not into ready.
    clock.advance(10);
    await queue.housekeep();
    expect(await redis.client.lrange(`${p}:prio:5`, 0, -1)).toEqual([later.id]);
    expect(await redis.client.lrange(`${p}:ready`, 0, -1)).toEqual([]);

    await queue.pause();
    expect(await redis.client.get(`${p}:paused`)).toBe("1");
    expect(await queue.reserveNext()).toBeNull();
    expect(await queue.stats()).toEqual(
      expectedStats({ ready: 2, completed: 1, cancelled: 1, paused: true }),
    );
    await queue.resume();
    expect(await redis.client.exists(`${p}:paused`)).toBe(0);
    expect((await queue.reserveNext())?.id).toBe(later.id);

    // One event per job per transition, with the field names the reader parses.
    const events = await streamOf(`${p}:events`);
    const at = (s: number) => String(START + s * 1000);
    expect(events.slice(0, 4)).toEqual([
      { type: "enqueued", job: plain.id, name: "plain", at: at(0), delay: "0", priority: "0" },
      { type: "enqueued", job: high.id, name: "high", at: at(0), delay: "0", priority: "5" },
      { type: "enqueued", job: low.id, name: "low", at: at(0), delay: "0", priority: "-3" },
      { type: "enqueued", job: later.id, name: "later", at: at(0), delay: "10", priority: "5" },
    ]);
    expect(events.slice(4).map((e) => [e.type, e.job])).toEqual([
      ["reserved", high.id],
      ["reserved", plain.id],
      ["reserved", low.id],
      ["progress", high.id],
      ["completed", high.id],
      ["cancelled", plain.id],
      ["dead", low.id],
      ["reserved", later.id],
    ]);
    expect(events[4]).toEqual({
      type: "reserved",
      job: high.id,
      name: "high",
      at: at(0),
      attempt: "1",
    });
    expect(events[7]).toMatchObject({ type: "progress", progress: '{"pct":50}' });
    expect(events[8]).toMatchObject({ type: "completed", attempt: "1", result: '{"ok":true}' });
    expect(events[9]).toMatchObject({ type: "cancelled", at: at(1), reason: "withdrawn" });
    expect(events[10]).toMatchObject({ type: "dead", attempt: "1", error: "fatal" });

    // Every key the queue wrote is under its prefix.
    const keys = await redis.client.keys(`${p}*`);
    expect(keys.every((k) => k.startsWith(`${p}:`))).toBe(true);
  });

  it("writes no stream with events: false, and caps it near maxLen otherwise", async () => {
    const off = redis.prefix("no-events");
    const quiet = queueOn(off, { events: false });
    await quiet.enqueue("a", {});
    await quiet.ack((await quiet.reserveNext())!);
    expect(await redis.client.exists(`${off}:events`)).toBe(0);

    const capped = redis.prefix("capped");
    const queue = queueOn(capped, { events: { maxLen: 10 } });
    for (let i = 0; i < 10; i++) {
      await queue.enqueueMany(Array.from({ length: 100 }, () => ({ name: "e", payload: {} })));
    }
    // MAXLEN ~ trims whole stream nodes (100 entries each by default): near 10, never 1,000.
    expect(await redis.client.xlen(`${capped}:events`)).toBeLessThanOrEqual(110);
  });

  it("a retry and an expired reservation re-enter by priority; release goes to the front of it", async () => {
    const clock = new ManualClock(START);
    const p = redis.prefix("reenter");
    const queue = queueOn(p, { clock, visibilityTimeoutSeconds: 30 });
    const a = await queue.enqueue("a", {}, { priority: 2, backoffSeconds: 0 });
    const b = await queue.enqueue("b", {}, { priority: 2 });
    const first = (await queue.reserveNext())!;
    expect(first.id).toBe(a.id);
    await queue.release(first);
    expect(await redis.client.lrange(`${p}:prio:2`, 0, -1)).toEqual([b.id, a.id]); // a in front
    const again = (await queue.reserveNext())!;
    await queue.fail(again, new Error("no backoff")); // no delay: back of its level
    expect(await redis.client.lrange(`${p}:prio:2`, 0, -1)).toEqual([a.id, b.id]);
    const bHeld = (await queue.reserveNext())!;
    expect(bHeld.id).toBe(b.id);
    clock.advance(31);
    await queue.housekeep();
    expect(await redis.client.lrange(`${p}:prio:2`, 0, -1)).toEqual([b.id, a.id]);
    expect(await redis.client.lrange(`${p}:ready`, 0, -1)).toEqual([]);
    // An expiry keeps the enqueue time beside the new available_at.
    expect(await redis.client.hget(`${p}:job:${b.id}`, "svc_jobs_created_at")).toBe(START_ISO);
  });

  it("a cancelled reservation without retention stays marked until the visibility timeout + 60 s", async () => {
    const p = redis.prefix("tombstone");
    const queue = queueOn(p, { visibilityTimeoutSeconds: 30 });
    const job = await queue.enqueue("x", {});
    const held = (await queue.reserveNext())!;
    expect(await queue.cancel(job.id)).toBe(true);
    expect(await redis.client.hget(`${p}:job:${job.id}`, "svc_jobs_state")).toBe("cancelled");
    const ttl = await redis.client.pttl(`${p}:job:${job.id}`);
    expect(ttl).toBeGreaterThan(85_000);
    expect(ttl).toBeLessThanOrEqual(90_000);
    expect(await redis.client.exists(`${p}:cancelled`)).toBe(0);
    expect(await queue.checkReservations([held])).toEqual([
      { id: job.id, status: "cancelled", reason: null },
    ]);
    // Late calls of the holder change nothing.
    await queue.ack(held, { result: 1 });
    await queue.fail(held, new Error("late"));
    await queue.release(held);
    await queue.extendVisibility(held, 60);
    await queue.progress(held, 1);
    expect(await redis.client.hgetall(`${p}:job:${job.id}`)).not.toHaveProperty("svc_jobs_result");
    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 0 });

    // A waiting job cancelled without retention leaves nothing.
    const waiting = await queue.enqueue("y", {}, { priority: 7 });
    expect(await queue.cancel(waiting.id)).toBe(true);
    expect(await redis.client.exists(`${p}:job:${waiting.id}`, `${p}:prio:7`)).toBe(0);
    expect(await redis.client.exists(`${p}:priorities`)).toBe(0);
  });
});

describe("retention trimming costs O(log n) per job", () => {
  it("trims at most a small batch per ack, however far over the limit the index is", async () => {
    const clock = new ManualClock(START);
    const p = redis.prefix("trim");
    // 5,000 completed jobs from an earlier, larger retention.
    const old = 5000;
    const pipeline = redis.client.pipeline();
    for (let i = 1; i <= old; i++) {
      pipeline.zadd(`${p}:completed`, START / 1000 - old + i, `old${i}`);
      pipeline.hset(`${p}:job:old${i}`, "id", `old${i}`, "svc_jobs_state", "completed");
    }
    await pipeline.exec();
    const queue = queueOn(p, { clock, keepCompleted: { count: 10 } });
    await queue.enqueue("x", {});
    await queue.ack((await queue.reserveNext())!);
    const left = await redis.client.zcard(`${p}:completed`);
    // The oldest 16 went (with their hashes), not 4,991 in one script.
    expect(left).toBe(old + 1 - 16);
    expect(await redis.client.exists(`${p}:job:old1`, `${p}:job:old16`)).toBe(0);
    expect(await redis.client.exists(`${p}:job:old17`)).toBe(1);
    expect((await redis.client.zrange(`${p}:completed`, 0, 0))[0]).toBe("old17");
  });

  it("keeps the newest count and none older than ageSeconds, deleting the others' hashes", async () => {
    const clock = new ManualClock(START);
    const p = redis.prefix("keep");
    const queue = queueOn(p, {
      clock,
      keepCompleted: { count: 3 },
      keepCancelled: { ageSeconds: 60 },
    });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const job = await queue.enqueue("c", { i });
      ids.push(job.id);
      await queue.ack((await queue.reserveNext())!);
      clock.advance(1);
    }
    expect(await redis.client.zrange(`${p}:completed`, 0, -1)).toEqual(ids.slice(3));
    expect(await redis.client.exists(...ids.slice(0, 3).map((id) => `${p}:job:${id}`))).toBe(0);

    const first = await queue.enqueue("cancel-me", {});
    expect(await queue.cancel(first.id)).toBe(true);
    clock.advance(61);
    const second = await queue.enqueue("cancel-me-too", {});
    expect(await queue.cancel(second.id)).toBe(true);
    expect(await redis.client.zrange(`${p}:cancelled`, 0, -1)).toEqual([second.id]);
    expect(await redis.client.exists(`${p}:job:${first.id}`)).toBe(0);
    expect(await queue.stats()).toMatchObject({ completed: 3, cancelled: 1 });
  });
});

describe("svc-infra on a queue that uses pause, priorities, retention and events", () => {
  it("a Python worker still reserves and acks the priority-0 jobs", async () => {
    const p = redis.prefix("py-control");
    const queue = queueOn(p, {
      keepCompleted: true,
      keepCancelled: true,
      events: { maxLen: 100 },
    });
    const high = await queue.enqueue("high", {}, { priority: 9 });
    const zero = await queue.enqueue("zero", { n: 1 });
    const cancelled = await queue.enqueue("withdrawn", {});
    expect(await queue.cancel(cancelled.id)).toBe(true);
    const done = await queue.enqueue("done", {}, { priority: 9 });
    await queue.pause();

    // svc-infra knows neither pause nor priorities: it runs the ready (priority 0) job.
    const job = await py(p, "reserve", 30);
    expect(job).toMatchObject({ id: zero.id, name: "zero", attempts: 1 });
    expect(await queue.stats()).toMatchObject({ ready: 2, processing: 1, paused: true });
    await py(p, "ack", zero.id);
    expect(await py(p, "reserve", 30)).toBeNull();
    expect(await redis.client.exists(`${p}:job:${zero.id}`)).toBe(0);

    await queue.resume();
    const first = (await queue.reserveNext())!;
    expect(first.id).toBe(high.id);
    await queue.ack(first, { result: "ok" });
    const second = (await queue.reserveNext())!;
    expect(second.id).toBe(done.id);
    await queue.ack(second);
    expect(await queue.stats()).toEqual(expectedStats({ completed: 2, cancelled: 1 }));
    // A Python enqueue afterwards runs on svc-jobs, and the other way round.
    const fromPy = (await py(p, "enqueue", "py", "{}"))!;
    expect((await queue.reserveNext())?.id).toBe(fromPy.id);
    const fromNode = await queue.enqueue("node", {});
    expect(await py(p, "reserve", 30)).toMatchObject({ id: fromNode.id });
  });

  it("cancel ends a reservation svc-infra holds, on both sides", async () => {
    const p = redis.prefix("py-cancel");
    const queue = queueOn(p, { visibilityTimeoutSeconds: 30 });
    const sent = (await py(p, "enqueue", "held", "{}", 0, 5, 1))!;
    const held = (await py(p, "reserve", 30))!;
    expect(await redis.client.lrange(`${p}:processing`, 0, -1)).toEqual([sent.id]);
    expect(await queue.checkReservations([{ id: sent.id, attempts: 1 }])).toEqual([]);

    expect(await queue.cancel(sent.id, { reason: "operator" })).toBe(true);
    expect(await redis.client.lrange(`${p}:processing`, 0, -1)).toEqual([]);
    expect(await redis.client.zcard(`${p}:processing_vt`)).toBe(0);
    expect(await queue.checkReservations([{ id: sent.id, attempts: held.attempts }])).toEqual([
      { id: sent.id, status: "cancelled", reason: "operator" },
    ]);
    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 0 });

    // svc-infra's fail is not fenced: it puts the job in delayed again. svc-jobs's reserve
    // drops it (it is cancelled), so svc-jobs never runs it.
    await py(p, "fail", sent.id, "late");
    expect(await redis.client.zcard(`${p}:delayed`)).toBe(1);
    await new Promise((r) => setTimeout(r, 2100));
    expect(await queue.reserveNext()).toBeNull();
    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 0, processing: 0 });
  });
});

describe("a worker learns of a cancel from another process", () => {
  it("its handler's signal fires with a JobCancelledError within a second; progress reaches Redis", async () => {
    const p = redis.prefix("runner-cancel");
    const queue = queueOn(p);
    const operator = queueOn(p); // another process's queue object
    const job = await queue.enqueue("long", {});
    let started!: () => void;
    const running = new Promise<void>((r) => {
      started = r;
    });
    let reason: unknown;
    let abortedAt = 0;
    const runner = new WorkerRunner(
      queue,
      async (_job, { signal, progress }) => {
        await progress({ pct: 10 });
        started();
        await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
        abortedAt = Date.now();
        reason = signal.reason;
      },
      { concurrency: 1, pollIntervalSeconds: 0.05 },
    );
    const done = runner.start();
    await running;
    expect(await redis.client.hget(`${p}:job:${job.id}`, "svc_jobs_progress")).toBe('{"pct":10}');
    const cancelledAt = Date.now();
    expect(await operator.cancel(job.id, { reason: "operator" })).toBe(true);
    for (let i = 0; i < 60 && abortedAt === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(reason).toBeInstanceOf(JobCancelledError);
    expect(abortedAt - cancelledAt).toBeLessThan(1500);
    await runner.stop({ graceSeconds: 1 });
    await done;
    // Cancelled, not retried, not dead; nothing left in flight.
    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 0 });
    await operator.close();
  });
});
