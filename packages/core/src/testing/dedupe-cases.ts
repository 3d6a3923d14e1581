import { expect, it } from "vitest";
import type { SuiteContext } from "./context.js";
import { expectedStats } from "./expected-stats.js";

export function dedupeCases(ctx: SuiteContext): void {
  it("a second enqueue with the same dedupeKey returns the first job and creates nothing", async () => {
    const { queue } = await ctx.make();
    const first = await queue.enqueue("charge", { order: 1 }, { dedupeKey: "order-1" });
    const second = await queue.enqueue("charge", { order: 1 }, { dedupeKey: "order-1" });
    expect(second.id).toBe(first.id);
    expect(second.payload).toEqual({ order: 1 });
    expect(await queue.stats()).toEqual(expectedStats({ ready: 1 }));
  });

  it("different keys make different jobs; no key never dedupes", async () => {
    const { queue } = await ctx.make();
    const a = await queue.enqueue("x", {}, { dedupeKey: "a" });
    const b = await queue.enqueue("x", {}, { dedupeKey: "b" });
    const c = await queue.enqueue("x", {});
    const d = await queue.enqueue("x", {});
    expect(new Set([a.id, b.id, c.id, d.id]).size).toBe(4);
  });

  it("holds for 24 h even after the first job completed, then expires", async () => {
    const { queue, clock } = await ctx.make();
    const first = await queue.enqueue("once", {}, { dedupeKey: "k" });
    await queue.ack((await queue.reserveNext())!);
    clock.advance(23 * 3600);
    const again = await queue.enqueue("once", {}, { dedupeKey: "k" });
    expect(again.id).toBe(first.id);
    expect(await queue.stats()).toEqual(expectedStats());
    clock.advance(3600 + 1);
    const fresh = await queue.enqueue("once", {}, { dedupeKey: "k" });
    expect(fresh.id).not.toBe(first.id);
    expect((await queue.stats()).ready).toBe(1);
  });

  it("returns the first job in its current state", async () => {
    const { queue } = await ctx.make();
    await queue.enqueue("x", { v: 1 }, { dedupeKey: "k" });
    await queue.reserveNext();
    const dup = await queue.enqueue("x", { v: 2 }, { dedupeKey: "k" });
    expect(dup.payload).toEqual({ v: 1 });
    expect(dup.attempts).toBe(1);
    expect(await queue.stats()).toEqual(expectedStats({ processing: 1 }));
  });

  it("dedupes within one enqueueMany and against earlier jobs", async () => {
    const { queue } = await ctx.make();
    const earlier = await queue.enqueue("x", {}, { dedupeKey: "old" });
    const jobs = await queue.enqueueMany([
      { name: "x", payload: { i: 1 }, opts: { dedupeKey: "new" } },
      { name: "x", payload: { i: 2 }, opts: { dedupeKey: "new" } },
      { name: "x", payload: { i: 3 }, opts: { dedupeKey: "old" } },
    ]);
    expect(jobs[1]?.id).toBe(jobs[0]?.id);
    expect(jobs[2]?.id).toBe(earlier.id);
    expect((await queue.stats()).ready).toBe(2);
  });
}
