import { expect, it } from "vitest";
import type { SuiteContext } from "./context.js";
import { expectedStats } from "./expected-stats.js";

export function retryCases(ctx: SuiteContext): void {
  it("follows the documented schedule: 60, 120, 180, 240 s, then the DLQ after the 5th failure", async () => {
    const { queue, clock } = await ctx.make();
    const enqueued = await queue.enqueue("flaky", { n: 1 });
    const delays = [60, 120, 180, 240];
    for (let attempt = 1; attempt <= 5; attempt++) {
      const job = await queue.reserveNext();
      expect(job?.id).toBe(enqueued.id);
      expect(job?.attempts).toBe(attempt);
      await queue.fail(job!, new Error(`failure ${attempt}`));
      if (attempt === 5) break;
      const delay = delays[attempt - 1]!;
      expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 1, processing: 0 });
      clock.advance(delay - 1);
      expect(await queue.reserveNext()).toBeNull();
      clock.advance(1);
    }
    expect(await queue.stats()).toEqual(expectedStats({ dlq: 1 }));
    clock.advance(3600);
    expect(await queue.reserveNext()).toBeNull();
    const dead = await queue.dlq.list();
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      id: enqueued.id,
      name: "flaky",
      payload: { n: 1 },
      attempts: 5,
      maxAttempts: 5,
      lastError: "failure 5",
    });
  });

  it("records lastError from the failure and shows it on the next attempt", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("x", {});
    const job = await queue.reserveNext();
    await queue.fail(job!, new Error("connection refused"));
    clock.advance(60);
    const again = await queue.reserveNext();
    expect(again?.lastError).toBe("connection refused");
    expect(again?.attempts).toBe(2);
  });

  it("sets availableAt of a retried job to the retry time", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("x", {}, { backoffSeconds: 10 });
    const job = await queue.reserveNext();
    const failedAt = clock.now();
    await queue.fail(job!, new Error("e"));
    clock.advance(10);
    const again = await queue.reserveNext();
    expect(again?.availableAt.getTime()).toBe(failedAt + 10_000);
  });

  it("uses the job's own backoffSeconds and maxAttempts", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("x", {}, { backoffSeconds: 5, maxAttempts: 3 });
    const a1 = await queue.reserveNext();
    await queue.fail(a1!, new Error("1"));
    clock.advance(4.9);
    expect(await queue.reserveNext()).toBeNull();
    clock.advance(0.1);
    const a2 = await queue.reserveNext();
    await queue.fail(a2!, new Error("2"));
    clock.advance(9.9);
    expect(await queue.reserveNext()).toBeNull();
    clock.advance(0.1);
    const a3 = await queue.reserveNext();
    expect(a3?.attempts).toBe(3);
    await queue.fail(a3!, new Error("3"));
    expect(await queue.stats()).toMatchObject({ delayed: 0, dlq: 1 });
    expect((await queue.dlq.list())[0]?.lastError).toBe("3");
  });

  it("maxAttempts 1 dead-letters on the first failure", async () => {
    const { queue } = await ctx.make();
    await queue.enqueue("once", {}, { maxAttempts: 1 });
    await queue.fail((await queue.reserveNext())!, new Error("nope"));
    expect(await queue.stats()).toEqual(expectedStats({ dlq: 1 }));
  });

  it("backoffSeconds 0 retries at once, at the back of the ready list", async () => {
    const { queue } = await ctx.make();
    await queue.enqueue("retry", {}, { backoffSeconds: 0 });
    await queue.enqueue("other", {});
    await queue.fail((await queue.reserveNext())!, new Error("e"));
    expect((await queue.reserveNext())?.name).toBe("other");
    expect((await queue.reserveNext())?.name).toBe("retry");
  });

  it("fail accepts any thrown value, and no value", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("a", {}, { backoffSeconds: 0 });
    await queue.fail((await queue.reserveNext())!, "plain string");
    const again = await queue.reserveNext();
    expect(again?.lastError).toBe("plain string");
    await queue.fail(again!);
    clock.advance(1);
    const third = await queue.reserveNext();
    expect(typeof third?.lastError).toBe("string");
    expect(third?.lastError?.length).toBeGreaterThan(0);
  });

  it("fail by id string works", async () => {
    const { queue } = await ctx.make();
    await queue.enqueue("a", {}, { maxAttempts: 1 });
    const job = await queue.reserveNext();
    await queue.fail(job!.id, new Error("by id"));
    expect((await queue.dlq.list())[0]?.lastError).toBe("by id");
  });
}
