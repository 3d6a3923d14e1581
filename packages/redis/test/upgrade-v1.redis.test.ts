// A queue holding layout version 1 data (written here in version 1's encodings, as the
// version-1 scripts wrote them: scores and available_at in epoch ms, the DLQ RPUSHed
// oldest first, svc-jobs reservations in the processing LIST) is upgraded to version 2 on
// first use, with every job kept in its state. See docs/redis-layout.md.
import { ManualClock } from "@svc-jobs/core";
import { visibilityExpiredMessage } from "@svc-jobs/core/backend";
import { expectedStats } from "@svc-jobs/core/testing";
import { RedisJobQueue } from "@svc-jobs/redis";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";

const redis = redisFixture(Redis);

const T = Date.UTC(2030, 0, 1);

/** A version-1 job hash: every field a string, available_at in epoch ms, last_error "". */
function v1Hash(id: number, name: string, extra: Record<string, string> = {}) {
  return {
    id: String(id),
    name,
    payload: JSON.stringify({ id }),
    available_at: String(T),
    attempts: "0",
    max_attempts: "5",
    backoff_seconds: "60",
    last_error: "",
    ...extra,
  };
}

describe("upgrade from layout version 1", () => {
  it("keeps every job in its state: ready, delayed, retrying, reserved, expired, dead", async () => {
    const p = redis.prefix("v1");
    const m = redis.client.multi();
    m.set(`${p}:seq`, "8");
    m.hset(`${p}:job:1`, v1Hash(1, "ready-1"));
    m.hset(`${p}:job:2`, v1Hash(2, "ready-2"));
    m.lpush(`${p}:ready`, "1", "2");
    m.hset(
      `${p}:job:3`,
      v1Hash(3, "delayed", { available_at: String(T + 60_000), backoff_seconds: "2.5" }),
    );
    m.zadd(`${p}:delayed`, T + 60_000, "3");
    m.hset(
      `${p}:job:4`,
      v1Hash(4, "retry-due", { available_at: String(T - 1000), attempts: "1", last_error: "x" }),
    );
    m.zadd(`${p}:delayed`, T - 1000, "4");
    m.hset(`${p}:job:5`, v1Hash(5, "reserved", { attempts: "1" }));
    m.hset(`${p}:job:6`, v1Hash(6, "expired", { attempts: "1" }));
    m.lpush(`${p}:processing`, "5", "6");
    m.zadd(`${p}:processing_vt`, T + 30_000, "5", T - 1, "6");
    m.hset(`${p}:job:7`, v1Hash(7, "dead-old", { attempts: "5", last_error: "e7" }));
    m.hset(`${p}:job:8`, v1Hash(8, "dead-new", { attempts: "5", last_error: "e8" }));
    m.rpush(`${p}:dlq`, "7", "8");
    await m.exec();

    const clock = new ManualClock(T);
    const queue = new RedisJobQueue(redis.client, {
      prefix: p,
      clock,
      visibilityTimeoutSeconds: 30,
    });
    expect(await queue.stats()).toEqual(
      expectedStats({ ready: 4, delayed: 1, processing: 1, dlq: 2 }),
    );
    expect(await redis.client.get(`${p}:layout`)).toBe("2");

    // Version 2 encodings on the wire.
    expect(await redis.client.zscore(`${p}:delayed`, "3")).toBe(String((T + 60_000) / 1000));
    expect(await redis.client.zscore(`${p}:processing_vt`, "5")).toBe(String((T + 30_000) / 1000));
    expect(await redis.client.hgetall(`${p}:job:3`)).toMatchObject({
      available_at: "2030-01-01T00:01:00.000000+00:00",
      backoff_seconds: "3",
      svc_jobs_backoff_seconds: "2.5",
    });
    expect(await redis.client.hget(`${p}:job:1`, "available_at")).toBe(
      "2030-01-01T00:00:00.000000+00:00",
    );
    expect(await redis.client.lrange(`${p}:dlq`, 0, -1)).toEqual(["8", "7"]);
    expect(await redis.client.exists(`${p}:dlq:v1`)).toBe(0);

    // Dead jobs: oldest first, as before.
    expect((await queue.dlq.list()).map((j) => [j.name, j.lastError])).toEqual([
      ["dead-old", "e7"],
      ["dead-new", "e8"],
    ]);
    // The version-1 reservation completes; its processing-list entry goes with it.
    await queue.ack({ id: "5", attempts: 1 } as never);
    expect(await redis.client.exists(`${p}:job:5`)).toBe(0);
    expect(await redis.client.lrange(`${p}:processing`, 0, -1)).toEqual([]);

    const ready = await queue.reserveMany(10);
    expect(ready.map((j) => [j.name, j.attempts])).toEqual([
      ["ready-1", 1],
      ["ready-2", 1],
      ["expired", 2],
      ["retry-due", 2],
    ]);
    expect(ready[2]?.lastError).toBe(visibilityExpiredMessage(1));
    expect(ready[3]?.lastError).toBe("x");
    for (const job of ready) await queue.ack(job);

    clock.advance(60);
    const delayed = await queue.reserveNext();
    expect(delayed).toMatchObject({
      name: "delayed",
      backoffSeconds: 2.5,
      availableAt: new Date(T + 60_000),
    });
    await queue.ack(delayed!);
    expect(await queue.dlq.requeueAll()).toBe(2);
    expect((await queue.reserveMany(10)).map((j) => j.name)).toEqual(["dead-old", "dead-new"]);
  });

  it("upgrades a large queue in batches, each job once, the DLQ order kept", async () => {
    const p = redis.prefix("v1-big");
    const n = 2500;
    const dead = 1200;
    const m = redis.client.pipeline();
    m.set(`${p}:seq`, String(n + dead));
    for (let id = 1; id <= n; id++) {
      m.hset(`${p}:job:${id}`, v1Hash(id, "later", { available_at: String(T + id) }));
      m.zadd(`${p}:delayed`, T + id * 1000, String(id));
    }
    for (let id = n + 1; id <= n + dead; id++) {
      m.hset(`${p}:job:${id}`, v1Hash(id, "dead", { attempts: "5", last_error: "e" }));
      m.rpush(`${p}:dlq`, String(id));
    }
    await m.exec();
    const queue = new RedisJobQueue(redis.client, { prefix: p, clock: new ManualClock(T) });
    expect(await queue.stats()).toEqual(expectedStats({ delayed: n, dlq: dead }));
    expect(await redis.client.get(`${p}:layout`)).toBe("2");
    const scores = await redis.client.zrange(`${p}:delayed`, 0, -1, "WITHSCORES");
    for (let i = 0; i < scores.length; i += 2) {
      expect(Number(scores[i + 1])).toBe(T / 1000 + Number(scores[i]));
    }
    const dlq = await queue.dlq.list({ limit: dead });
    expect(dlq.map((j) => Number(j.id))).toEqual(Array.from({ length: dead }, (_, i) => n + 1 + i));
    for (const id of [1, n, n + 1, n + dead]) {
      expect(await redis.client.hget(`${p}:job:${id}`, "available_at")).toMatch(/\+00:00$/);
    }
    // A second queue object finds the layout done and converts nothing again.
    const again = new RedisJobQueue(redis.client, { prefix: p, clock: new ManualClock(T) });
    expect(await again.stats()).toEqual(expectedStats({ delayed: n, dlq: dead }));
  });
});
