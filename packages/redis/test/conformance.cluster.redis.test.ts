import { testJobQueue } from "@svc-jobs/core/testing";
import { RedisJobQueue } from "@svc-jobs/redis";
import { uniquePrefix, useRedisCluster } from "@svc-jobs/test-servers";
import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteKeys } from "./fixtures/delete-keys.js";

let cluster: Awaited<ReturnType<typeof useRedisCluster>>;
const used: string[] = [];
let client: Cluster;

beforeAll(async () => {
  cluster = await useRedisCluster();
  client = new Cluster(cluster.nodes);
  await client.ping();
});

afterAll(async () => {
  await client?.quit();
  await cluster?.stop();
});

testJobQueue({
  name: "RedisJobQueue (3-master Redis Cluster)",
  create: ({ clock, visibilityTimeoutSeconds }) => {
    const queue = new RedisJobQueue(client, {
      prefix: uniquePrefix("cl"),
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

/** The port of the master that serves `slot`. */
async function nodeOfSlot(slot: number): Promise<number> {
  const ranges = await client.cluster("SLOTS");
  const range = ranges.find(([from, to]) => slot >= from && slot <= to);
  if (!range) throw new Error(`no node serves slot ${slot}`);
  return range[2]![1];
}

describe("Redis Cluster layout", () => {
  it("wraps a prefix without a hash tag as {prefix} and keeps a given hash tag", () => {
    expect(new RedisJobQueue(client, { prefix: "orders" }).prefix).toBe("{orders}");
    expect(new RedisJobQueue(client, { prefix: "app:{orders}" }).prefix).toBe("app:{orders}");
    expect(new RedisJobQueue(client).prefix).toBe("{jobs}");
  });

  it("puts each queue in one slot, and two queues on different nodes", async () => {
    // Find two prefixes whose slots are served by different masters.
    const byNode = new Map<number, string>();
    for (let i = 0; byNode.size < 2 && i < 200; i++) {
      const prefix = uniquePrefix(`node${i}`);
      const slot = Number(await client.cluster("KEYSLOT", `{${prefix}}`));
      const port = await nodeOfSlot(slot);
      if (!byNode.has(port)) byNode.set(port, prefix);
    }
    expect(byNode.size).toBe(2);

    for (const [port, prefix] of byNode) {
      const queue = new RedisJobQueue(client, { prefix });
      const job = await queue.enqueue("on-node", { port });
      await queue.enqueue("later", {}, { delaySeconds: 60 });
      const wrapped = queue.prefix;
      const keys = ["ready", "delayed", "seq", `job:${job.id}`, "wake"].map(
        (k) => `${wrapped}:${k}`,
      );
      const slots = new Set(
        await Promise.all(keys.map(async (k) => Number(await client.cluster("KEYSLOT", k)))),
      );
      expect(slots.size).toBe(1);

      // The keys live on that master: ask it directly, not through the cluster client.
      const direct = new Redis({ host: "127.0.0.1", port, lazyConnect: true });
      try {
        await direct.connect();
        expect(await direct.llen(`${wrapped}:ready`)).toBe(1);
        expect(await direct.hget(`${wrapped}:job:${job.id}`, "name")).toBe("on-node");
      } finally {
        direct.disconnect();
      }

      const reserved = await queue.reserveNext({ blockSeconds: 1 });
      expect(reserved?.id).toBe(job.id);
      await queue.ack(reserved!);
      expect(await queue.stats()).toEqual({ ready: 0, delayed: 1, processing: 0, dlq: 0 });
      await queue.close();
    }
  });
});
