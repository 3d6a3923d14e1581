// Python svc-infra and svc-jobs on one queue, in both directions, on a real redis-server.
// The Python side is test/interop/svc_infra_queue.py, which follows svc-infra's documented
// and observed RedisJobQueue behaviour; it runs under the system python (/usr/bin/python3
// with Debian's python3-redis), which `npm test` installs.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type Job, WorkerRunner } from "@svc-jobs/core";
import { visibilityExpiredMessage } from "@svc-jobs/core/backend";
import { expectedStats } from "@svc-jobs/core/testing";
import { RedisJobQueue } from "@svc-jobs/redis";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { PYTHON, type PyJob, SVC_INFRA_CLI, svcInfra } from "./interop/svc-infra.js";

const run = promisify(execFile);
const CLI = SVC_INFRA_CLI;

const redis = redisFixture(Redis);

/** Runs one svc-infra-style operation on queue `prefix`; its JSON result. */
const py = svcInfra(() => redis.url);

/** Polls svc-infra's reserve until it returns a job, for at most `seconds`. */
async function pyReserveWithin(prefix: string, vt: number, seconds: number): Promise<PyJob> {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const job = await py(prefix, "reserve", vt);
    if (job) return job;
    if (Date.now() > until) throw new Error(`svc-infra reserved nothing within ${seconds} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function queueOn(prefix: string, visibilityTimeoutSeconds = 60): RedisJobQueue {
  return new RedisJobQueue(redis.client, { prefix, visibilityTimeoutSeconds });
}

describe("svc-infra enqueues, svc-jobs runs", () => {
  it("reserves and acks a job svc-infra enqueued (no last_error field, ISO available_at)", async () => {
    const p = redis.prefix("py2node");
    const before = Date.now();
    const sent = (await py(p, "enqueue", "send_email", '{"to": "a@example.com", "n": 1.5}'))!;
    expect(await redis.client.hexists(`${p}:job:${sent.id}`, "last_error")).toBe(0);
    const queue = queueOn(p);
    const job = await queue.reserveNext();
    expect(job).toMatchObject({
      id: sent.id,
      name: "send_email",
      payload: { to: "a@example.com", n: 1.5 },
      attempts: 1,
      maxAttempts: 5,
      backoffSeconds: 60,
      lastError: null,
    });
    expect(Math.abs(job!.availableAt.getTime() - before)).toBeLessThan(5000);
    expect((await queue.stats()).processing).toBe(1);
    await queue.ack(job!);
    expect(await redis.client.exists(`${p}:job:${sent.id}`)).toBe(0);
    expect(await queue.stats()).toEqual(expectedStats());
  });

  it("runs a job svc-infra delayed once its (integer-second) due time passes", async () => {
    const p = redis.prefix("py-delay");
    // svc-infra truncates now + delay to whole seconds: a 2 s delay is due in 1 to 2 s.
    const sent = (await py(p, "enqueue", "later", "{}", 2))!;
    const due = Number(await redis.client.zscore(`${p}:delayed`, sent.id));
    expect(Number.isInteger(due)).toBe(true);
    const queue = queueOn(p);
    expect(await queue.reserveNext()).toBeNull();
    const job = await queue.reserveNext({ blockSeconds: 5 });
    expect(job?.id).toBe(sent.id);
    expect(Date.now()).toBeGreaterThanOrEqual(due * 1000);
    // svc-infra's available_at is the enqueue time even for a delayed job; the score ruled.
    expect(job!.availableAt.getTime()).toBeLessThan(due * 1000);
    await queue.ack(job!);
  });
});

describe("svc-jobs enqueues, svc-infra runs", () => {
  it("svc-infra reserves and acks a job svc-jobs enqueued", async () => {
    const p = redis.prefix("node2py");
    const queue = queueOn(p);
    const sent = await queue.enqueue("resize", { w: 640, tags: ["a"] }, { backoffSeconds: 2.5 });
    const job = (await py(p, "reserve", 30))!;
    expect(job).toMatchObject({
      id: sent.id,
      name: "resize",
      payload: { w: 640, tags: ["a"] },
      attempts: 1,
      max_attempts: 5,
      backoff_seconds: 3, // the integer svc-infra reads; svc-jobs keeps 2.5 on the side
      last_error: null,
    });
    expect(new Date(job.available_at).getTime()).toBe(sent.availableAt.getTime());
    expect(await redis.client.lrange(`${p}:processing`, 0, -1)).toEqual([sent.id]);
    expect((await queue.stats()).processing).toBe(1);
    await py(p, "ack", sent.id);
    expect(await queue.stats()).toEqual(expectedStats());
    expect(await redis.client.exists(`${p}:job:${sent.id}`)).toBe(0);
  });

  it("svc-infra runs a job svc-jobs delayed by 1.5 s once it is due, not before", async () => {
    const p = redis.prefix("node-delay");
    const queue = queueOn(p);
    const sent = await queue.enqueue("later", {}, { delaySeconds: 1.5 });
    expect(Number(await redis.client.zscore(`${p}:delayed`, sent.id))).toBeCloseTo(
      sent.availableAt.getTime() / 1000,
      3,
    );
    expect(await py(p, "reserve", 30)).toBeNull();
    const job = await pyReserveWithin(p, 30, 4);
    expect(job.id).toBe(sent.id);
    expect(Date.now()).toBeGreaterThanOrEqual(sent.availableAt.getTime());
    await py(p, "ack", job.id);
  });
});

describe("retries, backoff and the DLQ across sides", () => {
  it("svc-infra fails a svc-jobs job, svc-jobs retries it after the backoff and dead-letters it", async () => {
    const p = redis.prefix("retry-py-fails");
    const queue = queueOn(p);
    const sent = await queue.enqueue("flaky", {}, { backoffSeconds: 1, maxAttempts: 2 });
    const first = (await py(p, "reserve", 30))!;
    await py(p, "fail", first.id, "smtp down");
    const due = await redis.client.zscore(`${p}:delayed`, sent.id);
    expect(due).toMatch(/^\d+$/);
    // svc-infra scores the retry int(now + backoff): truncated, so up to a second early.
    // Not due yet (the usual case): svc-jobs leaves it; due already: it may take it at once.
    if (Number(due) > Date.now() / 1000 + 0.2) expect(await queue.reserveNext()).toBeNull();
    const again = await queue.reserveNext({ blockSeconds: 4 });
    expect(again).toMatchObject({ id: sent.id, attempts: 2, lastError: "smtp down" });
    await queue.fail(again!, new Error("still down"));
    // Dead on svc-infra's end of the list: svc-infra sees it where it looks.
    expect(await redis.client.lrange(`${p}:dlq`, 0, -1)).toEqual([sent.id]);
    expect((await queue.dlq.list()).map((j) => [j.id, j.lastError])).toEqual([
      [sent.id, "still down"],
    ]);
  });

  it("svc-jobs fails a svc-infra job, svc-infra retries it after the backoff and dead-letters it", async () => {
    const p = redis.prefix("retry-node-fails");
    const sent = (await py(p, "enqueue", "flaky", "{}", 0, 2, 1))!;
    const queue = queueOn(p);
    const first = await queue.reserveNext();
    await queue.fail(first!, new Error("boom"));
    expect((await queue.stats()).delayed).toBe(1);
    expect(await py(p, "reserve", 30)).toBeNull();
    const again = await pyReserveWithin(p, 30, 4);
    expect(again).toMatchObject({ id: sent.id, attempts: 2, last_error: "boom" });
    await py(p, "fail", sent.id, "boom again");
    // svc-infra's DLQ branch writes no last_error: svc-jobs shows the last one it has.
    const dead = await queue.dlq.list();
    expect(dead.map((j) => [j.id, j.attempts, j.name])).toEqual([[sent.id, 2, "flaky"]]);
    expect((await queue.stats()).dlq).toBe(1);
    // Requeued from svc-jobs, it runs again on svc-infra.
    expect(await queue.dlq.requeue(sent.id)).toBe(true);
    expect(await py(p, "reserve", 30)).toMatchObject({ id: sent.id, attempts: 1 });
  });

  it("dlq.list reads both sides' dead jobs oldest first", async () => {
    const p = redis.prefix("dlq-order");
    const queue = queueOn(p);
    await queue.enqueue("node-dies", {}, { maxAttempts: 1 });
    await queue.fail((await queue.reserveNext())!, new Error("first"));
    const sent = (await py(p, "enqueue", "py-dies", "{}", 0, 1, 1))!;
    await py(p, "reserve", 30);
    await py(p, "fail", sent.id, "second");
    expect((await queue.dlq.list()).map((j) => j.name)).toEqual(["node-dies", "py-dies"]);
    expect(await queue.dlq.requeueAll()).toBe(2);
    expect((await queue.reserveMany(2)).map((j) => j.name)).toEqual(["node-dies", "py-dies"]);
  });
});

describe("expired reservations, recovered by either side", () => {
  it("svc-jobs recovers a reservation svc-infra let expire, out of the processing list too", async () => {
    const p = redis.prefix("expire-py");
    const sent = (await py(p, "enqueue", "hangs", "{}"))!;
    await py(p, "reserve", 1);
    expect(await redis.client.llen(`${p}:processing`)).toBe(1);
    const queue = queueOn(p);
    expect(await queue.reserveNext()).toBeNull();
    const job = await queue.reserveNext({ blockSeconds: 4 });
    expect(job).toMatchObject({
      id: sent.id,
      attempts: 2,
      lastError: visibilityExpiredMessage(1),
    });
    expect(await redis.client.llen(`${p}:processing`)).toBe(0);
    await queue.ack(job!);
  });

  it("svc-infra recovers a reservation svc-jobs let expire; the late svc-jobs ack is fenced off", async () => {
    const p = redis.prefix("expire-node");
    const queue = queueOn(p, 1);
    const sent = await queue.enqueue("hangs", {});
    const held = await queue.reserveNext();
    expect(await redis.client.llen(`${p}:processing`)).toBe(0); // svc-jobs's reservations: processing_vt only
    const job = await pyReserveWithin(p, 30, 5);
    expect(job).toMatchObject({ id: sent.id, attempts: 2 });
    await queue.ack(held!); // too late: svc-infra holds attempt 2
    expect(await redis.client.exists(`${p}:job:${sent.id}`)).toBe(1);
    await py(p, "ack", sent.id);
    expect(await queue.stats()).toEqual(expectedStats());
  });

  it("a job whose last attempt expired is dead on either side, never run again", async () => {
    const p = redis.prefix("expire-last");
    const queue = queueOn(p, 1);
    const a = await queue.enqueue("a", {}, { maxAttempts: 1 });
    await queue.reserveNext();
    const b = (await py(p, "enqueue", "b", "{}", 0, 1))!;
    await py(p, "reserve", 1);
    await new Promise((r) => setTimeout(r, 2100));
    // svc-infra recovers both into ready (it counts no attempt); its next reserve finds
    // attempts used up and sends each to the DLQ; svc-jobs does the same with what is left.
    expect(await py(p, "reserve", 30)).toBeNull();
    expect(await queue.reserveNext()).toBeNull();
    expect((await queue.dlq.list()).map((j) => j.id).sort()).toEqual([a.id, b.id].sort());
    expect(await queue.stats()).toMatchObject({ ready: 0, processing: 0, dlq: 2 });
  });
});

describe("svc-infra's non-atomic steps", () => {
  it("a second copy of an id in ready (two racing svc-infra recoveries) runs once", async () => {
    const p = redis.prefix("twice");
    const queue = queueOn(p);
    const sent = await queue.enqueue("once", {});
    // svc-infra's recovery reads the expired ids, then pipelines LPUSH ready: two recoverers
    // that read the same id both push it.
    await redis.client.lpush(`${p}:ready`, sent.id);
    const got = await queue.reserveMany(10);
    expect(got.map((j) => j.id)).toEqual([sent.id]);
    expect(await queue.stats()).toEqual(expectedStats({ processing: 1 }));
    await queue.ack(got[0]!);
  });
});

describe("mixed Python and Node workers on one queue", () => {
  it("process N jobs from both producers, nothing lost and nothing run twice", async () => {
    const p = redis.prefix("mixed");
    const queue = queueOn(p, 30);
    const n = 300;
    for (let i = 0; i < n / 2; i++) await queue.enqueue("node", { i });
    await run(PYTHON, [
      "-c",
      `import sys, redis; sys.path.insert(0, ${JSON.stringify(fileURLToPath(new URL("interop/", import.meta.url)))})
from svc_infra_queue import RedisJobQueue
q = RedisJobQueue(redis.Redis.from_url(${JSON.stringify(redis.url)}), prefix=${JSON.stringify(p)})
for i in range(${n / 2}): q.enqueue("py", {"i": i})`,
    ]);
    const ran: string[] = [];
    let byPython = 0;
    const pyWorkers = [1, 2].map(() =>
      run(PYTHON, [CLI, redis.url, p, "work", "30", "1.5"]).then(({ stdout }) => {
        for (const line of stdout.trim().split("\n").filter(Boolean)) {
          ran.push((JSON.parse(line) as PyJob).id);
          byPython++;
        }
      }),
    );
    // Start the Node worker once the Python ones are taking jobs, so both sides really share.
    for (let i = 0; i < 200 && (await redis.client.llen(`${p}:ready`)) >= n; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    const runner = new WorkerRunner(
      queue,
      async (job: Job) => {
        ran.push(job.id);
        await new Promise((r) => setTimeout(r, 10));
      },
      { concurrency: 4, pollIntervalSeconds: 0.05 },
    );
    const started = runner.start();
    await Promise.all(pyWorkers);
    await runner.stop({ graceSeconds: 5 });
    await started;
    expect(ran).toHaveLength(n);
    expect(new Set(ran).size).toBe(n);
    expect(byPython).toBeGreaterThan(0);
    expect(byPython).toBeLessThan(n);
    expect(await queue.stats()).toEqual(expectedStats());
    expect(await redis.client.llen(`${p}:processing`)).toBe(0);
  }, 60_000);
});
