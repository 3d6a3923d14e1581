import { fileURLToPath } from "node:url";
import { RedisJobQueue } from "@svc-jobs/redis";
import { type RedisServer, startRedis, uniquePrefix } from "@svc-jobs/test-servers";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startWorkerProcess, until, type WorkerProcess } from "./helpers/worker-process.js";

// docs/contract.md, "Seeing and controlling jobs", across OS processes on a real
// redis-server: a cancel from this process reaches the handler of a `svc-jobs run` worker
// in another one, and a pause stored in Redis holds every worker process, restarted ones
// too. The workers report what their handler does through Redis (fixtures/control-handler.mjs).
// Real time, generous bounds: nothing here times speed.

const HANDLER = fileURLToPath(new URL("./fixtures/control-handler.mjs", import.meta.url));
const VISIBILITY_TIMEOUT_SECONDS = 2;

let server: RedisServer;
let client: Redis;
const workers = new Set<Worker>();

beforeAll(async () => {
  server = await startRedis();
  client = new Redis(server.url, { maxRetriesPerRequest: 3 });
  client.on("error", () => {});
});

afterEach(async () => {
  await Promise.all([...workers].map((worker) => worker.stop("SIGKILL")));
});

afterAll(async () => {
  client?.disconnect();
  await server?.stop();
});

type Worker = WorkerProcess;

/** Starts a real `svc-jobs run` process on the queue `prefix`. */
function startWorker(prefix: string): Worker {
  return startWorkerProcess({
    handlers: HANDLER,
    prefix,
    redisUrl: server.url,
    concurrency: 2,
    visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS,
    env: { CONTROL_REDIS_URL: server.url, CONTROL_PREFIX: prefix },
    registry: workers,
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the handlers reported under `prefix`. */
function reports(prefix: string) {
  const key = (name: string) => `${prefix}:control:${name}`;
  const list = async (name: string) =>
    (await client.lrange(key(name), 0, -1)).map(
      (line) => JSON.parse(line) as Record<string, unknown>,
    );
  return {
    started: () => list("started"),
    aborted: () => list("aborted"),
    done: () => list("done"),
    runs: async () =>
      Object.fromEntries(
        Object.entries(await client.hgetall(key("runs"))).map(([id, n]) => [id, Number(n)]),
      ),
  };
}

describe("cancel and pause across worker processes on Redis", () => {
  it("a cancel from this process aborts the handler in a worker process; the job ends cancelled and never runs again", async () => {
    const prefix = uniquePrefix("control-cancel");
    const seen = reports(prefix);
    const queue = new RedisJobQueue(client, { prefix, keepCancelled: true });
    const worker = startWorker(prefix);
    await worker.started;

    const job = await queue.enqueue("long", { n: 1 }, { maxAttempts: 3, backoffSeconds: 0 });
    await until(
      async () => (await seen.started()).some((s) => s.id === job.id),
      15_000,
      worker.output,
    );
    await until(async () => (await queue.getJob(job.id))?.progress !== null, 5_000, worker.output);
    expect(await queue.getJob(job.id)).toMatchObject({
      state: "processing",
      progress: { phase: "waiting for a cancel" },
    });

    const cancelledAt = Date.now();
    expect(await queue.cancel(job.id, { reason: "customer withdrew" })).toBe(true);
    // Within a second by the contract; a generous bound here, so a slow machine does not flake.
    await until(async () => (await seen.aborted()).length === 1, 10_000, worker.output);
    const [aborted] = await seen.aborted();
    expect(aborted).toMatchObject({
      id: job.id,
      pid: worker.child.pid,
      name: "JobCancelledError",
      code: "ERR_JOB_CANCELLED",
      jobId: job.id,
    });
    console.log(
      `CONTROL cancel seen by the worker process after ${Number(aborted?.at) - cancelledAt} ms`,
    );
    expect(await queue.getJob(job.id)).toMatchObject({ state: "cancelled", result: null });

    // The worker is free and carries on; the cancelled job never comes back, not even
    // after its visibility timeout would have expired.
    const next = await queue.enqueue("quick", {});
    await until(
      async () => (await seen.done()).some((d) => d.id === next.id),
      10_000,
      worker.output,
    );
    await sleep((VISIBILITY_TIMEOUT_SECONDS + 1.5) * 1000);
    expect(await seen.runs()).toEqual({ [job.id]: 1, [next.id]: 1 });
    expect(await queue.getJob(job.id)).toMatchObject({ state: "cancelled" });
    // The CLI worker's queue keeps no completed jobs (retention is the acking queue's
    // option): the quick job is simply gone once acked.
    expect((await queue.getJob(next.id))?.state ?? "deleted").toMatch(/^(completed|deleted)$/);
    expect(await queue.stats()).toMatchObject({
      ready: 0,
      delayed: 0,
      processing: 0,
      dlq: 0,
      cancelled: 1,
    });
    expect(await worker.stop("SIGTERM")).toBe(0);
  });

  it("the worker process logs a cancelled job as cancelled, not as a failure to retry", async () => {
    const prefix = uniquePrefix("control-cancel-log");
    const seen = reports(prefix);
    const queue = new RedisJobQueue(client, { prefix });
    const worker = startWorker(prefix);
    await worker.started;
    const job = await queue.enqueue("long", {});
    await until(async () => (await seen.started()).length === 1, 15_000, worker.output);
    await queue.cancel(job.id);
    await until(async () => (await seen.aborted()).length === 1, 10_000, worker.output);
    expect(await worker.stop("SIGTERM")).toBe(0);
    const lines = worker
      .output()
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.jobId === job.id);
    expect(lines.map((line) => line.status)).toEqual(["cancelled"]);
    expect(lines[0]?.msg).not.toMatch(/retry|DLQ/);
  });

  it("pause holds two worker processes, a restarted one too; after resume every job runs exactly once", async () => {
    const prefix = uniquePrefix("control-pause");
    const seen = reports(prefix);
    const queue = new RedisJobQueue(client, { prefix });
    const first = startWorker(prefix);
    let second = startWorker(prefix);
    await Promise.all([first.started, second.started]);

    await queue.pause();
    expect(await queue.isPaused()).toBe(true);
    const jobs = await queue.enqueueMany(
      Array.from({ length: 20 }, (_, i) => ({ name: "quick", payload: { i } })),
    );
    await sleep(2000);
    expect(await seen.started()).toEqual([]);
    expect(await queue.stats()).toMatchObject({ ready: 20, processing: 0, paused: true });

    // A worker started while the queue is paused obeys the pause too: it is in Redis.
    expect(await second.stop("SIGTERM")).toBe(0);
    second = startWorker(prefix);
    await second.started;
    await sleep(1500);
    expect(await seen.started()).toEqual([]);
    expect(await queue.stats()).toMatchObject({ ready: 20, processing: 0, paused: true });

    await queue.resume();
    expect(await queue.isPaused()).toBe(false);
    await until(
      async () => (await seen.done()).length >= jobs.length,
      20_000,
      () => `${first.output()}\n${second.output()}`,
    );
    await sleep(300);
    const runs = await seen.runs();
    expect(Object.keys(runs).sort()).toEqual(jobs.map((j) => j.id).sort());
    expect(Object.values(runs).every((n) => n === 1)).toBe(true);
    const pids = new Set((await seen.done()).map((d) => d.pid));
    for (const pid of pids) expect([first.child.pid, second.child.pid]).toContain(pid);
    expect(await queue.stats()).toMatchObject({ ready: 0, processing: 0, delayed: 0, dlq: 0 });
    expect(await Promise.all([first.stop("SIGTERM"), second.stop("SIGTERM")])).toEqual([0, 0]);
  });
});
