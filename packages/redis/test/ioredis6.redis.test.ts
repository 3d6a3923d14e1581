// The ioredis 6 lane: the peer range is ^5.4.0 || ^6.0.0 and the workspace itself runs
// on ioredis 5 (ioredis-mock needs it), so this file proves the queue and the leader on
// ioredis 6 clients (`ioredis6`, an npm alias of ioredis@6) against real Redis.
import { ManualClock } from "@svc-jobs/core";
import { testJobQueue } from "@svc-jobs/core/testing";
import {
  type DiscoverRedisQueuePrefixesClient,
  discoverRedisQueuePrefixes,
  RedisJobQueue,
  type RedisJobQueueClient,
  RedisLeader,
  type RedisLeaderClient,
} from "@svc-jobs/redis";
import { uniquePrefix } from "@svc-jobs/test-servers";
import { clusterFixture, redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Cluster, Redis } from "ioredis6";
import ioredis6Package from "ioredis6/package.json" with { type: "json" };
import { describe, expect, expectTypeOf, it } from "vitest";

// The fixtures open ioredis 6 clients: the classes imported from ioredis6.
const redis = redisFixture(Redis);

it("runs on ioredis 6", () => {
  expect(ioredis6Package.version).toMatch(/^6\./);
  // ioredis 6's classes are accepted where the queue and the leader take a client.
  expectTypeOf<Redis>().toExtend<RedisJobQueueClient>();
  expectTypeOf<Cluster>().toExtend<RedisJobQueueClient>();
  expectTypeOf<Redis>().toExtend<RedisLeaderClient>();
  expectTypeOf<Cluster>().toExtend<RedisLeaderClient>();
  expectTypeOf<Redis>().toExtend<DiscoverRedisQueuePrefixesClient>();
  expectTypeOf<Cluster>().toExtend<DiscoverRedisQueuePrefixesClient>();
});

testJobQueue({
  name: "RedisJobQueue (ioredis 6, redis-server)",
  create: ({ clock, visibilityTimeoutSeconds, options, sameStorageAs }) => {
    // A second queue object on the same storage: the same prefix, as another process.
    const prefix =
      sameStorageAs instanceof RedisJobQueue ? sameStorageAs.prefix : redis.prefix("io6");
    return new RedisJobQueue(redis.client, { prefix, clock, visibilityTimeoutSeconds, ...options });
  },
  cleanup: () => redis.deletePrefixes(),
});

describe("RedisLeader on ioredis 6", () => {
  it("acquires, renews, refuses a second owner, releases, and survives SCRIPT FLUSH", async () => {
    const key = uniquePrefix("io6-leader");
    const clock = new ManualClock();
    const a = new RedisLeader(redis.client, { key, ownerId: "a", leaseSeconds: 10, clock });
    const b = new RedisLeader(redis.client, { key, ownerId: "b", leaseSeconds: 10, clock });

    expect(await a.acquire()).toBe(true);
    expect(a.isLeader()).toBe(true);
    expect(await redis.client.get(key)).toBe("a");
    const ttl = await redis.client.pttl(key);
    expect(ttl).toBeGreaterThan(8_000);
    expect(ttl).toBeLessThanOrEqual(10_000);
    expect(await b.acquire()).toBe(false);
    expect(b.isLeader()).toBe(false);

    await redis.client.script("FLUSH"); // the scripts must come back by themselves (EVAL)
    expect(await a.acquire()).toBe(true);
    await b.release(); // not the holder: changes nothing
    expect(await redis.client.get(key)).toBe("a");

    await a.release();
    expect(a.isLeader()).toBe(false);
    expect(await redis.client.exists(key)).toBe(0);
    expect(await b.acquire()).toBe(true);
    await b.release();
    expect(await redis.client.exists(key)).toBe(0);
  });
});

describe("RedisJobQueue on an ioredis 6 Cluster", () => {
  const cluster = clusterFixture(Cluster);

  it("wraps the prefix in a hash tag and runs enqueue, reserve, ack and the leader", async () => {
    const prefix = uniquePrefix("io6cl");
    const queue = new RedisJobQueue(cluster.client, { prefix });
    try {
      expect(queue.prefix).toBe(`{${prefix}}`);
      const job = await queue.enqueue("send", { n: 1 });
      const got = await queue.reserveNext({ blockSeconds: 1 });
      expect(got?.id).toBe(job.id);
      await queue.ack(got!);
      expect(await queue.stats()).toMatchObject({ ready: 0, processing: 0, delayed: 0, dlq: 0 });
      expect(await discoverRedisQueuePrefixes(cluster.client)).toContain(prefix);

      const leader = new RedisLeader(cluster.client, { key: `${prefix}:leader` });
      expect(await leader.acquire()).toBe(true);
      await leader.release();
      expect(await cluster.client.exists(`${prefix}:leader`)).toBe(0);
    } finally {
      await queue.close();
      const keys = await Promise.all(
        cluster.client
          .nodes("master")
          .map((node) => node.keys(`{${prefix}}:*`).then((k) => ({ node, k }))),
      );
      for (const { node, k } of keys) for (const key of k) await node.unlink(key);
    }
  });
});
