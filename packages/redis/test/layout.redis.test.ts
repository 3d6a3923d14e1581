import { ConfigError, InMemoryJobQueue, ManualClock, PayloadTooLargeError } from "@svc-jobs/core";
import { RedisJobQueue } from "@svc-jobs/redis";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { enqueue as enqueueScript } from "../src/lua/scripts.generated.js";

const redis = redisFixture(Redis);

// Layout version 2 (docs/redis-layout.md): svc-infra's keys and encodings, so its runbooks
// (redis-cli) keep working and a Python svc-infra service can share the queue.
describe("key layout (runbook and svc-infra compatibility)", () => {
  it("uses svc-infra's keys, types, hash fields and encodings", async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const p = redis.prefix("layout");
    const queue = new RedisJobQueue(redis.client, {
      prefix: p,
      clock,
      visibilityTimeoutSeconds: 30,
    });
    const first = await queue.enqueue("send_email", { to: "a@example.com" });
    await queue.enqueue("later", {}, { delaySeconds: 90 });
    await queue.enqueue("dies", { n: 1 }, { maxAttempts: 1, backoffSeconds: 2.5 });
    await queue.enqueue("waits", {});

    const reserved = await queue.reserveNext();
    expect(reserved?.id).toBe(first.id);
    const dying = await queue.reserveNext();
    await queue.fail(dying!, new Error("smtp down"));

    expect(await redis.client.type(`${p}:ready`)).toBe("list");
    // svc-jobs's reservations live in processing_vt only; the list holds svc-infra's.
    expect(await redis.client.type(`${p}:processing`)).toBe("none");
    expect(await redis.client.type(`${p}:processing_vt`)).toBe("zset");
    expect(await redis.client.type(`${p}:delayed`)).toBe("zset");
    expect(await redis.client.type(`${p}:seq`)).toBe("string");
    expect(await redis.client.type(`${p}:job:1`)).toBe("hash");
    expect(await redis.client.type(`${p}:dlq`)).toBe("list");

    // redis-cli llen jobs:ready / lrange jobs:dlq 0 -1 / hgetall jobs:job:7
    expect(await redis.client.llen(`${p}:ready`)).toBe(1);
    expect(await redis.client.lrange(`${p}:ready`, 0, -1)).toEqual(["4"]);
    expect(await redis.client.lrange(`${p}:processing`, 0, -1)).toEqual([]);
    expect(await redis.client.lrange(`${p}:dlq`, 0, -1)).toEqual(["3"]);
    expect(await redis.client.get(`${p}:seq`)).toBe("4");
    expect(await redis.client.get(`${p}:layout`)).toBe("2");
    // Scores in epoch seconds.
    const now = clock.now();
    expect(await redis.client.zscore(`${p}:processing_vt`, "1")).toBe(String(now / 1000 + 30));
    expect(await redis.client.zscore(`${p}:delayed`, "2")).toBe(String(now / 1000 + 90));

    expect(await redis.client.hgetall(`${p}:job:1`)).toEqual({
      id: "1",
      name: "send_email",
      payload: '{"to":"a@example.com"}',
      available_at: "2030-01-01T00:00:00.000000+00:00",
      // attempts, max_attempts and backoff_seconds at svc-infra's defaults (0, 5, 60) are
      // left out of a new job's hash; svc-infra reads them with those defaults.
      attempts: "1",
      svc_jobs_reserved: "1",
    });
    expect(await redis.client.hgetall(`${p}:job:3`)).toEqual({
      id: "3",
      name: "dies",
      payload: '{"n":1}',
      available_at: "2030-01-01T00:00:00.000000+00:00",
      max_attempts: "1",
      backoff_seconds: "3",
      svc_jobs_backoff_seconds: "2.5",
      attempts: "1",
      last_error: "smtp down",
      svc_jobs_state: "dead", // svc-jobs dead-lettered it
    });
    expect(await redis.client.hget(`${p}:job:2`, "available_at")).toBe(
      "2030-01-01T00:01:30.000000+00:00",
    );

    // Acked jobs leave nothing behind but the counter.
    await queue.ack(reserved!);
    expect(await redis.client.exists(`${p}:job:1`)).toBe(0);
    expect(await redis.client.lrange(`${p}:processing`, 0, -1)).toEqual([]);
    expect(await redis.client.zcard(`${p}:processing_vt`)).toBe(0);

    // Every key the queue wrote is under its prefix.
    const keys = await redis.client.keys(`${p}*`);
    expect(keys.every((k) => k.startsWith(`${p}:`))).toBe(true);
    expect(await redis.client.keys(`${p}:job:*`)).toHaveLength(3);
  });

  it("writes svc-infra's fields in svc-infra's order, leaving out those at svc-infra's defaults", async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const p = redis.prefix("order");
    const queue = new RedisJobQueue(redis.client, { prefix: p, clock });
    const plain = await queue.enqueue("plain", { a: 1 });
    const full = await queue.enqueue(
      "full",
      { b: [1, "x"] },
      { delaySeconds: 1.5, maxAttempts: 2, backoffSeconds: 0.25, dedupeKey: "order:seq" },
    );
    const [many] = await queue.enqueueMany([
      { name: "many", payload: {}, opts: { maxAttempts: 9 } },
    ]);
    // svc-infra's fields in svc-infra's order; no last_error until a failure; attempts,
    // max_attempts and backoff_seconds only when not svc-infra's defaults (0, 5, 60), which
    // is how svc-infra reads an absent field. redis-cli hgetall lists the fields in the
    // order they were first written.
    const order = ["id", "name", "payload", "available_at"];
    expect(Object.keys(await redis.client.hgetall(`${p}:job:${plain.id}`))).toEqual(order);
    expect(Object.keys(await redis.client.hgetall(`${p}:job:${many!.id}`))).toEqual([
      ...order,
      "max_attempts",
    ]);
    // A fractional backoff: the integer svc-infra reads (rounded up), the exact value beside.
    // A delayed job's available_at is its due time: the enqueue time goes beside it.
    expect(Object.keys(await redis.client.hgetall(`${p}:job:${full.id}`))).toEqual([
      ...order,
      "max_attempts",
      "backoff_seconds",
      "svc_jobs_backoff_seconds",
      "svc_jobs_created_at",
    ]);
    expect(await redis.client.hgetall(`${p}:job:${full.id}`)).toEqual({
      id: full.id,
      name: "full",
      payload: '{"b":[1,"x"]}',
      available_at: "2030-01-01T00:00:01.500000+00:00",
      max_attempts: "2",
      backoff_seconds: "1",
      svc_jobs_backoff_seconds: "0.25",
      svc_jobs_created_at: "2030-01-01T00:00:00.000000+00:00",
    });
    expect(full.availableAt.getTime()).toBe(clock.now() + 1500);
    expect(full.backoffSeconds).toBe(0.25);
    expect(await redis.client.zscore(`${p}:delayed`, full.id)).toBe(
      String((clock.now() + 1500) / 1000),
    );
    expect(await redis.client.get(`${p}:dedupe:order:seq`)).toBe(
      `${clock.now() / 1000 + 24 * 3600}:${full.id}`,
    );
    expect(await redis.client.hget(`${p}:job:${many!.id}`, "max_attempts")).toBe("9");
  });

  it("the enqueue script writes the fields it is named, refusing unknown ones before writing", async () => {
    const p = redis.prefix("columns");
    const keys = ["ready", "delayed", "seq", "wake"].map((k) => `${p}:${k}`);
    // The columns are named once, then each job gives a value per column ("" = default).
    const run = (columns: string[], ...rows: string[][]) =>
      redis.client.eval(
        enqueueScript.lua,
        4,
        ...keys,
        p,
        "1000",
        "1970-01-01T00:16:40.000000+00:00",
        "",
        "0",
        "1000",
        "", // no events
        String(columns.length),
        ...columns,
        ...rows.flat(),
      );
    await expect(run(["name", "payload", "priority"], ["x", "{}", "1"])).rejects.toThrow(
      /unknown field priority/,
    );
    expect(await redis.client.keys(`${p}:*`)).toEqual([]);
    await expect(
      run(["name", "payload", "max_attempts"], ["x", "{}", ""], ["y", "[]", "3"]),
    ).resolves.toEqual(["r", "1", "2"]);
    const hash = {
      id: "1",
      name: "x",
      payload: "{}",
      available_at: "1970-01-01T00:16:40.000000+00:00",
    };
    expect(await redis.client.hgetall(`${p}:job:1`)).toEqual(hash);
    expect(await redis.client.hgetall(`${p}:job:2`)).toEqual({
      ...hash,
      id: "2",
      name: "y",
      payload: "[]",
      max_attempts: "3",
    });
    expect(await redis.client.lrange(`${p}:ready`, 0, -1)).toEqual(["2", "1"]);
  });

  it("the Job an enqueue or a reserve returns is what the job's hash holds", async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const p = redis.prefix("returned");
    const queue = new RedisJobQueue(redis.client, { prefix: p, clock });
    const fromHash = async (id: string) => {
      const h = await redis.client.hgetall(`${p}:job:${id}`);
      return {
        id: h.id,
        name: h.name,
        payload: JSON.parse(h.payload!),
        availableAt: new Date(h.available_at!),
        // Absent: svc-infra's defaults (0, 5, 60), as it reads them.
        attempts: Number(h.attempts ?? 0),
        maxAttempts: Number(h.max_attempts ?? 5),
        backoffSeconds: Number(h.svc_jobs_backoff_seconds ?? h.backoff_seconds ?? 60),
        lastError: h.last_error ?? null,
      };
    };
    const jobs = [
      await queue.enqueue("plain", { a: 1 }),
      await queue.enqueue(
        "opts",
        { b: 2 },
        { maxAttempts: 2, backoffSeconds: 0.5, dedupeKey: "d" },
      ),
      ...(await queue.enqueueMany([
        { name: "m1", payload: {} },
        { name: "m2", payload: { c: [3] }, opts: { delaySeconds: 2.5, maxAttempts: 7 } },
      ])),
    ];
    for (const job of jobs) expect(job, job.name).toEqual(await fromHash(job.id));
    const reserved = await queue.reserveMany(10);
    expect(reserved.map((j) => j.name)).toEqual(["plain", "opts", "m1"]);
    for (const job of reserved) expect(job, job.name).toEqual(await fromHash(job.id));
  });

  it("a dedupe hit on a completed job answers like the memory backend", async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const queue = new RedisJobQueue(redis.client, { prefix: redis.prefix("dedupe-done"), clock });
    const memory = new InMemoryJobQueue({ clock });
    const opts = { dedupeKey: "k", delaySeconds: 30, maxAttempts: 3, backoffSeconds: 7 };
    for (const q of [queue, memory]) {
      await q.enqueue("once", {}, { dedupeKey: "k" });
      await q.ack((await q.reserveNext())!);
    }
    clock.advance(60);
    const again = await queue.enqueue("once", { v: 2 }, opts);
    expect(again).toEqual(await memory.enqueue("once", { v: 2 }, opts));
    expect(again.availableAt.getTime()).toBe(clock.now());
  });

  it("refuses a client that is not an ioredis client with a ConfigError saying what it got", () => {
    for (const [bad, got] of [
      [undefined, "got undefined"],
      [42, "got 42 (a number)"],
      [
        "redis://user:secret@localhost:6379",
        "got a string: to connect to a URL, pass new Redis(url)",
      ],
      [new Map(), "got a Map without a defineCommand method"],
    ] as const) {
      let error: unknown;
      try {
        new RedisJobQueue(bad as never);
      } catch (caught) {
        error = caught;
      }
      expect(error, String(bad)).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain("RedisJobQueue needs an ioredis client");
      expect((error as Error).message).toContain(got);
      expect((error as Error).message).not.toContain("secret");
    }
  });

  it('defaults to the prefix "jobs"', () => {
    expect(new RedisJobQueue(redis.client).prefix).toBe("jobs");
  });

  it("honours the client's own keyPrefix", async () => {
    const outer = redis.prefix("kp");
    const prefixed = new Redis(redis.url, { keyPrefix: `${outer}:` });
    try {
      const queue = new RedisJobQueue(prefixed, { prefix: "q" });
      const job = await queue.enqueue("x", { a: 1 });
      expect(await redis.client.hget(`${outer}:q:job:${job.id}`, "name")).toBe("x");
      expect(await redis.client.llen(`${outer}:q:ready`)).toBe(1);
      const got = await queue.reserveNext();
      expect(got?.payload).toEqual({ a: 1 });
      await queue.ack(got!);
      expect(await redis.client.exists(`${outer}:q:job:${job.id}`)).toBe(0);
    } finally {
      await prefixed.quit();
    }
  });
});

describe("payload size limit", () => {
  it("refuses a payload over maxPayloadBytes with a clear error and writes nothing", async () => {
    const p = redis.prefix("size");
    const queue = new RedisJobQueue(redis.client, { prefix: p, maxPayloadBytes: 100 });
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
    expect(await redis.client.llen(`${p}:ready`)).toBe(1);
    expect(await redis.client.get(`${p}:seq`)).toBe("1");
  });

  it("rejects a bad maxPayloadBytes option", () => {
    expect(() => new RedisJobQueue(redis.client, { maxPayloadBytes: 0 })).toThrow(
      /maxPayloadBytes/,
    );
  });
});
