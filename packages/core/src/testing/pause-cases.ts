import { expect, it } from "vitest";
import { type SuiteContext, VT } from "./context.js";
import { sleep, within } from "./control-helpers.js";

// docs/contract.md, "Pause": while paused, reserves return nothing (blocking reserves
// keep waiting and wake on resume), running jobs finish, and everything else works.

export function pauseCases(ctx: SuiteContext): void {
  it("pause stops reserves while enqueue, ack and fail keep working; resume restarts them", async () => {
    const { queue } = await ctx.make();
    await queue.enqueue("running", {});
    await queue.enqueue("failing", {}, { backoffSeconds: 0 });
    const running = (await queue.reserveNext())!;
    const failing = (await queue.reserveNext())!;
    expect(await queue.isPaused()).toBe(false);
    expect((await queue.stats()).paused).toBe(false);

    await queue.pause();
    expect(await queue.isPaused()).toBe(true);
    expect((await queue.stats()).paused).toBe(true);
    const waiting = await queue.enqueue("waiting", {});
    expect(await queue.reserveNext()).toBeNull();
    await queue.ack(running);
    await queue.fail(failing, new Error("boom")); // no backoff: ready again at once
    expect(await queue.reserveNext()).toBeNull();
    expect(await queue.stats()).toMatchObject({ ready: 2, processing: 0, paused: true });
    expect((await queue.getJob(waiting.id))?.state).toBe("ready");

    await queue.pause(); // twice is fine
    await queue.resume();
    expect(await queue.isPaused()).toBe(false);
    expect((await queue.stats()).paused).toBe(false);
    expect((await queue.reserveNext())?.id).toBe(waiting.id);
    expect((await queue.reserveNext())?.name).toBe("failing");
    await queue.resume(); // resume of a running queue is fine
    expect(await queue.isPaused()).toBe(false);
  });

  it("delayed jobs and expired reservations still move while paused, and run after resume", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("held", {});
    await queue.reserveNext();
    await queue.enqueue("later", {}, { delaySeconds: 5 });
    await queue.pause();
    clock.advance(VT + 1);
    expect(await queue.reserveNext()).toBeNull();
    expect(await queue.stats()).toMatchObject({
      ready: 2,
      delayed: 0,
      processing: 0,
      paused: true,
    });
    await queue.resume();
    const names = [(await queue.reserveNext())?.name, (await queue.reserveNext())?.name];
    expect(names.sort()).toEqual(["held", "later"]);
  });

  it("cancel, listJobs and the DLQ work while paused", async () => {
    const { queue } = await ctx.make();
    const a = await queue.enqueue("a", {});
    const b = await queue.enqueue("b", {});
    await queue.pause();
    expect(await queue.cancel(a.id)).toBe(true);
    expect((await queue.listJobs({ state: "ready" })).jobs.map((j) => j.id)).toEqual([b.id]);
    expect(await queue.dlq.list()).toEqual([]);
    await queue.resume();
    expect((await queue.reserveNext())?.id).toBe(b.id);
  });

  it("is stored in the backend: a second queue object on the same storage sees it", async () => {
    const { queue } = await ctx.make();
    const twin = await ctx.reopen(queue);
    if (twin === null) return; // in-memory: the storage is the object itself
    await queue.enqueue("a", {});
    await queue.pause();
    expect(await twin.isPaused()).toBe(true);
    expect((await twin.stats()).paused).toBe(true);
    expect(await twin.reserveNext()).toBeNull();
    await twin.resume();
    expect(await queue.isPaused()).toBe(false);
    expect((await queue.reserveNext())?.name).toBe("a");
  });

  if (ctx.options.features?.blocking !== false) {
    it("a blocking reserve keeps waiting while paused and wakes at once on resume", async () => {
      const { queue } = await ctx.make();
      await queue.pause();
      const job = await queue.enqueue("wake", {});
      let settled = false;
      const pending = queue.reserveNext({ blockSeconds: 10 }).finally(() => {
        settled = true;
      });
      await sleep(400);
      expect(settled, "the reserve returned while the queue was paused").toBe(false);
      const resumedAt = Date.now();
      await queue.resume();
      const got = await within(pending, 5000, "the blocked reserve to wake on resume");
      expect(got?.id).toBe(job.id);
      expect(Date.now() - resumedAt).toBeLessThan(3000);
    });

    it("a blocking reserve on a paused queue returns null when blockSeconds end", async () => {
      const { queue } = await ctx.make();
      await queue.enqueue("waiting", {});
      await queue.pause();
      const started = Date.now();
      expect(await queue.reserveNext({ blockSeconds: 0.3 })).toBeNull();
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect((await queue.stats()).ready).toBe(1);
    });
  }
}
