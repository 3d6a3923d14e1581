import { expectedStats, testJobQueue } from "@svc-jobs/core/testing";
import { RedisJobQueue } from "@svc-jobs/redis";
import { uniquePrefix } from "@svc-jobs/test-servers";
import { clusterFixture } from "@svc-jobs/test-servers/fixtures";
import { Cluster, Redis } from "ioredis";
import { describe, expect, it } from "vitest";

const cluster = clusterFixture(Cluster);

testJobQueue({
  name: "RedisJobQueue (3-master Redis Cluster)",
  create: ({ clock, visibilityTimeoutSeconds, options, sameStorageAs }) => {
    // A second queue object on the same storage: the same prefix, as another process.
    const prefix =
      sameStorageAs instanceof RedisJobQueue ? sameStorageAs.prefix : cluster.prefix("cl");
    return new RedisJobQueue(cluster.client, {
      prefix,
      clock,
      visibilityTimeoutSeconds,
      ...options,
    });
  },
  cleanup: () => cluster.deletePrefixes(),
});

/** The port of the master that serves `slot`. */
async function nodeOfSlot(slot: number): Promise<number> {
  const ranges = await cluster.client.cluster("SLOTS");
  const range = ranges.find(([from, to]) => slot >= from && slot <= to);
  if (!range) throw new Error(`no node serves slot ${slot}`);
  return range[2]![1];
}

describe("Redis Cluster layout", () => {
  it("wraps a prefix without a hash tag as {prefix} and keeps a given hash tag", () => {
    expect(new RedisJobQueue(cluster.client, { prefix: "orders" }).prefix).toBe("{orders}");
    expect(new RedisJobQueue(cluster.client, { prefix: "app:{orders}" }).prefix).toBe(
      "app:{orders}",
    );
    expect(new RedisJobQueue(cluster.client).prefix).toBe("{jobs}");
  });

  it("puts each queue in one slot, and two queues on different nodes", async () => {
    // Find two prefixes whose slots are served by different masters.
    const byNode = new Map<number, string>();
    for (let i = 0; byNode.size < 2 && i < 200; i++) {
      const prefix = uniquePrefix(`node${i}`);
      const slot = Number(await cluster.client.cluster("KEYSLOT", `{${prefix}}`));
      const port = await nodeOfSlot(slot);
      if (!byNode.has(port)) byNode.set(port, prefix);
    }
    expect(byNode.size).toBe(2);

    for (const [port, prefix] of byNode) {
      const queue = new RedisJobQueue(cluster.client, { prefix });
      const job = await queue.enqueue("on-node", { port });
      await queue.enqueue("later", {}, { delaySeconds: 60 });
      const wrapped = queue.prefix;
      // The keys of seeing and controlling jobs too, which the scripts build from the prefix.
      const keys = [
        "ready",
        "delayed",
        "seq",
        `job:${job.id}`,
        "wake",
        "prio:5",
        "prio:-3",
        "priorities",
        "paused",
        "completed",
        "cancelled",
        "events",
      ].map((k) => `${wrapped}:${k}`);
      const slots = new Set(
        await Promise.all(
          keys.map(async (k) => Number(await cluster.client.cluster("KEYSLOT", k))),
        ),
      );
      expect(slots.size).toBe(1);

      // The keys live on that master: ask it directly, not through the cluster client.
      const direct = new Redis({ host: "127.0.0.1", port, lazyConnect: true });
      try {
        await direct.connect();
        expect(await direct.llen(`${wrapped}:ready`)).toBe(1);
        expect(await direct.hget(`${wrapped}:job:${job.id}`, "name")).toBe("on-node");
        // A priority level and the events stream live there too.
        const urgent = await queue.enqueue("urgent", {}, { priority: 5 });
        expect(await direct.lrange(`${wrapped}:prio:5`, 0, -1)).toEqual([urgent.id]);
        expect(await direct.xlen(`${wrapped}:events`)).toBe(3);
        const first = await queue.reserveNext();
        expect(first?.id).toBe(urgent.id);
        await queue.ack(first!);
      } finally {
        direct.disconnect();
      }

      const reserved = await queue.reserveNext({ blockSeconds: 1 });
      expect(reserved?.id).toBe(job.id);
      await queue.ack(reserved!);
      expect(await queue.stats()).toEqual(expectedStats({ delayed: 1 }));
      await queue.close();
    }
  });
});
