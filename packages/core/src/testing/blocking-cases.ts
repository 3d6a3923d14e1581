import { expect, it } from "vitest";
import { systemClock } from "../clock.js";
import type { SuiteContext } from "./context.js";

// These cases use real time (short waits), because blocking is about real waiting.
// Upper bounds are generous: they check that a wait ended early, not how fast.
export function blockingCases(ctx: SuiteContext): void {
  it("returns null after blockSeconds when nothing arrives", async () => {
    const { queue } = await ctx.make();
    const started = Date.now();
    expect(await queue.reserveNext({ blockSeconds: 0.3 })).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it("wakes as soon as a job is enqueued", async () => {
    const { queue } = await ctx.make();
    const started = Date.now();
    const pending = queue.reserveNext({ blockSeconds: 10 });
    await new Promise((r) => setTimeout(r, 100));
    const job = await queue.enqueue("wake", { x: 1 });
    const got = await pending;
    expect(got?.id).toBe(job.id);
    expect(got?.attempts).toBe(1);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("wakes when a delayed job falls due", async () => {
    const { queue } = await ctx.make({ clock: systemClock });
    const started = Date.now();
    await queue.enqueue("soon", {}, { delaySeconds: 0.4 });
    const got = await queue.reserveNext({ blockSeconds: 10 });
    expect(got?.name).toBe("soon");
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("gives one enqueued job to exactly one of several blocked reservers", async () => {
    const { queue } = await ctx.make();
    const waits = [0, 1, 2].map(() => queue.reserveNext({ blockSeconds: 1 }));
    await new Promise((r) => setTimeout(r, 100));
    await queue.enqueue("one", {});
    const got = await Promise.all(waits);
    expect(got.filter((j) => j !== null)).toHaveLength(1);
  });

  it("ends the wait early when its AbortSignal fires", async () => {
    const { queue } = await ctx.make();
    const controller = new AbortController();
    const started = Date.now();
    const pending = queue.reserveNext({ blockSeconds: 10, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    expect(await pending).toBeNull();
    expect(Date.now() - started).toBeLessThan(5000);
    // Nothing was lost or reserved by the aborted wait.
    await queue.enqueue("after", {});
    expect((await queue.reserveNext())?.name).toBe("after");
  });

  it("returns a ready job at once without waiting", async () => {
    const { queue } = await ctx.make();
    await queue.enqueue("ready", {});
    const started = Date.now();
    expect((await queue.reserveNext({ blockSeconds: 10 }))?.name).toBe("ready");
    expect(Date.now() - started).toBeLessThan(5000);
  });
}
