import { expect, it } from "vitest";
import type { SuiteContext } from "./context.js";
import { VT } from "./context.js";
import { expectedStats } from "./expected-stats.js";

export function reserveCases(ctx: SuiteContext): void {
  it("returns null on an empty queue", async () => {
    const { queue } = await ctx.make();
    expect(await queue.reserveNext()).toBeNull();
  });

  it("hands out ready jobs first in, first out", async () => {
    const { queue } = await ctx.make();
    for (const n of ["a", "b", "c", "d", "e"]) await queue.enqueue(n, {});
    const got = [];
    for (let i = 0; i < 5; i++) got.push((await queue.reserveNext())?.name);
    expect(got).toEqual(["a", "b", "c", "d", "e"]);
    expect(await queue.reserveNext()).toBeNull();
  });

  it("counts the attempt at reserve", async () => {
    const { queue } = await ctx.make();
    await queue.enqueue("a", {});
    const job = await queue.reserveNext();
    expect(job?.attempts).toBe(1);
    expect(job?.lastError).toBeNull();
  });

  it("does not hand a reserved job out again before its visibility timeout", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("a", {});
    expect(await queue.reserveNext()).not.toBeNull();
    expect(await queue.reserveNext()).toBeNull();
    clock.advance(VT - 1);
    expect(await queue.reserveNext()).toBeNull();
    expect((await queue.stats()).processing).toBe(1);
  });

  it("gives each of many concurrent reservers a different job", async () => {
    const { queue } = await ctx.make();
    for (let i = 0; i < 20; i++) await queue.enqueue("j", { i });
    const got = await Promise.all(Array.from({ length: 30 }, () => queue.reserveNext()));
    const ids = got.filter((j) => j !== null).map((j) => j.id);
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
  });

  it("ack completes a job: it is gone from every state", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("a", {});
    const job = await queue.reserveNext();
    await queue.ack(job!);
    expect(await queue.stats()).toEqual(expectedStats());
    clock.advance(VT * 10);
    expect(await queue.reserveNext()).toBeNull();
  });

  it("ack by id string works", async () => {
    const { queue } = await ctx.make();
    await queue.enqueue("a", {});
    const job = await queue.reserveNext();
    await queue.ack(job!.id);
    expect((await queue.stats()).processing).toBe(0);
  });

  it("ack twice, or of an unknown id, is harmless", async () => {
    const { queue } = await ctx.make();
    await queue.enqueue("a", {});
    await queue.enqueue("b", {});
    const job = await queue.reserveNext();
    await queue.ack(job!);
    await queue.ack(job!);
    await queue.ack("999");
    await queue.fail("999", new Error("x"));
    expect(await queue.stats()).toEqual(expectedStats({ ready: 1 }));
  });

  it("ack of a job that is ready (not reserved) changes nothing", async () => {
    const { queue } = await ctx.make();
    const job = await queue.enqueue("a", {});
    await queue.ack(job.id);
    expect((await queue.reserveNext())?.id).toBe(job.id);
  });

  it("delays: not reservable before delaySeconds, reservable from then on", async () => {
    const { queue, clock } = await ctx.make();
    const start = clock.now();
    const job = await queue.enqueue("later", { x: 1 }, { delaySeconds: 300 });
    expect(job.availableAt.getTime()).toBe(start + 300_000);
    expect(await queue.reserveNext()).toBeNull();
    clock.advance(299);
    expect(await queue.reserveNext()).toBeNull();
    expect((await queue.stats()).delayed).toBe(1);
    clock.advance(1);
    const got = await queue.reserveNext();
    expect(got?.id).toBe(job.id);
    expect(got?.payload).toEqual({ x: 1 });
  });

  it("delays accept fractions of a second", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("later", {}, { delaySeconds: 1.5 });
    clock.advance(1.4);
    expect(await queue.reserveNext()).toBeNull();
    clock.advance(0.1);
    expect(await queue.reserveNext()).not.toBeNull();
  });

  it("delayed jobs become ready in due order, behind jobs already ready", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("late", {}, { delaySeconds: 20 });
    await queue.enqueue("early", {}, { delaySeconds: 10 });
    await queue.enqueue("now", {});
    clock.advance(30);
    const order = [];
    for (let i = 0; i < 3; i++) order.push((await queue.reserveNext())?.name);
    expect(order).toEqual(["now", "early", "late"]);
  });

  it("release hands a reserved job back to the front without counting the attempt", async () => {
    const { queue } = await ctx.make();
    await queue.enqueue("a", {});
    await queue.enqueue("b", {});
    const a = await queue.reserveNext();
    await queue.release(a!);
    expect(await queue.stats()).toEqual(expectedStats({ ready: 2 }));
    const again = await queue.reserveNext();
    expect(again?.name).toBe("a");
    expect(again?.attempts).toBe(1);
  });
}
