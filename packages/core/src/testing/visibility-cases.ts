import { expect, it } from "vitest";
import type { SuiteContext } from "./context.js";
import { VT } from "./context.js";
import { expectedStats } from "./expected-stats.js";

export function visibilityCases(ctx: SuiteContext): void {
  it("hands an unacked job out again after the visibility timeout, counting the attempt", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("a", { k: 1 });
    const first = await queue.reserveNext();
    clock.advance(VT);
    const second = await queue.reserveNext();
    expect(second?.id).toBe(first?.id);
    expect(second?.attempts).toBe(2);
    expect(second?.payload).toEqual({ k: 1 });
    expect(second?.lastError).toMatch(/visibility timeout/i);
  });

  it("redelivers an expired reservation exactly once to racing reservers", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("a", {});
    await queue.reserveNext();
    clock.advance(VT + 1);
    const got = await Promise.all(Array.from({ length: 10 }, () => queue.reserveNext()));
    expect(got.filter((j) => j !== null)).toHaveLength(1);
    expect(await queue.stats()).toEqual(expectedStats({ processing: 1 }));
  });

  it("moves a job whose last attempt expired to the DLQ, saying so in lastError", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("hang", {}, { maxAttempts: 2 });
    await queue.reserveNext();
    clock.advance(VT);
    const second = await queue.reserveNext();
    expect(second?.attempts).toBe(2);
    clock.advance(VT);
    expect(await queue.reserveNext()).toBeNull();
    expect(await queue.stats()).toEqual(expectedStats({ dlq: 1 }));
    const [dead] = await queue.dlq.list();
    expect(dead?.attempts).toBe(2);
    expect(dead?.lastError).toMatch(/visibility timeout/i);
  });

  it("extendVisibility keeps a long job reserved past the original timeout", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("long", {});
    const job = await queue.reserveNext();
    clock.advance(VT - 5);
    await queue.extendVisibility(job!, 60);
    clock.advance(59);
    expect(await queue.reserveNext()).toBeNull();
    expect((await queue.stats()).processing).toBe(1);
    clock.advance(1);
    expect((await queue.reserveNext())?.id).toBe(job?.id);
  });

  it("extendVisibility by id string works", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("long", {});
    const job = await queue.reserveNext();
    await queue.extendVisibility(job!.id, VT * 3);
    clock.advance(VT * 2);
    expect(await queue.reserveNext()).toBeNull();
  });

  it("a job acked after its timeout but before anyone took it again is completed", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("slow", {});
    const job = await queue.reserveNext();
    clock.advance(VT + 5);
    await queue.ack(job!);
    const after = await queue.stats();
    const again = await queue.reserveNext();
    // Either the late ack completed it, or it was already requeued and runs again:
    // never both, never lost.
    if (again === null) expect(after).toEqual(expectedStats());
    else expect(again.attempts).toBe(2);
  });
}
