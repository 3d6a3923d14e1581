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
import { uniquePrefix, useRedis, useRedisCluster } from "@svc-jobs/test-servers";
import { Cluster, Redis } from "ioredis6";
import ioredis6Package from "ioredis6/package.json" with { type: "json" };
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";

let server: Awaited<ReturnType<typeof useRedis>>;
let client: Redis;
const used: string[] = [];

/** Deletes a test prefix's keys (never FLUSHDB: the server may be shared). */
async function deleteKeys(node: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await node.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    for (const key of keys) await node.unlink(key);
  } while (cursor !== "0");
}

beforeAll(async () => {
  server = await useRedis();
  client = new Redis(server.url);
});

afterAll(async () => {
  await client?.quit();
  await server?.stop();
});

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
  create: ({ clock, visibilityTimeoutSeconds }) => {
    const queue = new RedisJobQueue(client, {
      prefix: uniquePrefix("io6"),
      clock,
      visibilityTimeoutSeconds,
    });
    used.push(queue.prefix);
    return queue;
  },
  cleanup: async () => {
    for (const prefix of used.splice(0)) await deleteKeys(client, prefix);
  },
});

describe("RedisLeader on ioredis 6", () => {
  it("acquires, renews, refuses a second owner, releases, and survives SCRIPT FLUSH", async () => {
    const key = uniquePrefix("io6-leader");
    const clock = new ManualClock();
    const a = new RedisLeader(client, { key, ownerId: "a", leaseSeconds: 10, clock });
    const b = new RedisLeader(client, { key, ownerId: "b", leaseSeconds: 10, clock });

    expect(await a.acquire()).toBe(true);
    expect(a.isLeader()).toBe(true);
    expect(await client.get(key)).toBe("a");
    const ttl = await client.pttl(key);
    expect(ttl).toBeGreaterThan(8_000);
    expect(ttl).toBeLessThanOrEqual(10_000);
    expect(await b.acquire()).toBe(false);
    expect(b.isLeader()).toBe(false);

    await client.script("FLUSH"); // the scripts must come back by themselves (EVAL)
    expect(await a.acquire()).toBe(true);
    await b.release(); // not the holder: changes nothing
    expect(await client.get(key)).toBe("a");

    await a.release();
    expect(a.isLeader()).toBe(false);
    expect(await client.exists(key)).toBe(0);
    expect(await b.acquire()).toBe(true);
    await b.release();
    expect(await client.exists(key)).toBe(0);
  });
});

describe("RedisJobQueue on an ioredis 6 Cluster", () => {
  let cluster: Awaited<ReturnType<typeof useRedisCluster>>;
  let clusterClient: Cluster;

  beforeAll(async () => {
    cluster = await useRedisCluster();
    clusterClient = new Cluster(cluster.nodes);
    await clusterClient.ping();
  });

  afterAll(async () => {
    await clusterClient?.quit();
    await cluster?.stop();
  });

  it("wraps the prefix in a hash tag and runs enqueue, reserve, ack and the leader", async () => {
    const prefix = uniquePrefix("io6cl");
    const queue = new RedisJobQueue(clusterClient, { prefix });
    try {
      expect(queue.prefix).toBe(`{${prefix}}`);
      const job = await queue.enqueue("send", { n: 1 });
      const got = await queue.reserveNext({ blockSeconds: 1 });
      expect(got?.id).toBe(job.id);
      await queue.ack(got!);
      expect(await queue.stats()).toMatchObject({ ready: 0, processing: 0, delayed: 0, dlq: 0 });
      expect(await discoverRedisQueuePrefixes(clusterClient)).toContain(prefix);

      const leader = new RedisLeader(clusterClient, { key: `${prefix}:leader` });
      expect(await leader.acquire()).toBe(true);
      await leader.release();
      expect(await clusterClient.exists(`${prefix}:leader`)).toBe(0);
    } finally {
      await queue.close();
      const keys = await Promise.all(
        clusterClient
          .nodes("master")
          .map((node) => node.keys(`{${prefix}}:*`).then((k) => ({ node, k }))),
      );
      for (const { node, k } of keys) for (const key of k) await node.unlink(key);
    }
  });
});
