import { exponentialRetry, ManualClock, retryDelaySeconds } from "@svc-jobs/core";
import { expectedStats } from "@svc-jobs/core/testing";
import { RedisJobQueue } from "@svc-jobs/redis";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";

const redis = redisFixture(Redis);

function queue(options: ConstructorParameters<typeof RedisJobQueue>[1] = {}) {
  return new RedisJobQueue(redis.client, { prefix: redis.prefix("extra"), ...options });
}

describe("reserveMany", () => {
  it("reserves a batch in FIFO order, each counted and hidden like reserveNext", async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const q = queue({ clock, visibilityTimeoutSeconds: 30 });
    await q.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ name: `j${i}`, payload: { i } })));
    const batch = await q.reserveMany(3);
    expect(batch.map((j) => j.name)).toEqual(["j0", "j1", "j2"]);
    expect(batch.every((j) => j.attempts === 1)).toBe(true);
    expect((await q.reserveMany(10)).map((j) => j.name)).toEqual(["j3", "j4"]);
    expect(await q.reserveMany(10)).toEqual([]);
    clock.advance(30);
    expect(await q.reserveMany(10)).toHaveLength(5);
  });

  it("rejects a bad count", async () => {
    const q = queue();
    await expect(q.reserveMany(0)).rejects.toMatchObject({ code: "ERR_JOB_VALIDATION" });
    await expect(q.reserveMany(5000)).rejects.toThrow(/at most 1000/);
  });
});

describe("large batches", () => {
  it("enqueueMany of more than one script's worth keeps ids and order", async () => {
    const q = queue();
    const jobs = await q.enqueueMany(
      Array.from({ length: 2500 }, (_, i) => ({ name: "bulk", payload: { i } })),
    );
    expect(jobs.map((j) => j.payload.i)).toEqual(Array.from({ length: 2500 }, (_, i) => i));
    expect(new Set(jobs.map((j) => j.id)).size).toBe(2500);
    const first = await q.reserveMany(1000);
    expect(first[0]?.payload).toEqual({ i: 0 });
    expect(first[999]?.payload).toEqual({ i: 999 });
    expect((await q.stats()).ready).toBe(1500);
  });

  it("dlq.list pages past 1000 dead jobs, and requeueAll takes them all", async () => {
    const q = queue();
    await q.enqueueMany(
      Array.from({ length: 1100 }, (_, i) => ({
        name: "d",
        payload: { i },
        opts: { maxAttempts: 1 },
      })),
    );
    for (let left = 1100; left > 0; ) {
      const batch = await q.reserveMany(Math.min(left, 500));
      await Promise.all(batch.map((j) => q.fail(j, new Error(`e${j.payload.i}`))));
      left -= batch.length;
    }
    const all = await q.dlq.list({ limit: 5000 });
    expect(all).toHaveLength(1100);
    expect(all[1099]?.lastError).toBe("e1099");
    expect((await q.dlq.list({ offset: 1050, limit: 10 })).map((j) => j.payload.i)).toEqual(
      Array.from({ length: 10 }, (_, i) => 1050 + i),
    );
    expect(await q.dlq.requeueAll()).toBe(1100);
    expect(await q.stats()).toEqual(expectedStats({ ready: 1100 }));
  });
});

describe("retry strategies in Lua", () => {
  it("exponential retry with jitter matches core's retryDelaySeconds for the same random number", async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const strategy = exponentialRetry({ factor: 3, maxSeconds: 100, jitter: 0.5 });
    const randoms = [0.25, 0.9, 0.1, 0.5];
    let r = 0;
    const q = queue({ clock, retry: strategy, random: () => randoms[r++ % randoms.length]! });
    await q.enqueue("x", {}, { backoffSeconds: 7, maxAttempts: 5 });
    for (let attempt = 1; attempt <= 4; attempt++) {
      const job = await q.reserveNext();
      expect(job?.attempts).toBe(attempt);
      const failedAt = clock.now();
      const random = randoms[(attempt - 1) % randoms.length]!;
      await q.fail(job!, new Error("flaky"));
      const expected = failedAt + retryDelaySeconds(strategy, attempt, 7, random) * 1000;
      // Scores are epoch seconds (layout version 2).
      const due = Number(await redis.client.zscore(`${q.prefix}:delayed`, job!.id)) * 1000;
      expect(due).toBeCloseTo(expected, 3);
      clock.set(Math.ceil(expected));
    }
  });
});

describe("housekeep", () => {
  it("requeues expired reservations and promotes due delayed jobs without a reserve", async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const q = queue({ clock, visibilityTimeoutSeconds: 10 });
    await q.enqueue("a", {});
    await q.enqueue("b", {}, { delaySeconds: 5 });
    await q.reserveNext();
    clock.advance(10);
    expect(await q.housekeep()).toEqual({ requeued: 1, promoted: 1 });
    expect(await redis.client.llen(`${q.prefix}:ready`)).toBe(2);
    expect(await redis.client.hget(`${q.prefix}:job:1`, "last_error")).toMatch(
      /visibility timeout/,
    );
    expect(await q.housekeep()).toEqual({ requeued: 0, promoted: 0 });
  });
});
