import {
  type EnqueueOptions,
  InMemoryJobQueue,
  type JobQueue,
  JobsError,
  JobValidationError,
  MAX_JOB_NAME_LENGTH,
  PayloadTooLargeError,
} from "@svc-jobs/core";
import { expectedStats } from "@svc-jobs/core/testing";
import { RedisJobQueue } from "@svc-jobs/redis";
import { uniquePrefix } from "@svc-jobs/test-servers";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";

// Bad enqueue input, on the memory backend and on a real redis-server: each is refused
// with a JobValidationError that names the field, and the queue is exactly as before
// (same stats, no key written in Redis, no id consumed).

class Money {
  constructor(readonly cents: number) {}
}
const cyclic: Record<string, unknown> = { a: 1 };
cyclic.self = cyclic;

const unjsonablePayloads: [string, unknown, RegExp][] = [
  ["an array", [1, 2], /plain JSON object/],
  ["a string", "hello", /plain JSON object/],
  ["null", null, /plain JSON object/],
  ["undefined", undefined, /plain JSON object/],
  ["a nested undefined", { a: { b: undefined } }, /payload\.a\.b is undefined/],
  ["NaN", { n: Number.NaN }, /payload\.n is NaN/],
  ["Infinity", { n: Number.POSITIVE_INFINITY }, /payload\.n is Infinity/],
  ["-Infinity", { n: Number.NEGATIVE_INFINITY }, /payload\.n is -Infinity/],
  ["a BigInt", { n: 10n }, /BigInt/],
  ["a function", { f: () => 1 }, /function/],
  ["a symbol", { s: Symbol("x") }, /symbol/],
  ["a cycle", cyclic, /cycle/],
  ["a Date", { at: new Date(0) }, /Date.*toISOString/],
  ["a Map", { m: new Map([[1, 2]]) }, /Map/],
  ["a class instance", { price: new Money(5) }, /Money/],
  // biome-ignore lint/suspicious/noSparseArray: the hole is the point
  ["a sparse array", { list: [1, , 3] }, /hole/],
];

const badNames: [string, unknown, RegExp][] = [
  ["empty", "", /non-empty string/],
  ["blank", "   ", /non-empty string/],
  ["huge", "x".repeat(MAX_JOB_NAME_LENGTH + 1), /over the limit/],
  ["a number", 42, /non-empty string/],
  ["undefined", undefined, /non-empty string/],
];

const badOptions: [string, Record<string, unknown>, RegExp][] = [
  ["negative delay", { delaySeconds: -1 }, /delaySeconds/],
  ["NaN delay", { delaySeconds: Number.NaN }, /delaySeconds/],
  ["infinite delay", { delaySeconds: Number.POSITIVE_INFINITY }, /delaySeconds/],
  ["string delay", { delaySeconds: "5" }, /delaySeconds/],
  ["zero attempts", { maxAttempts: 0 }, /maxAttempts/],
  ["negative attempts", { maxAttempts: -3 }, /maxAttempts/],
  ["NaN attempts", { maxAttempts: Number.NaN }, /maxAttempts/],
  ["infinite attempts", { maxAttempts: Number.POSITIVE_INFINITY }, /maxAttempts/],
  ["fractional attempts", { maxAttempts: 1.5 }, /maxAttempts/],
  ["negative backoff", { backoffSeconds: -0.5 }, /backoffSeconds/],
  ["NaN backoff", { backoffSeconds: Number.NaN }, /backoffSeconds/],
  ["infinite backoff", { backoffSeconds: Number.POSITIVE_INFINITY }, /backoffSeconds/],
  ["misspelt option", { delay: 5 }, /delaySeconds/],
];

interface Backend {
  name: string;
  open(maxPayloadBytes?: number): Promise<{ queue: JobQueue; keys(): Promise<string[]> }>;
}

const redis = redisFixture(Redis);
const opened: JobQueue[] = [];

// Runs before the fixture's afterAll (registered first) closes the client.
afterAll(async () => {
  await Promise.all(opened.map((q) => q.close()));
});

const backends: Backend[] = [
  {
    name: "memory",
    async open(maxPayloadBytes) {
      const queue = new InMemoryJobQueue(maxPayloadBytes ? { maxPayloadBytes } : {});
      opened.push(queue);
      return { queue, keys: async () => [] };
    },
  },
  {
    name: "redis",
    async open(maxPayloadBytes) {
      const prefix = uniquePrefix("bad-input");
      const queue = new RedisJobQueue(redis.client, {
        prefix,
        ...(maxPayloadBytes ? { maxPayloadBytes } : {}),
      });
      opened.push(queue);
      return { queue, keys: () => redis.client.keys(`${prefix}:*`) };
    },
  },
];

/** Runs `attempt`, expects a JobValidationError matching `message`, and no change to the queue. */
async function expectRefused(
  open: Awaited<ReturnType<Backend["open"]>>,
  attempt: (queue: JobQueue) => Promise<unknown>,
  message: RegExp,
  errorClass: abstract new (...args: never[]) => JobValidationError = JobValidationError,
): Promise<void> {
  const { queue, keys } = open;
  const statsBefore = await queue.stats();
  const keysBefore = (await keys()).sort();
  const error = await attempt(queue).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(errorClass);
  expect(error).toBeInstanceOf(JobsError);
  expect((error as JobsError).code).toMatch(/^ERR_/);
  expect((error as Error).message).toMatch(message);
  expect(await queue.stats()).toEqual(statsBefore);
  expect((await keys()).sort()).toEqual(keysBefore);
}

describe.each(backends)("bad enqueue input on the $name backend", (backend) => {
  it.each(unjsonablePayloads)("refuses a payload with %s", async (_what, payload, message) => {
    const q = await backend.open();
    await expectRefused(q, (queue) => queue.enqueue("work", payload as never), message);
    await expectRefused(
      q,
      (queue) =>
        queue.enqueueMany([
          { name: "ok", payload: { fine: true } },
          { name: "work", payload: payload as never },
        ]),
      message,
    );
  });

  it("refuses a payload over the size limit, naming both sizes", async () => {
    const q = await backend.open(1024);
    await expectRefused(
      q,
      (queue) => queue.enqueue("big", { blob: "x".repeat(2048) }),
      /2\d{3} bytes.*1024/,
      PayloadTooLargeError,
    );
    // Just under the limit is fine: the limit counts the JSON bytes, not characters.
    const job = await q.queue.enqueue("big", { blob: "x".repeat(1000) });
    expect(job.id).toBe("1");
  });

  it("refuses a multi-byte payload whose UTF-8 size is over the limit", async () => {
    const q = await backend.open(1024);
    // 400 characters, 1,200 bytes of UTF-8.
    await expectRefused(
      q,
      (queue) => queue.enqueue("big", { text: "€".repeat(400) }),
      /1024/,
      PayloadTooLargeError,
    );
  });

  it.each(badNames)("refuses a %s job name", async (_what, name, message) => {
    const q = await backend.open();
    await expectRefused(q, (queue) => queue.enqueue(name as string, {}), message);
  });

  it.each(badOptions)("refuses a %s", async (_what, opts, message) => {
    const q = await backend.open();
    await expectRefused(q, (queue) => queue.enqueue("work", {}, opts as EnqueueOptions), message);
    await expectRefused(
      q,
      (queue) =>
        queue.enqueueMany([
          { name: "a", payload: {} },
          { name: "b", payload: {}, opts: opts as EnqueueOptions },
        ]),
      message,
    );
  });

  it("refuses bad worker-side arguments without touching the reservation", async () => {
    const q = await backend.open();
    const job = await q.queue.enqueue("work", { n: 1 });
    const reserved = await q.queue.reserveNext();
    expect(reserved?.id).toBe(job.id);
    for (const seconds of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expectRefused(q, (queue) => queue.extendVisibility(job.id, seconds), /seconds/);
    }
    await expectRefused(q, (queue) => queue.reserveNext({ blockSeconds: -1 }), /blockSeconds/);
    expect(await q.queue.stats()).toMatchObject({ ready: 0, processing: 1 });
  });

  it("after every refusal the queue is still empty and the next job gets id 1", async () => {
    const q = await backend.open();
    for (const [, payload] of unjsonablePayloads) {
      await q.queue.enqueue("work", payload as never).catch(() => {});
    }
    for (const [, opts] of badOptions) {
      await q.queue.enqueue("work", {}, opts as EnqueueOptions).catch(() => {});
    }
    expect(await q.queue.stats()).toEqual(expectedStats());
    const job = await q.queue.enqueue("work", { ok: true });
    expect(job.id).toBe("1");
  });
});
