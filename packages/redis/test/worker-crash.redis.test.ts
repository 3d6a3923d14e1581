import { type Job, WorkerRunner } from "@svc-jobs/core";
import { expectedStats } from "@svc-jobs/core/testing";
import { RedisJobQueue } from "@svc-jobs/redis";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { spawnWorker } from "./fixtures/spawn-worker.js";

// Real processes and real time: a short visibility timeout (1 s) instead of a clock,
// because the point is what happens to a process that dies.
const VT = 1;

const redis = redisFixture(Redis);

describe("worker processes", () => {
  it("a worker killed with SIGKILL while holding reservations loses no job", async () => {
    const prefix = redis.prefix("sigkill");
    const queue = new RedisJobQueue(redis.client, { prefix, visibilityTimeoutSeconds: VT });
    const enqueued = await queue.enqueueMany(
      Array.from({ length: 6 }, (_, i) => ({ name: "work", payload: { i } })),
    );

    const worker = spawnWorker({
      REDIS_URL: redis.url,
      PREFIX: prefix,
      VT: String(VT),
      MODE: "hold",
      HOLD: "4",
    });
    const { held } = (await worker.firstLine) as { held: string[] };
    expect(held).toEqual(["1", "2", "3", "4"]);
    expect(await queue.stats()).toMatchObject({ ready: 2, processing: 4 });
    worker.child.kill("SIGKILL");
    await worker.exited;

    // Another worker picks up the two ready jobs at once and the four held ones after
    // their visibility timeout, each as a second attempt.
    const processed: Job[] = [];
    const runner = new WorkerRunner(
      queue,
      async (job) => {
        processed.push(job);
      },
      { concurrency: 4, pollIntervalSeconds: 0.2, maxJobs: 6 },
    );
    await runner.start();
    expect(processed.map((j) => j.id).sort()).toEqual(enqueued.map((j) => j.id).sort());
    for (const job of processed.filter((j) => held.includes(j.id))) {
      expect(job.attempts).toBe(2);
      expect(job.lastError).toMatch(/visibility timeout expired during attempt 1/);
    }
    expect(await queue.stats()).toEqual(expectedStats());
    await queue.close();
  });

  it("two worker processes racing on the same expired reservations redeliver each once", async () => {
    const prefix = redis.prefix("race");
    const queue = new RedisJobQueue(redis.client, { prefix, visibilityTimeoutSeconds: VT });
    const n = 40;
    await queue.enqueueMany(Array.from({ length: n }, (_, i) => ({ name: "r", payload: { i } })));
    const taken = await queue.reserveMany(n);
    expect(taken).toHaveLength(n);
    // Let every reservation expire; nobody has requeued them yet.
    await new Promise((r) => setTimeout(r, VT * 1000 + 200));
    expect(await redis.client.zcard(`${prefix}:processing_vt`)).toBe(n);

    const startAt = String(Date.now() + 3000);
    const workers = [0, 1].map(() =>
      spawnWorker({
        REDIS_URL: redis.url,
        PREFIX: prefix,
        VT: "30",
        MODE: "race",
        START_AT: startAt,
      }),
    );
    const results = (await Promise.all(workers.map((w) => w.firstLine))) as {
      got: { id: string; attempts: number }[];
    }[];
    await Promise.all(workers.map((w) => w.exited));
    const all = results.flatMap((r) => r.got);
    // Both really raced: each got some of the jobs.
    expect(results.every((r) => r.got.length > 0)).toBe(true);
    expect(all).toHaveLength(n);
    expect(new Set(all.map((j) => j.id)).size).toBe(n);
    expect(all.every((j) => j.attempts === 2)).toBe(true);
    expect(await queue.stats()).toEqual(expectedStats());
    // The stale holder's late acks change nothing now.
    for (const job of taken) await queue.ack(job);
    expect(await queue.stats()).toEqual(expectedStats());
    await queue.close();
  });
});
