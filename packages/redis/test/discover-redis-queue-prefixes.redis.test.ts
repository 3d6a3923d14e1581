import { ConfigError } from "@svc-jobs/core";
import { expectedStats } from "@svc-jobs/core/testing";
import { discoverRedisQueuePrefixes, RedisJobQueue } from "@svc-jobs/redis";
import { clusterFixture, redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Cluster, Redis } from "ioredis";
import { describe, expect, it } from "vitest";

/** Fills queues under `prefixes` (one job each), plus keys that end in `:seq` but are no queue's counter. */
async function fill(client: Redis | Cluster, prefixes: string[]): Promise<void> {
  for (const prefix of prefixes) {
    const queue = new RedisJobQueue(client, { prefix });
    // A dedupe key ending in ":seq" makes `<prefix>:dedupe:order:seq`: not a queue.
    await queue.enqueue("x", {}, { dedupeKey: "order:seq" });
    await queue.close();
  }
}

describe("discoverRedisQueuePrefixes on one node", () => {
  const redis = redisFixture(Redis);
  const root = redis.prefix("discover");

  it("finds every queue, skips other keys ending in :seq, and each prefix opens its queue", async () => {
    const prefixes = [`${root}:emails`, `${root}:{billing}`, `${root}:a*b`];
    await fill(redis.client, prefixes);
    await redis.client.set(`${root}:notes:seq`, "not a counter");
    await redis.client.rpush(`${root}:list:seq`, "1");
    // An empty queue (enqueued, then its only job acked) is still a queue.
    const done = new RedisJobQueue(redis.client, { prefix: `${root}:done` });
    await done.enqueue("x", {});
    await done.ack((await done.reserveNext())!);

    const found = (await discoverRedisQueuePrefixes(redis.client)).filter((p) =>
      p.startsWith(`${root}:`),
    );
    // A single node keeps a prefix as it is, hash tag and all.
    expect(found).toEqual([...prefixes, `${root}:done`].sort());
    for (const prefix of prefixes) {
      const stats = await new RedisJobQueue(redis.client, { prefix }).stats();
      expect(stats, prefix).toEqual(expectedStats({ ready: 1 }));
    }
  });

  it("honours the client's keyPrefix, glob characters included", async () => {
    const scoped = new Redis(redis.url, { keyPrefix: `${root}:kp[a]:` });
    const neighbour = new Redis(redis.url, { keyPrefix: `${root}:kpa:` });
    try {
      await fill(scoped, ["jobs", "orders"]);
      await fill(neighbour, ["other"]);
      // Exactly this client's queues, named as this client opens them.
      expect(await discoverRedisQueuePrefixes(scoped)).toEqual(["jobs", "orders"]);
      expect(await discoverRedisQueuePrefixes(neighbour)).toEqual(["other"]);
      expect((await new RedisJobQueue(scoped, { prefix: "orders" }).stats()).ready).toBe(1);
    } finally {
      scoped.disconnect();
      neighbour.disconnect();
    }
  });

  it("refuses what is not an ioredis client with a ConfigError", async () => {
    await expect(discoverRedisQueuePrefixes("redis://localhost" as never)).rejects.toBeInstanceOf(
      ConfigError,
    );
  });
});

describe("discoverRedisQueuePrefixes on a Redis Cluster", () => {
  const cluster = clusterFixture(Cluster);
  // The queues' keys carry their hash tags: the fixture deletes by tag on every master.
  const root = cluster.prefix("discl");

  it("scans every master and returns prefixes that open the same queues", async () => {
    // Prefixes until their slots cover every master: discovery must look at each.
    const masters = cluster.client.nodes("master").length;
    const byPort = new Map<number, string>();
    for (let i = 0; byPort.size < masters && i < 300; i++) {
      const prefix = `${root}:q${i}`;
      const slot = Number(await cluster.client.cluster("KEYSLOT", `{${prefix}}`));
      const ranges = await cluster.client.cluster("SLOTS");
      const port = ranges.find(([from, to]) => slot >= from && slot <= to)![2]![1];
      if (!byPort.has(port)) byPort.set(port, prefix);
    }
    expect(byPort.size).toBe(masters);
    const plain = [...byPort.values()];
    const tagged = `app:{${root}:t}`;
    await fill(cluster.client, [...plain, tagged]);

    // A fresh client, not connected yet: discovery waits until it knows the masters.
    const fresh = new Cluster(cluster.nodes);
    try {
      const found = (await discoverRedisQueuePrefixes(fresh)).filter((p) => p.includes(root));
      // `{name}` comes back as `name` (the queue wraps it again); other tags stay.
      expect(found).toEqual([...plain, tagged].sort());
      for (const prefix of found) {
        const queue = new RedisJobQueue(fresh, { prefix });
        expect(queue.prefix).toBe(prefix === tagged ? tagged : `{${prefix}}`);
        expect((await queue.stats()).ready, prefix).toBe(1);
      }
    } finally {
      fresh.disconnect();
    }
  });

  it("honours a Cluster's keyPrefix", async () => {
    const scoped = new Cluster(cluster.nodes, { keyPrefix: `${root}:kp:` });
    try {
      await fill(scoped, ["jobs", "emails"]);
      expect(await discoverRedisQueuePrefixes(scoped)).toEqual(["emails", "jobs"]);
      expect((await new RedisJobQueue(scoped, { prefix: "emails" }).stats()).ready).toBe(1);
    } finally {
      scoped.disconnect();
    }
  });
});
