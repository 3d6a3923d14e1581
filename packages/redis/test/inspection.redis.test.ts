// Seeing jobs on Redis (docs/contract.md, "Seeing and controlling jobs"; docs/redis-layout.md,
// "Seeing jobs"): getJob, listJobs and countByName read layout version 2 plus the keys of
// priorities and retention, and events() reads the queue's stream. The state is built with
// raw Redis commands (as svc-jobs's scripts and a Python svc-infra worker write it), so
// these tests also prove what is read of a queue svc-infra shares.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import {
  BackendError,
  type JobEvent,
  type JobInfo,
  type JobState,
  JobValidationError,
} from "@svc-jobs/core";
import { clusterFixture, redisFixture, thrown } from "@svc-jobs/test-servers/fixtures";
import { Cluster, Redis } from "ioredis";
import RedisMock from "ioredis-mock";
import { describe, expect, it } from "vitest";
import { compareIds, jobEvents, parseEvent } from "../src/event-stream.js";
import { isoUtc } from "../src/job-hash.js";
import { inspectionKeys, JobInspection } from "../src/job-inspection.js";
import { type QueueKeys, queueKeys } from "../src/queue-keys.js";
import { svcInfra } from "./interop/svc-infra.js";

const run = promisify(execFile);

const redis = redisFixture(Redis);

const T0 = Date.UTC(2030, 0, 1); // epoch ms
const ISO0 = isoUtc(T0);

interface Setup {
  c: Redis;
  keys: QueueKeys;
  p: string;
  inspect: JobInspection;
}

function setup(name: string, options?: ConstructorParameters<typeof JobInspection>[2]): Setup {
  const c = redis.client;
  const keys = queueKeys(redis.prefix(name), { cluster: false, clientKeyPrefix: "" });
  return { c, keys, p: keys.prefix, inspect: new JobInspection(c, keys, options) };
}

/** Writes a job hash as svc-jobs's enqueue does (only the fields given beyond the four). */
async function put(s: Setup, id: string | number, fields: Record<string, string> = {}) {
  await s.c.hset(`${s.p}:job:${id}`, {
    id: String(id),
    name: "n",
    payload: JSON.stringify({ id: Number(id) }),
    available_at: ISO0,
    ...fields,
  });
}

/** Ready jobs `ids` at priority `level`, enqueued in that order (LPUSH: first runs first). */
async function ready(s: Setup, level: number, ids: number[], name = "n") {
  for (const id of ids) {
    await put(s, id, { name, ...(level ? { svc_jobs_priority: String(level) } : {}) });
  }
  const key = level === 0 ? s.keys.ready : `${s.p}:prio:${level}`;
  if (ids.length) await s.c.lpush(key, ...ids.map(String));
  if (level !== 0) await s.c.zadd(`${s.p}:priorities`, level, String(level));
}

async function all(s: Setup, state: JobState, limit: number, name?: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; ; pages++) {
    if (pages > 1000) throw new Error("too many pages");
    const page = await s.inspect.listJobs({ state, limit, cursor, ...(name ? { name } : {}) });
    ids.push(...page.jobs.map((j) => j.id));
    expect(page.jobs.every((j) => j.state === state)).toBe(true);
    cursor = page.cursor;
    if (cursor === null) return ids;
  }
}

const py = svcInfra(() => redis.url);

describe("getJob", () => {
  it("reads every state, with priority, createdAt, finishedAt, progress and result", async () => {
    const s = setup("get");
    await ready(s, 0, [1]);
    await ready(s, 7, [2]);
    await put(s, 3, { svc_jobs_created_at: isoUtc(T0 - 5000), available_at: isoUtc(T0 + 60e3) });
    await s.c.zadd(s.keys.delayed, (T0 + 60e3) / 1000, "3");
    await put(s, 4, { attempts: "1", svc_jobs_reserved: "1", svc_jobs_progress: '{"pct":40}' });
    await s.c.zadd(s.keys.processingVt, T0 / 1000 + 30, "4");
    await put(s, 5, { attempts: "5", last_error: "boom", svc_jobs_state: "dead" });
    await s.c.lpush(s.keys.dlq, "5");
    await put(s, 6, {
      attempts: "1",
      svc_jobs_state: "completed",
      svc_jobs_finished_at: String(T0 / 1000 + 1.5),
      svc_jobs_result: '{"sent":true}',
      svc_jobs_progress: "100",
    });
    await s.c.zadd(`${s.p}:completed`, T0 / 1000 + 1.5, "6");
    await put(s, 7, {
      svc_jobs_state: "cancelled",
      svc_jobs_finished_at: String(T0 / 1000 + 2),
      svc_jobs_cancel_reason: "withdrawn",
    });
    await s.c.zadd(`${s.p}:cancelled`, T0 / 1000 + 2, "7");

    const one = (await s.inspect.getJob("1")) as JobInfo;
    expect(one).toEqual({
      id: "1",
      name: "n",
      payload: { id: 1 },
      availableAt: new Date(T0),
      attempts: 0,
      maxAttempts: 5,
      backoffSeconds: 60,
      lastError: null,
      state: "ready",
      priority: 0,
      group: null,
      createdAt: new Date(T0),
      finishedAt: null,
      progress: null,
      result: null,
    });
    expect(await s.inspect.getJob("2")).toMatchObject({ state: "ready", priority: 7 });
    expect(await s.inspect.getJob("3")).toMatchObject({
      state: "delayed",
      createdAt: new Date(T0 - 5000),
      availableAt: new Date(T0 + 60e3),
    });
    expect(await s.inspect.getJob("4")).toMatchObject({
      state: "processing",
      attempts: 1,
      progress: { pct: 40 },
    });
    expect(await s.inspect.getJob("5")).toMatchObject({ state: "dead", lastError: "boom" });
    expect(await s.inspect.getJob("6")).toMatchObject({
      state: "completed",
      finishedAt: new Date(T0 + 1500),
      result: { sent: true },
      progress: 100,
    });
    expect(await s.inspect.getJob("7")).toMatchObject({
      state: "cancelled",
      finishedAt: new Date(T0 + 2000),
      result: null,
    });
    expect(await s.inspect.getJob("99")).toBeNull();
  });

  it("validates the id", async () => {
    const s = setup("get-bad");
    const error = await thrown(() => s.inspect.getJob("" as string));
    expect(error).toBeInstanceOf(JobValidationError);
    expect(await thrown(() => s.inspect.getJob(7 as unknown as string))).toMatchObject({
      field: "id",
    });
  });

  it("reads what a Python svc-infra worker writes: a job it holds, one it retries, one it dead-lettered", async () => {
    const s = setup("get-py");
    const held = (await py(s.p, "enqueue", "py_held", "{}"))!;
    expect(await py(s.p, "reserve", 60)).toMatchObject({ id: held.id });
    // svc-infra's fail leaves `visible_at` behind: the job is delayed, not processing.
    const retried = (await py(s.p, "enqueue", "py_retry", "{}", 0, 3, 60))!;
    expect(await py(s.p, "reserve", 60)).toMatchObject({ id: retried.id });
    await py(s.p, "fail", retried.id, "try later");
    const dead = (await py(s.p, "enqueue", "py_dead", '{"x": 1}', 0, 1))!;
    expect(await py(s.p, "reserve", 60)).toMatchObject({ id: dead.id });
    await py(s.p, "fail", dead.id, "gave up");
    const waiting = (await py(s.p, "enqueue", "py_waiting", "{}"))!;

    expect(await s.c.hexists(`${s.p}:job:${retried.id}`, "visible_at")).toBe(1);
    expect(await s.c.hexists(`${s.p}:job:${dead.id}`, "visible_at")).toBe(1);
    expect(await s.inspect.getJob(held.id)).toMatchObject({
      state: "processing",
      name: "py_held",
      attempts: 1,
      priority: 0,
    });
    expect(await s.inspect.getJob(retried.id)).toMatchObject({
      state: "delayed",
      lastError: "try later",
    });
    expect(await s.inspect.getJob(dead.id)).toMatchObject({
      state: "dead",
      payload: { x: 1 },
      attempts: 1,
    });
    expect(await s.inspect.getJob(waiting.id)).toMatchObject({ state: "ready" });
    expect(await all(s, "processing", 10)).toEqual([held.id]);
    expect(await all(s, "dead", 10)).toEqual([dead.id]);
    expect(await all(s, "delayed", 10)).toEqual([retried.id]);
    expect(await all(s, "ready", 10)).toEqual([waiting.id]);
    expect(await s.inspect.countByName("processing")).toEqual({ py_held: 1 });
  });
});

describe("listJobs: each state in its order", () => {
  it("ready: highest priority first, then ready, then negative priorities; FIFO within each", async () => {
    const s = setup("order-ready");
    await ready(s, 0, [1, 2]);
    await ready(s, 10, [3, 4]);
    await ready(s, -1, [5]);
    await ready(s, 2, [6]);
    await ready(s, -30, [7, 8]);
    // A priority whose list is empty is skipped.
    await s.c.zadd(`${s.p}:priorities`, 5, "5");
    expect(await all(s, "ready", 50)).toEqual(["3", "4", "6", "1", "2", "5", "7", "8"]);
    for (const limit of [1, 2, 3]) {
      expect(await all(s, "ready", limit)).toEqual(["3", "4", "6", "1", "2", "5", "7", "8"]);
    }
    const page = await s.inspect.listJobs({ state: "ready", limit: 8 });
    expect(page.cursor).toBeNull();
    expect(page.jobs.map((j) => j.priority)).toEqual([10, 10, 2, 0, 0, -1, -30, -30]);
  });

  it("delayed: by due time, then by member bytes as Redis orders equal scores", async () => {
    const s = setup("order-delayed");
    for (const id of [1, 2, 9, 10, 11, 100]) await put(s, id);
    await s.c.zadd(s.keys.delayed, 200, "1", 100, "2", 150, "9", 150, "10", 150, "100", 150, "11");
    expect(await all(s, "delayed", 50)).toEqual(["2", "10", "100", "11", "9", "1"]);
    for (const limit of [1, 2, 4]) {
      expect(await all(s, "delayed", limit)).toEqual(["2", "10", "100", "11", "9", "1"]);
    }
  });

  it("processing: by numeric id, svc-jobs's reservations and svc-infra's list alike", async () => {
    const s = setup("order-processing");
    for (const id of [2, 9, 10, 100, 33]) await put(s, id, { attempts: "1" });
    await s.c.zadd(s.keys.processingVt, 50, "100", 10, "9", 30, "2", 20, "10");
    // svc-infra's reservation: in both its list and processing_vt; 33 only in the list.
    await s.c.lpush(s.keys.processing, "10", "33");
    await s.c.hset(`${s.p}:job:33`, "visible_at", "1893456000");
    expect(await all(s, "processing", 50)).toEqual(["2", "9", "10", "33", "100"]);
    expect(await all(s, "processing", 2)).toEqual(["2", "9", "10", "33", "100"]);
  });

  it("dead: oldest death first; completed and cancelled: newest first", async () => {
    const s = setup("order-finished");
    for (const id of [1, 2, 3, 4, 5, 6, 7]) await put(s, id);
    for (const id of ["3", "1", "2"]) await s.c.lpush(s.keys.dlq, id); // 3 died first
    for (const [id, at] of [
      ["4", 10],
      ["5", 30],
      ["6", 20],
      ["7", 30],
    ] as const) {
      await s.c.hset(`${s.p}:job:${id}`, {
        svc_jobs_state: "completed",
        svc_jobs_finished_at: String(at),
      });
      await s.c.zadd(`${s.p}:completed`, at, id);
    }
    expect(await all(s, "dead", 50)).toEqual(["3", "1", "2"]);
    expect(await all(s, "dead", 1)).toEqual(["3", "1", "2"]);
    expect(await all(s, "completed", 50)).toEqual(["7", "5", "6", "4"]);
    expect(await all(s, "completed", 1)).toEqual(["7", "5", "6", "4"]);
    expect(await all(s, "cancelled", 5)).toEqual([]);
    const page = await s.inspect.listJobs({ state: "completed", limit: 1 });
    expect(page.jobs[0]).toMatchObject({ id: "7", finishedAt: new Date(30_000) });
  });

  it("skips an id whose hash is gone or which is in another state too", async () => {
    const s = setup("order-skip");
    await ready(s, 0, [1, 2, 3]);
    await s.c.del(`${s.p}:job:2`);
    await s.c.zadd(s.keys.processingVt, 99, "3"); // a stale second copy of a reserved id
    await s.c.hset(`${s.p}:job:3`, { attempts: "1" });
    expect(await all(s, "ready", 1)).toEqual(["1"]);
    expect(await all(s, "processing", 1)).toEqual(["3"]);
  });
});

describe("listJobs: paging while the queue changes", () => {
  it("ready: never skips or repeats a job that stays ready (reserves, enqueues, cancels, releases)", async () => {
    const s = setup("stable-ready");
    const ids = Array.from({ length: 40 }, (_, i) => i + 1);
    await ready(s, 0, ids.slice(0, 30));
    await ready(s, 3, ids.slice(30));
    const seen: string[] = [];
    let page = await s.inspect.listJobs({ state: "ready", limit: 7 });
    seen.push(...page.jobs.map((j) => j.id));
    // Reserve the next three to run (the priority 3 list's right end).
    const reserved: string[] = [];
    for (let i = 0; i < 3; i++) reserved.push((await s.c.rpop(`${s.p}:prio:3`))!);
    // Cancel the cursor's job (the last listed) and one not listed yet.
    const last = seen.at(-1)!;
    await s.c.lrem(`${s.p}:prio:3`, 0, last);
    await s.c.lrem(s.keys.ready, 0, last);
    await s.c.del(`${s.p}:job:${last}`);
    await s.c.lrem(s.keys.ready, 0, "20");
    await s.c.del(`${s.p}:job:20`);
    // Enqueue more, and release a reserved job (to the front).
    await ready(s, 0, [41, 42]);
    await s.c.rpush(`${s.p}:prio:3`, reserved[0]!);
    page = await s.inspect.listJobs({ state: "ready", limit: 7, cursor: page.cursor });
    seen.push(...page.jobs.map((j) => j.id));
    // Reserve everything up to and including the cursor's job, then requeue that one at
    // the back (another attempt: it left and came back).
    const cursorJob = seen.at(-1)!;
    const popped: string[] = [];
    for (;;) {
      const id = (await s.c.rpop(`${s.p}:prio:3`)) ?? (await s.c.rpop(s.keys.ready));
      popped.push(id!);
      if (id === cursorJob) break;
    }
    await s.c.hset(`${s.p}:job:${cursorJob}`, { attempts: "1", available_at: isoUtc(T0 + 9) });
    await s.c.lpush(s.keys.ready, cursorJob);
    let cursor = page.cursor;
    while (cursor) {
      page = await s.inspect.listJobs({ state: "ready", limit: 7, cursor });
      seen.push(...page.jobs.map((j) => j.id));
      cursor = page.cursor;
    }
    const stayed = ids
      .map(String)
      .filter((id) => id !== last && id !== "20" && !reserved.includes(id) && !popped.includes(id));
    expect(stayed.length).toBeGreaterThan(10);
    for (const id of stayed)
      expect(
        seen.filter((x) => x === id),
        id,
      ).toHaveLength(1);
  });

  it("delayed, completed: a cursor whose job left still finds its place", async () => {
    const s = setup("stable-zset");
    for (let id = 1; id <= 30; id++) await put(s, id);
    // Many equal scores (enqueueMany with one delay, or svc-infra's whole seconds).
    for (let id = 1; id <= 30; id++)
      await s.c.zadd(s.keys.delayed, id <= 20 ? 100 : id, String(id));
    const seen: string[] = [];
    let page = await s.inspect.listJobs({ state: "delayed", limit: 6 });
    seen.push(...page.jobs.map((j) => j.id));
    // The first page is 21..26 (due first). Its cursor's job falls due (leaves), another
    // listed one and an unlisted one too.
    expect(seen).toEqual(["21", "22", "23", "24", "25", "26"]);
    await s.c.zrem(s.keys.delayed, "26", "21", "29");
    let cursor = page.cursor;
    while (cursor) {
      page = await s.inspect.listJobs({ state: "delayed", limit: 6, cursor });
      seen.push(...page.jobs.map((j) => j.id));
      cursor = page.cursor;
      // A new job due later than everything; one due before the cursor (not shown).
      if (!seen.includes("31")) {
        await put(s, 31);
        await s.c.zadd(s.keys.delayed, 1000, "31");
        await put(s, 32);
        await s.c.zadd(s.keys.delayed, 1, "32");
      }
    }
    const expected = await s.c.zrange(s.keys.delayed, 0, -1);
    for (const id of expected.filter((id) => id !== "32")) {
      expect(
        seen.filter((x) => x === id),
        id,
      ).toHaveLength(1);
    }
    expect(seen).not.toContain("32");
    // Ordered: by score, then member bytes.
    expect(seen.slice(6)).toEqual(
      expected.filter((id) => !seen.slice(0, 6).includes(id) && id !== "32"),
    );
    expect(seen).not.toContain("29");
  });

  it("dead: a requeued (removed) cursor job does not restart the listing", async () => {
    const s = setup("stable-dead");
    for (let id = 1; id <= 20; id++) {
      await put(s, id, { attempts: "5" });
      await s.c.lpush(s.keys.dlq, String(id));
    }
    const first = await s.inspect.listJobs({ state: "dead", limit: 5 });
    expect(first.jobs.map((j) => j.id)).toEqual(["1", "2", "3", "4", "5"]);
    await s.c.lrem(s.keys.dlq, 0, "5"); // dlq.requeue("5")
    await s.c.lrem(s.keys.dlq, 0, "4");
    // ... and it ran again (attempts from 0) and died again: the newest.
    await s.c.hset(`${s.p}:job:5`, { attempts: "1", available_at: isoUtc(T0 + 5000) });
    await s.c.lpush(s.keys.dlq, "5");
    const rest = await s.inspect.listJobs({ state: "dead", limit: 20, cursor: first.cursor });
    expect(rest.jobs.map((j) => j.id)).toEqual([
      ...Array.from({ length: 15 }, (_, i) => String(i + 6)),
      "5",
    ]);
    expect(rest.cursor).toBeNull();
    // requeueAll from the oldest end: everything listed left; the cursor goes on.
    const a = await s.inspect.listJobs({ state: "dead", limit: 3 });
    for (let i = 0; i < 5; i++) await s.c.rpop(s.keys.dlq);
    const b = await s.inspect.listJobs({ state: "dead", limit: 3, cursor: a.cursor });
    expect(a.jobs.map((j) => j.id)).toEqual(["1", "2", "3"]);
    expect(b.jobs.map((j) => j.id)).toEqual(["8", "9", "10"]);
  });

  it("with a name, a page may be short while more remain; paging finds every match once", async () => {
    const s = setup("name-filter");
    const n = 4500;
    const pipe = s.c.pipeline();
    for (let id = 1; id <= n; id++) {
      const name = id % 1000 === 0 ? "rare" : "common";
      pipe.hset(`${s.p}:job:${id}`, { id: String(id), name, payload: "{}", available_at: ISO0 });
    }
    pipe.lpush(s.keys.ready, ...Array.from({ length: n }, (_, i) => String(i + 1)));
    await pipe.exec();
    const first = await s.inspect.listJobs({ state: "ready", name: "rare", limit: 3 });
    expect(first.jobs.map((j) => j.id)).toEqual(["1000", "2000"]); // the scan budget ran out
    expect(first.cursor).not.toBeNull();
    expect(await all(s, "ready", 3, "rare")).toEqual(["1000", "2000", "3000", "4000"]);
    expect(await all(s, "ready", 1, "rare")).toEqual(["1000", "2000", "3000", "4000"]);
    const none = await s.inspect.listJobs({ state: "ready", name: "nope", limit: 10 });
    expect(none.jobs).toEqual([]);
    expect(none.cursor).not.toBeNull();
    expect(await s.inspect.countByName("ready")).toEqual({ common: 4496, rare: 4 });
  });
});

describe("listJobs: long runs of ids in another state", () => {
  it("goes on past more than one call's worth of stale or hashless ids (no restart)", async () => {
    const s = setup("stale-run");
    const n = 5000;
    const pipe = s.c.pipeline();
    for (let id = 1; id <= n; id++) {
      // 1..2000 and 4001..5000 are reserved (a stale copy in ready); 2001..3000 have no
      // hash; 3001..4000 are ready.
      if (id <= 2000 || id > 3000) {
        pipe.hset(`${s.p}:job:${id}`, {
          id: String(id),
          name: "n",
          payload: "{}",
          available_at: ISO0,
        });
      }
      if (id <= 2000 || id > 4000) pipe.zadd(s.keys.processingVt, 5, String(id));
    }
    pipe.lpush(s.keys.ready, ...Array.from({ length: n }, (_, i) => String(i + 1)));
    await pipe.exec();
    const started = Date.now();
    expect(await s.inspect.countByName("ready")).toEqual({ n: 1000 });
    const ids = await all(s, "ready", 300);
    expect(ids).toEqual(Array.from({ length: 1000 }, (_, i) => String(3001 + i)));
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe("listJobs: many reservations (more than one script sorts)", () => {
  it("pages processing jobs by id, stable while reservations end and begin", async () => {
    const s = setup("many-processing");
    const n = 6000;
    const pipe = s.c.pipeline();
    const members: (string | number)[] = [];
    for (let id = 1; id <= n; id++) {
      const name = id % 500 === 0 ? "rare" : "common";
      pipe.hset(`${s.p}:job:${id}`, {
        id: String(id),
        name,
        payload: "{}",
        available_at: ISO0,
        attempts: "1",
      });
      // Deadlines unrelated to the ids, many of them equal (one reserveMany).
      members.push(100 + ((id * 7919) % 50), String(id));
    }
    pipe.zadd(s.keys.processingVt, ...members);
    await pipe.exec();
    const seen: string[] = [];
    let page = await s.inspect.listJobs({ state: "processing", limit: 400 });
    expect(page.jobs.map((j) => j.id)).toEqual(
      Array.from({ length: 400 }, (_, i) => String(i + 1)),
    );
    seen.push(...page.jobs.map((j) => j.id));
    // Reservations end (listed and not), others begin with new ids, deadlines move.
    await s.c.zrem(s.keys.processingVt, "5", "401", "402", "3000");
    await s.c.zadd(s.keys.processingVt, 999, "10", 1, "4000");
    for (let id = n + 1; id <= n + 3; id++) {
      await put(s, id, { attempts: "1" });
      await s.c.zadd(s.keys.processingVt, 5, String(id));
    }
    while (page.cursor) {
      page = await s.inspect.listJobs({ state: "processing", limit: 400, cursor: page.cursor });
      seen.push(...page.jobs.map((j) => j.id));
    }
    const expected = Array.from({ length: n + 3 }, (_, i) => String(i + 1)).filter(
      (id) => !["401", "402", "3000"].includes(id),
    );
    expect(seen).toEqual(expected);
    expect(await all(s, "processing", 7, "rare")).toEqual(
      Array.from({ length: 12 }, (_, i) => String((i + 1) * 500)).filter((id) => id !== "3000"),
    );
    expect(await s.inspect.countByName("processing")).toEqual({ common: 5985, n: 3, rare: 11 });
  });
});

describe("listJobs: validation", () => {
  it("refuses a bad state, limit, name or cursor, and unknown options", async () => {
    const s = setup("validate");
    await ready(s, 0, [1, 2, 3]);
    const list = (opts: unknown) => s.inspect.listJobs(opts as never);
    expect(await thrown(() => list({ state: "waiting" }))).toMatchObject({
      field: "opts.state",
      message: expect.stringMatching(/delayed, ready, processing, completed, dead, cancelled/),
    });
    for (const limit of [0, 1001, 1.5, "10"]) {
      expect(await thrown(() => list({ state: "ready", limit }))).toMatchObject({
        field: "opts.limit",
      });
    }
    expect(await thrown(() => list({ state: "ready", name: "" }))).toMatchObject({
      field: "opts.name",
    });
    expect(await thrown(() => list({ state: "ready", offset: 5 }))).toMatchObject({
      field: "opts.offset",
      message: expect.stringMatching(/did you mean "cursor"/),
    });
    expect(await thrown(() => list(null))).toBeInstanceOf(JobValidationError);
    const page = await s.inspect.listJobs({ state: "ready", limit: 1 });
    for (const cursor of [
      "",
      "not a cursor!",
      "abc",
      Buffer.from("[1]").toString("base64url"),
      Buffer.from('{"s":"ready","l":"0","k":["x","y"]}').toString("base64url"),
      Buffer.from('{"s":"ready","l":"0","k":[],"extra":1}').toString("base64url"),
      42,
    ]) {
      expect(await thrown(() => list({ state: "ready", cursor })), String(cursor)).toMatchObject({
        field: "opts.cursor",
      });
    }
    // A cursor of one state is refused by another.
    expect(await thrown(() => list({ state: "dead", cursor: page.cursor }))).toMatchObject({
      field: "opts.cursor",
      message: expect.stringMatching(/ready listing/),
    });
    expect(await list({ state: "ready", cursor: page.cursor, limit: 5 })).toMatchObject({
      cursor: null,
    });
    expect(await list({ state: "ready", cursor: null })).toMatchObject({ cursor: null });
    expect(await thrown(() => s.inspect.countByName("nope" as JobState))).toMatchObject({
      field: "state",
    });
  });

  it("surfaces a Redis error as a BackendError", async () => {
    const s = setup("wrongtype");
    await s.c.set(s.keys.ready, "not a list");
    const error = await thrown(() => s.inspect.listJobs({ state: "ready" }));
    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).code).toBe("ERR_REDIS");
  });

  it("runs the housekeeping hook before reading", async () => {
    let runs = 0;
    const s = setup("hook", {
      housekeep: async () => {
        runs++;
      },
    });
    await s.inspect.getJob("1");
    await s.inspect.listJobs({ state: "ready" });
    await s.inspect.countByName("ready");
    expect(runs).toBe(3);
  });
});

describe("countByName", () => {
  it("counts each state's names in batches, across the priority lists", async () => {
    const s = setup("count");
    const pipe = s.c.pipeline();
    const readyIds: string[] = [];
    for (let id = 1; id <= 2600; id++) {
      const name = ["a", "b", "c"][id % 3]!;
      pipe.hset(`${s.p}:job:${id}`, { id: String(id), name, payload: "{}", available_at: ISO0 });
      if (id <= 2500) readyIds.push(String(id));
    }
    pipe.lpush(s.keys.ready, ...readyIds.slice(0, 1500));
    pipe.lpush(`${s.p}:prio:4`, ...readyIds.slice(1500));
    pipe.zadd(`${s.p}:priorities`, 4, "4");
    for (let id = 2501; id <= 2600; id++) pipe.zadd(s.keys.processingVt, 100, String(id));
    await pipe.exec();
    expect(await s.inspect.countByName("ready")).toEqual({ a: 833, b: 834, c: 833 });
    expect(await s.inspect.countByName("processing")).toEqual({ a: 33, b: 33, c: 34 });
    expect(await s.inspect.countByName("dead")).toEqual({});
  });
});

/** Collects events until `n` arrived, then aborts. */
async function take(iterable: AsyncIterable<JobEvent>, n: number, abort?: AbortController) {
  const got: JobEvent[] = [];
  for await (const event of iterable) {
    got.push(event);
    if (got.length >= n) {
      if (abort) abort.abort();
      else break;
    }
  }
  return got;
}

function xadd(c: Redis | Cluster, key: string, fields: Record<string, string>) {
  return c.xadd(key, "*", ...Object.entries(fields).flat());
}

describe("events()", () => {
  it("parses the stream's fields into JobEvents", () => {
    expect(
      parseEvent("5-1", [
        "type",
        "retrying",
        "job",
        "7",
        "name",
        "send",
        "at",
        String(T0),
        "attempt",
        "2",
        "error",
        "boom",
        "delay",
        "1.5",
      ]),
    ).toEqual({
      id: "5-1",
      type: "retrying",
      jobId: "7",
      name: "send",
      at: new Date(T0),
      attempt: 2,
      error: "boom",
      delaySeconds: 1.5,
    });
    expect(
      parseEvent("6-0", ["type", "completed", "job", "7", "name", "n", "at", "1", "result", "[1]"]),
    ).toMatchObject({ result: [1] });
    expect(
      parseEvent("6-0", [
        "type",
        "progress",
        "job",
        "7",
        "name",
        "n",
        "at",
        "1",
        "progress",
        '"x"',
      ]),
    ).toMatchObject({ progress: "x" });
    expect(parseEvent("7-0", ["type", "enqueued", "job", "1", "priority", "-3"])).toMatchObject({
      priority: -3,
    });
    expect(parseEvent("8-0", ["type", "made-up", "job", "1"])).toBeNull();
    expect(compareIds("10-0", "9-5")).toBe(1);
    expect(compareIds("9-10", "9-9")).toBe(1);
    expect(compareIds("9-1", "9-1")).toBe(0);
  });

  it("starts at the stream's end as of the call, delivers writes from another connection and process, and ends on abort", async () => {
    const s = setup("events");
    const key = inspectionKeys(s.keys).events;
    await xadd(s.c, key, { type: "enqueued", job: "1", name: "old", at: String(T0) });
    const abort = new AbortController();
    const iterable = jobEvents(s.c, key, { signal: abort.signal });
    // Written after the call, before iterating: delivered (the start id is read at once).
    await xadd(s.c, key, { type: "enqueued", job: "2", name: "a", at: String(T0), delay: "0" });
    const other = redis.connect();
    const done = take(iterable, 4, abort);
    await new Promise((r) => setTimeout(r, 100));
    await xadd(other, key, { type: "reserved", job: "2", name: "a", at: String(T0), attempt: "1" });
    await run("redis-cli", [
      "-u",
      redis.url,
      "XADD",
      key,
      "*",
      "type",
      "progress",
      "job",
      "2",
      "name",
      "a",
      "at",
      String(T0 + 1),
      "progress",
      '{"pct":50}',
    ]);
    await xadd(other, key, { type: "completed", job: "2", name: "a", at: "1", result: "null" });
    const got = await done;
    expect(got.map((e) => [e.type, e.jobId])).toEqual([
      ["enqueued", "2"],
      ["reserved", "2"],
      ["progress", "2"],
      ["completed", "2"],
    ]);
    expect(got[2]).toMatchObject({ progress: { pct: 50 }, at: new Date(T0 + 1) });
    expect(got[3]).toMatchObject({ result: null });
    // Resume behind the second event: the rest, with no gap.
    const resumed = await take(jobEvents(s.c, key, { after: got[1]!.id }), 2);
    expect(resumed.map((e) => e.id)).toEqual([got[2]!.id, got[3]!.id]);
  });

  it("ends cleanly when the signal aborts while waiting, or when the queue closes", async () => {
    const s = setup("events-abort");
    const key = inspectionKeys(s.keys).events;
    const abort = new AbortController();
    const started = Date.now();
    setTimeout(() => abort.abort(), 150);
    const got = await take(jobEvents(s.c, key, { signal: abort.signal }), 1);
    expect(got).toEqual([]);
    expect(Date.now() - started).toBeLessThan(3000);
    // Already aborted: ends at once.
    expect(await take(jobEvents(s.c, key, { signal: AbortSignal.abort() }), 1)).toEqual([]);
    const closed = new AbortController();
    setTimeout(() => closed.abort(), 100);
    expect(await take(jobEvents(s.c, key, {}, { closed: closed.signal }), 1)).toEqual([]);
  });

  it("polls without blocking (clients that cannot block)", async () => {
    const s = setup("events-poll");
    const key = inspectionKeys(s.keys).events;
    const first = await xadd(s.c, key, { type: "enqueued", job: "1", name: "a", at: "1" });
    const iterable = jobEvents(s.c, key, { after: "0-0" }, { blocking: false, pollMs: 10 });
    const done = take(iterable, 2);
    await new Promise((r) => setTimeout(r, 50));
    await xadd(s.c, key, { type: "dead", job: "1", name: "a", at: "2", error: "x", attempt: "5" });
    const got = await done;
    expect(got.map((e) => e.type)).toEqual(["enqueued", "dead"]);
    expect(got[0]!.id).toBe(first);
  });

  it("validates its options, and reports a Redis error as a BackendError", async () => {
    const s = setup("events-bad");
    const key = inspectionKeys(s.keys).events;
    expect(() => jobEvents(s.c, key, { after: "yesterday" })).toThrow(JobValidationError);
    expect(() => jobEvents(s.c, key, { from: "1-0" } as never)).toThrow(/did you mean "after"/);
    expect(() => jobEvents(s.c, key, { signal: {} as AbortSignal })).toThrow(/AbortSignal/);
    await s.c.set(key, "not a stream");
    const error = await thrown(() => take(jobEvents(s.c, key, { after: "0-0" }), 1));
    expect(error).toBeInstanceOf(BackendError);
  });
});

describe("on a Redis Cluster", () => {
  const cluster = clusterFixture(Cluster);

  it("lists in one slot, and events() reads on a duplicate of the Cluster client", async () => {
    const c = cluster.client;
    const keys = queueKeys(cluster.prefix("cl-insp"), { cluster: true, clientKeyPrefix: "" });
    const inspect = new JobInspection(c, keys);
    const p = keys.prefix;
    for (const id of [1, 2, 3]) {
      await c.hset(`${p}:job:${id}`, {
        id: String(id),
        name: "n",
        payload: "{}",
        available_at: ISO0,
        svc_jobs_priority: id === 3 ? "9" : "0",
      });
    }
    await c.lpush(keys.ready, "1", "2");
    await c.lpush(`${p}:prio:9`, "3");
    await c.zadd(`${p}:priorities`, 9, "9");
    const first = await inspect.listJobs({ state: "ready", limit: 2 });
    const second = await inspect.listJobs({ state: "ready", limit: 2, cursor: first.cursor });
    expect([...first.jobs, ...second.jobs].map((j) => j.id)).toEqual(["3", "1", "2"]);
    expect(await inspect.getJob("3")).toMatchObject({ state: "ready", priority: 9 });
    expect(await inspect.countByName("ready")).toEqual({ n: 3 });

    const key = inspectionKeys(keys).events;
    const abort = new AbortController();
    const done = take(jobEvents(c, key, { signal: abort.signal }), 2, abort);
    await new Promise((r) => setTimeout(r, 100));
    await xadd(c, key, { type: "enqueued", job: "1", name: "n", at: "1" });
    await xadd(c, key, { type: "cancelled", job: "1", name: "n", at: "2", reason: "r" });
    const got = await done;
    expect(got.map((e) => e.type)).toEqual(["enqueued", "cancelled"]);
    expect(got[1]).toMatchObject({ reason: "r" });
  });
});

describe("on ioredis-mock (the conformance lane without a server)", () => {
  it("runs the script and polls the stream", async () => {
    const c = new RedisMock();
    const keys = queueKeys(`mock-${Math.random()}`, { cluster: false, clientKeyPrefix: "" });
    const inspect = new JobInspection(c as never, keys);
    for (const id of [1, 2, 3, 4]) {
      await c.hset(`${keys.prefix}:job:${id}`, {
        id: String(id),
        name: id === 2 ? "b" : "a",
        payload: "{}",
        available_at: ISO0,
      });
    }
    await c.lpush(keys.ready, "1", "2");
    await c.lpush(keys.dlq, "3");
    await c.zadd(keys.delayed, 5, "4");
    expect(await inspect.getJob("3")).toMatchObject({ state: "dead" });
    const first = await inspect.listJobs({ state: "ready", limit: 1 });
    const second = await inspect.listJobs({ state: "ready", limit: 1, cursor: first.cursor });
    expect([...first.jobs, ...second.jobs].map((j) => j.id)).toEqual(["1", "2"]);
    expect(second.cursor).toBeNull();
    expect(await inspect.countByName("ready")).toEqual({ a: 1, b: 1 });
    expect((await inspect.listJobs({ state: "delayed" })).jobs.map((j) => j.id)).toEqual(["4"]);

    const key = inspectionKeys(keys).events;
    await c.xadd(key, "*", "type", "enqueued", "job", "1", "name", "a", "at", "1");
    const abort = new AbortController();
    const iterable = jobEvents(c, key, { signal: abort.signal }, { blocking: false, pollMs: 10 });
    const done = take(iterable, 1, abort);
    await new Promise((r) => setTimeout(r, 50));
    await c.xadd(key, "*", "type", "dead", "job", "1", "name", "a", "at", "2");
    expect((await done).map((e) => e.type)).toEqual(["dead"]);
  });
});
