import { BackendError } from "@svc-jobs/core";
import { expectedStats } from "@svc-jobs/core/testing";
import { RedisJobQueue } from "@svc-jobs/redis";
import { type RedisServer, startRedis } from "@svc-jobs/test-servers";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";

// What survives a Redis crash under which settings, on private redis-servers that are
// SIGKILLed and restarted from their own folder. These back the persistence and memory
// requirements in RELIABILITY.md.

const servers: RedisServer[] = [];
const clients: Redis[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function open(args: string[]) {
  const server = await startRedis({ args });
  servers.push(server);
  const client = new Redis(server.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
  client.on("error", () => {});
  clients.push(client);
  return { server, client, queue: new RedisJobQueue(client, { prefix: "settings" }) };
}

/** Every key of the queue with its full contents. */
async function dump(client: Redis): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const key of (await client.keys("settings:*")).sort()) {
    const type = await client.type(key);
    if (type === "hash") out[key] = await client.hgetall(key);
    else if (type === "list") out[key] = await client.lrange(key, 0, -1);
    else if (type === "zset") out[key] = await client.zrange(key, 0, -1, "WITHSCORES");
    else if (type === "string") out[key] = await client.get(key);
  }
  return out;
}

describe("Redis persistence and memory settings", () => {
  it("appendonly yes + appendfsync always: a SIGKILL of Redis loses no acknowledged change", async () => {
    const { server, client, queue } = await open([
      "--appendonly",
      "yes",
      "--appendfsync",
      "always",
    ]);
    await queue.enqueueMany(
      Array.from({ length: 200 }, (_, i) => ({
        name: "work",
        payload: { i },
        opts: { maxAttempts: i < 5 ? 1 : 5, backoffSeconds: 3600 },
      })),
    );
    await queue.enqueue("later", { x: 1 }, { delaySeconds: 3600 });
    const reserved = await queue.reserveMany(20);
    for (const job of reserved.slice(0, 10)) await queue.ack(job);
    for (const job of reserved.slice(10, 15)) await queue.fail(job, new Error("boom"));
    const before = await dump(client);
    const statsBefore = await queue.stats();

    await server.crash();
    await server.restart();

    expect(await dump(client)).toEqual(before);
    expect(await queue.stats()).toEqual(statsBefore);
    expect(statsBefore).toMatchObject({ delayed: 1 + 5, processing: 5 });
    // And the queue carries on from where it was: ids continue, nothing is reused.
    expect((await queue.enqueue("after", {})).id).toBe("202");
    await queue.close();
  });

  it("without persistence (appendonly no, no snapshots) a crash loses the whole queue", async () => {
    const { server, queue } = await open(["--appendonly", "no", "--save", ""]);
    await queue.enqueueMany(
      Array.from({ length: 50 }, (_, i) => ({ name: "work", payload: { i } })),
    );
    expect((await queue.stats()).ready).toBe(50);

    await server.crash();
    await server.restart();

    // This is why RELIABILITY.md requires AOF: Redis itself forgot every job.
    expect(await queue.stats()).toEqual(expectedStats());
    await queue.close();
  });

  it("maxmemory-policy noeviction: a full Redis refuses enqueues cleanly and workers still drain", async () => {
    const { client, queue } = await open([
      "--maxmemory",
      "3mb",
      "--maxmemory-policy",
      "noeviction",
    ]);
    let accepted = 0;
    let refusal: unknown;
    for (let i = 0; i < 2000 && refusal === undefined; i++) {
      try {
        await queue.enqueue("big", { blob: "y".repeat(10_000), i });
        accepted++;
      } catch (error) {
        refusal = error;
      }
    }
    expect(refusal).toBeInstanceOf(BackendError);
    expect((refusal as Error).message).toMatch(/OOM/);
    expect(accepted).toBeGreaterThan(0);
    // Nothing half-written: the counter, the hashes and the ready list agree.
    expect(Number(await client.get("settings:seq"))).toBe(accepted);
    expect(await client.keys("settings:job:*")).toHaveLength(accepted);
    expect(await client.llen("settings:ready")).toBe(accepted);
    // Reserve and ack still work at the limit, so workers free the memory.
    for (let i = 0; i < 10; i++) {
      const job = await queue.reserveNext();
      expect(job).not.toBeNull();
      if (job) await queue.ack(job);
    }
    expect((await queue.stats()).ready).toBe(accepted - 10);
    await queue.close();
  });
});
