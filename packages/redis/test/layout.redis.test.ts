import { ManualClock, PayloadTooLargeError } from "@svc-jobs/core";
import { RedisJobQueue } from "@svc-jobs/redis";
import { uniquePrefix, useRedis } from "@svc-jobs/test-servers";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prefixTracker } from "./fixtures/delete-keys.js";

const prefixes = prefixTracker(uniquePrefix);
let server: Awaited<ReturnType<typeof useRedis>>;
let client: Redis;

beforeAll(async () => {
  server = await useRedis();
  client = new Redis(server.url);
});

afterAll(async () => {
  if (client) await prefixes.deleteAll(client);
  await client?.quit();
  await server?.stop();
});

// The svc-infra guide's runbooks read these keys with redis-cli; they must keep working.
describe("key layout (runbook compatibility)", () => {
  it("uses the guide's keys, types and hash fields", async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const p = prefixes.prefix("layout");
    const queue = new RedisJobQueue(client, { prefix: p, clock, visibilityTimeoutSeconds: 30 });
    const first = await queue.enqueue("send_email", { to: "a@example.com" });
    await queue.enqueue("later", {}, { delaySeconds: 90 });
    await queue.enqueue("dies", { n: 1 }, { maxAttempts: 1, backoffSeconds: 2.5 });
    await queue.enqueue("waits", {});

    const reserved = await queue.reserveNext();
    expect(reserved?.id).toBe(first.id);
    const dying = await queue.reserveNext();
    await queue.fail(dying!, new Error("smtp down"));

    expect(await client.type(`${p}:ready`)).toBe("list");
    expect(await client.type(`${p}:processing`)).toBe("list");
    expect(await client.type(`${p}:processing_vt`)).toBe("zset");
    expect(await client.type(`${p}:delayed`)).toBe("zset");
    expect(await client.type(`${p}:seq`)).toBe("string");
    expect(await client.type(`${p}:job:1`)).toBe("hash");
    expect(await client.type(`${p}:dlq`)).toBe("list");

    // redis-cli llen jobs:ready / lrange jobs:dlq 0 -1 / hgetall jobs:job:7
    expect(await client.llen(`${p}:ready`)).toBe(1);
    expect(await client.lrange(`${p}:ready`, 0, -1)).toEqual(["4"]);
    expect(await client.lrange(`${p}:processing`, 0, -1)).toEqual(["1"]);
    expect(await client.lrange(`${p}:dlq`, 0, -1)).toEqual(["3"]);
    expect(await client.get(`${p}:seq`)).toBe("4");
    const now = clock.now();
    expect(Number(await client.zscore(`${p}:processing_vt`, "1"))).toBe(now + 30_000);
    expect(Number(await client.zscore(`${p}:delayed`, "2"))).toBe(now + 90_000);

    expect(await client.hgetall(`${p}:job:1`)).toEqual({
      id: "1",
      name: "send_email",
      payload: '{"to":"a@example.com"}',
      available_at: String(now),
      attempts: "1",
      max_attempts: "5",
      backoff_seconds: "60",
      last_error: "",
    });
    expect(await client.hgetall(`${p}:job:3`)).toMatchObject({
      attempts: "1",
      max_attempts: "1",
      backoff_seconds: "2.5",
      last_error: "smtp down",
    });

    // Acked jobs leave nothing behind but the counter.
    await queue.ack(reserved!);
    expect(await client.exists(`${p}:job:1`)).toBe(0);
    expect(await client.lrange(`${p}:processing`, 0, -1)).toEqual([]);
    expect(await client.zcard(`${p}:processing_vt`)).toBe(0);

    // Every key the queue wrote is under its prefix.
    const keys = await client.keys(`${p}*`);
    expect(keys.every((k) => k.startsWith(`${p}:`))).toBe(true);
    expect(await client.keys(`${p}:job:*`)).toHaveLength(3);
  });

  it('defaults to the prefix "jobs"', () => {
    expect(new RedisJobQueue(client).prefix).toBe("jobs");
  });

  it("honours the client's own keyPrefix", async () => {
    const outer = prefixes.prefix("kp");
    const prefixed = new Redis(server.url, { keyPrefix: `${outer}:` });
    try {
      const queue = new RedisJobQueue(prefixed, { prefix: "q" });
      const job = await queue.enqueue("x", { a: 1 });
      expect(await client.hget(`${outer}:q:job:${job.id}`, "name")).toBe("x");
      expect(await client.llen(`${outer}:q:ready`)).toBe(1);
      const got = await queue.reserveNext();
      expect(got?.payload).toEqual({ a: 1 });
      await queue.ack(got!);
      expect(await client.exists(`${outer}:q:job:${job.id}`)).toBe(0);
    } finally {
      await prefixed.quit();
    }
  });
});

describe("payload size limit", () => {
  it("refuses a payload over maxPayloadBytes with a clear error and writes nothing", async () => {
    const p = prefixes.prefix("size");
    const queue = new RedisJobQueue(client, { prefix: p, maxPayloadBytes: 100 });
    await queue.enqueue("fits", { s: "x".repeat(80) });
    const error = await queue.enqueue("big", { s: "x".repeat(200) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error).toMatchObject({ code: "ERR_PAYLOAD_TOO_LARGE", sizeBytes: 208, limitBytes: 100 });
    expect((error as Error).message).toMatch(/maxPayloadBytes/);
    await expect(
      queue.enqueueMany([
        { name: "ok", payload: {} },
        { name: "big", payload: { s: "y".repeat(500) } },
      ]),
    ).rejects.toBeInstanceOf(PayloadTooLargeError);
    expect(await client.llen(`${p}:ready`)).toBe(1);
    expect(await client.get(`${p}:seq`)).toBe("1");
  });

  it("rejects a bad maxPayloadBytes option", () => {
    expect(() => new RedisJobQueue(client, { maxPayloadBytes: 0 })).toThrow(/maxPayloadBytes/);
  });
});
