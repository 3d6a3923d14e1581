import { expect, it } from "vitest";
import type { SuiteContext } from "./context.js";
import { expectedStats } from "./expected-stats.js";

export function enqueueCases(ctx: SuiteContext): void {
  it("returns the job with its fields and the documented defaults", async () => {
    const { queue, clock } = await ctx.make();
    const job = await queue.enqueue("send_email", { to: "user@example.com", n: 1 });
    expect(job).toEqual({
      id: "1",
      name: "send_email",
      payload: { to: "user@example.com", n: 1 },
      availableAt: new Date(clock.now()),
      attempts: 0,
      maxAttempts: 5,
      backoffSeconds: 60,
      lastError: null,
    });
  });

  it("numbers ids 1, 2, 3 per queue", async () => {
    const { queue } = await ctx.make();
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await queue.enqueue("n", { i })).id);
    expect(ids).toEqual(["1", "2", "3"]);
    const { queue: other } = await ctx.make();
    expect((await other.enqueue("n", {})).id).toBe("1");
  });

  it("keeps maxAttempts and backoffSeconds given at enqueue", async () => {
    const { queue } = await ctx.make();
    const job = await queue.enqueue("x", {}, { maxAttempts: 3, backoffSeconds: 2.5 });
    expect(job.maxAttempts).toBe(3);
    expect(job.backoffSeconds).toBe(2.5);
    const reserved = await queue.reserveNext();
    expect(reserved?.maxAttempts).toBe(3);
    expect(reserved?.backoffSeconds).toBe(2.5);
  });

  it("round-trips JSON payloads exactly (nesting, unicode, numbers, null)", async () => {
    const { queue } = await ctx.make();
    const payload = {
      s: 'héllo ✓ 日本 \u0000 "quoted"',
      n: -12.5,
      big: 2 ** 53 - 1,
      t: true,
      nil: null,
      list: [1, "two", { three: [3] }],
      nested: { a: { b: { c: [] } } },
      empty: {},
    };
    await queue.enqueue("p", payload);
    const job = await queue.reserveNext();
    expect(job?.payload).toEqual(payload);
  });

  it("stores a copy: mutating the payload after enqueue changes nothing queued", async () => {
    const { queue } = await ctx.make();
    const payload = { list: [1, 2] };
    await queue.enqueue("p", payload);
    payload.list.push(3);
    expect((await queue.reserveNext())?.payload).toEqual({ list: [1, 2] });
  });

  it("enqueueMany returns the jobs in order and they are reserved in that order", async () => {
    const { queue } = await ctx.make();
    const jobs = await queue.enqueueMany([
      { name: "a", payload: { i: 1 } },
      { name: "b", payload: { i: 2 }, opts: { maxAttempts: 2 } },
      { name: "c", payload: { i: 3 }, opts: { delaySeconds: 10 } },
      { name: "d", payload: { i: 4 } },
    ]);
    expect(jobs.map((j) => j.name)).toEqual(["a", "b", "c", "d"]);
    expect(jobs.map((j) => j.id)).toEqual(["1", "2", "3", "4"]);
    expect(jobs[1]?.maxAttempts).toBe(2);
    expect(await queue.stats()).toEqual(expectedStats({ ready: 3, delayed: 1 }));
    const order = [];
    for (let i = 0; i < 3; i++) order.push((await queue.reserveNext())?.name);
    expect(order).toEqual(["a", "b", "d"]);
  });

  it("enqueueMany of an empty list returns an empty list", async () => {
    const { queue } = await ctx.make();
    expect(await queue.enqueueMany([])).toEqual([]);
  });

  it("stats counts ready, delayed, processing and dlq", async () => {
    const { queue } = await ctx.make();
    expect(await queue.stats()).toEqual(expectedStats());
    await queue.enqueue("r1", {});
    await queue.enqueue("r2", {});
    await queue.enqueue("d", {}, { delaySeconds: 60 });
    await queue.enqueue("dead", {}, { maxAttempts: 1 });
    const first = await queue.reserveNext();
    expect(first?.name).toBe("r1");
    await queue.reserveNext(); // r2
    const dead = await queue.reserveNext();
    expect(dead?.name).toBe("dead");
    await queue.fail(dead!, new Error("boom"));
    expect(await queue.stats()).toEqual(expectedStats({ delayed: 1, processing: 2, dlq: 1 }));
    await queue.ack(first!);
    expect(await queue.stats()).toEqual(expectedStats({ delayed: 1, processing: 1, dlq: 1 }));
  });

  it("close() can be called twice", async () => {
    const { queue } = await ctx.make();
    await queue.close();
    await queue.close();
  });
}
