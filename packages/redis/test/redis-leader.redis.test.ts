import { BackendError, ConfigError, JobValidationError, ManualClock } from "@svc-jobs/core";
import { RedisLeader } from "@svc-jobs/redis";
import { startRedis, uniquePrefix } from "@svc-jobs/test-servers";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";

const redis = redisFixture(Redis, { lazyConnect: false, maxRetriesPerRequest: 1 });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("RedisLeader", () => {
  it("gives the lease to one owner; the holder renews, the others are refused", async () => {
    const key = uniquePrefix("leader");
    const a = new RedisLeader(redis.client, { key, ownerId: "a" });
    const b = new RedisLeader(redis.client, { key, ownerId: "b" });

    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    expect(await redis.client.get(key)).toBe("a");

    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    await redis.client.del(key);
  });

  it("sets the lease in Redis with the default of 30 s and renews its TTL", async () => {
    const key = uniquePrefix("leader");
    const a = new RedisLeader(redis.client, { key });
    expect(a.leaseSeconds).toBe(30);
    expect(await a.acquire()).toBe(true);
    const ttl = await redis.client.pttl(key);
    expect(ttl).toBeGreaterThan(25_000);
    expect(ttl).toBeLessThanOrEqual(30_000);

    await redis.client.pexpire(key, 5_000);
    expect(await a.acquire()).toBe(true);
    expect(await redis.client.pttl(key)).toBeGreaterThan(25_000);
    expect(await redis.client.get(key)).toBe(a.ownerId);
    await redis.client.del(key);
  });

  it("uses the default key jobs:leader when none is given", () => {
    expect(new RedisLeader(redis.client).key).toBe("jobs:leader");
  });

  it("release lets another owner take over at once", async () => {
    const key = uniquePrefix("leader");
    const a = new RedisLeader(redis.client, { key, ownerId: "a" });
    const b = new RedisLeader(redis.client, { key, ownerId: "b" });
    expect(await a.acquire()).toBe(true);
    await a.release();
    expect(a.isLeader()).toBe(false);
    expect(await redis.client.exists(key)).toBe(0);
    expect(await b.acquire()).toBe(true);
    await b.release();
  });

  it("release by a replica that no longer holds the lease leaves the new holder's lease alone", async () => {
    const key = uniquePrefix("leader");
    const a = new RedisLeader(redis.client, { key, ownerId: "a", leaseSeconds: 0.15 });
    const b = new RedisLeader(redis.client, { key, ownerId: "b" });
    expect(await a.acquire()).toBe(true);
    await sleep(300); // let the short lease run out in Redis
    expect(await b.acquire()).toBe(true);

    await a.release();
    expect(await redis.client.get(key)).toBe("b");
    // A stale holder cannot renew someone else's lease either.
    expect(await a.acquire()).toBe(false);
    expect(await redis.client.get(key)).toBe("b");
    await b.release();
  });

  it("isLeader() turns false once the lease has run out by the clock, before any new acquire", async () => {
    const key = uniquePrefix("leader");
    const clock = new ManualClock();
    const a = new RedisLeader(redis.client, { key, leaseSeconds: 10, clock });
    expect(a.isLeader()).toBe(false);
    expect(await a.acquire()).toBe(true);
    clock.advance(9.9);
    expect(a.isLeader()).toBe(true);
    clock.advance(0.1);
    expect(a.isLeader()).toBe(false);
    // Renewing restarts the local lease.
    expect(await a.acquire()).toBe(true);
    expect(a.isLeader()).toBe(true);
    await a.release();
  });

  it("loses leadership when another owner holds the key", async () => {
    const key = uniquePrefix("leader");
    const a = new RedisLeader(redis.client, { key, ownerId: "a" });
    expect(await a.acquire()).toBe(true);
    await redis.client.set(key, "intruder");
    expect(await a.acquire()).toBe(false);
    expect(a.isLeader()).toBe(false);
    expect(await redis.client.get(key)).toBe("intruder");
    await redis.client.del(key);
  });

  it("reloads its scripts after SCRIPT FLUSH on a private server", async () => {
    const own = await startRedis();
    const c = new Redis(own.url);
    try {
      const a = new RedisLeader(c, { key: "jobs:leader", ownerId: "a" });
      expect(await a.acquire()).toBe(true);
      await c.script("FLUSH");
      expect(await a.acquire()).toBe(true);
      await a.release();
      expect(await c.exists("jobs:leader")).toBe(0);
    } finally {
      c.disconnect();
      await own.stop();
    }
  });

  it("reports an unreachable Redis as a BackendError", async () => {
    const own = await startRedis();
    const c = new Redis(own.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      const a = new RedisLeader(c, { key: "jobs:leader" });
      await c.ping();
      await own.crash();
      const error = await a.acquire().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackendError);
      expect((error as BackendError).message).toContain("jobs:leader");
      expect(a.isLeader()).toBe(false);
    } finally {
      c.disconnect();
      await own.stop();
    }
  });

  it("rejects bad options with a JobValidationError naming the field", () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ leaseSeconds: 0 }, "leaseSeconds"],
      [{ leaseSeconds: -1 }, "leaseSeconds"],
      [{ leaseSeconds: Number.NaN }, "leaseSeconds"],
      [{ leaseSeconds: "30" }, "leaseSeconds"],
      [{ key: "" }, "key"],
      [{ ownerId: "" }, "ownerId"],
    ];
    for (const [options, field] of cases) {
      let caught: unknown;
      try {
        new RedisLeader(redis.client, options as never);
      } catch (error) {
        caught = error;
      }
      expect(caught, JSON.stringify(options)).toBeInstanceOf(JobValidationError);
      expect((caught as JobValidationError).field).toBe(field);
    }
  });

  it("refuses a client that is not an ioredis client with a ConfigError saying what it got", () => {
    for (const [bad, got] of [
      [undefined, "got undefined"],
      [null, "got null"],
      ["redis://localhost:6379", "got a string: to connect to a URL, pass new Redis(url)"],
      [{ get() {} }, "got an object without a defineCommand method"],
    ] as const) {
      const error = catchError(() => new RedisLeader(bad as never));
      expect(error, String(bad)).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: "ERR_CONFIG" });
      expect((error as Error).message).toContain("RedisLeader needs an ioredis client");
      expect((error as Error).message).toContain(got);
    }
  });
});

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}
