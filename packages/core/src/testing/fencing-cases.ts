import { expect, it } from "vitest";
import type { SuiteContext } from "./context.js";
import { VT } from "./context.js";
import { expectedStats } from "./expected-stats.js";

export function fencingCases(ctx: SuiteContext): void {
  async function expiredThenRetaken(ctxMake: SuiteContext["make"]) {
    const { queue, clock } = await ctxMake();
    await queue.enqueue("a", { v: 1 });
    const stale = await queue.reserveNext();
    clock.advance(VT + 1);
    const fresh = await queue.reserveNext();
    expect(fresh?.id).toBe(stale?.id);
    expect(fresh?.attempts).toBe(2);
    return { queue, clock, stale: stale!, fresh: fresh! };
  }

  it("a late ack from an expired reservation leaves the newer reservation alone", async () => {
    const { queue, clock, stale, fresh } = await expiredThenRetaken(ctx.make);
    await queue.ack(stale);
    expect(await queue.stats()).toEqual(expectedStats({ processing: 1 }));
    // The newer reservation still expires normally, and its own ack works.
    await queue.ack(fresh);
    expect(await queue.stats()).toEqual(expectedStats());
    clock.advance(VT * 2);
    expect(await queue.reserveNext()).toBeNull();
  });

  it("a late fail from an expired reservation leaves the newer reservation alone", async () => {
    const { queue, clock, stale, fresh } = await expiredThenRetaken(ctx.make);
    await queue.fail(stale, new Error("stale failure"));
    expect(await queue.stats()).toEqual(expectedStats({ processing: 1 }));
    await queue.fail(fresh, new Error("fresh failure"));
    clock.advance(120);
    const third = await queue.reserveNext();
    expect(third?.attempts).toBe(3);
    expect(third?.lastError).toBe("fresh failure");
  });

  it("a late extendVisibility does not extend the newer reservation", async () => {
    const { queue, clock, stale } = await expiredThenRetaken(ctx.make);
    await queue.extendVisibility(stale, VT * 10);
    clock.advance(VT);
    const fourth = await queue.reserveNext();
    expect(fourth?.attempts).toBe(3);
  });

  it("a late release does not hand back the newer reservation", async () => {
    const { queue, stale } = await expiredThenRetaken(ctx.make);
    await queue.release(stale);
    expect(await queue.stats()).toEqual(expectedStats({ processing: 1 }));
  });
}
