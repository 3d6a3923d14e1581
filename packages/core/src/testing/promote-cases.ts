import { expect, it } from "vitest";
import type { JobQueue } from "../job-queue.js";
import { type SuiteContext, VT } from "./context.js";
import { expectValidationError } from "./control-helpers.js";

// docs/contract.md, "Seeing and controlling jobs": `promote(id)` makes a delayed job
// ready now (availableAt = now), in its place by its priority; false for any job that is
// not delayed.

/** The names of every job reserved until none is left (each reservation is acked). */
async function drain(queue: JobQueue): Promise<string[]> {
  const names: string[] = [];
  for (;;) {
    const job = await queue.reserveNext();
    if (!job) return names;
    names.push(job.name);
    await queue.ack(job);
    if (names.length > 1000) throw new Error("the queue never ran dry");
  }
}

export function promoteCases(ctx: SuiteContext): void {
  it("makes a delayed job ready now: availableAt = now, reserved without waiting", async () => {
    const { queue, clock } = await ctx.make();
    const job = await queue.enqueue("later", { x: 1 }, { delaySeconds: 3600 });
    clock.advance(5);
    expect(await queue.promote(job.id)).toBe(true);
    const info = await queue.getJob(job.id);
    expect(info).toMatchObject({ state: "ready", attempts: 0 });
    expect(info?.availableAt.getTime()).toBe(clock.now());
    expect(await queue.stats()).toMatchObject({ ready: 1, delayed: 0 });
    const got = await queue.reserveNext();
    expect(got?.id).toBe(job.id);
    expect(got?.payload).toEqual({ x: 1 });
    // Once promoted, it is not delayed any more: a second promote says false.
    expect(await queue.promote(job.id)).toBe(false);
  });

  it("takes its place by its priority, behind the ready jobs of its priority", async () => {
    const { queue } = await ctx.make();
    await queue.enqueue("p0-a", {});
    const high = await queue.enqueue("later-p5", {}, { delaySeconds: 60, priority: 5 });
    const same = await queue.enqueue("later-p0", {}, { delaySeconds: 60 });
    await queue.enqueue("p0-b", {});
    await queue.enqueue("pm1", {}, { priority: -1 });
    expect(await queue.promote(same.id)).toBe(true);
    expect(await queue.promote(high.id)).toBe(true);
    expect(await drain(queue)).toEqual(["later-p5", "p0-a", "p0-b", "later-p0", "pm1"]);
  });

  it("promotes a job waiting for its retry, keeping its attempts and last error", async () => {
    const { queue } = await ctx.make();
    const job = await queue.enqueue("flaky", {}, { backoffSeconds: 600 });
    await queue.fail((await queue.reserveNext())!, new Error("503"));
    expect((await queue.getJob(job.id))?.state).toBe("delayed");
    expect(await queue.promote(job.id)).toBe(true);
    const again = await queue.reserveNext();
    expect(again).toMatchObject({ id: job.id, attempts: 2, lastError: "503" });
  });

  it("promotes a job released with a delay, and a delayed job of a group into its group", async () => {
    const { queue } = await ctx.make();
    await queue.setGroupLimits({ concurrency: 1 });
    const released = await queue.enqueue("released", {});
    await queue.release((await queue.reserveNext())!, { delaySeconds: 300 });
    expect(await queue.promote(released.id)).toBe(true);
    expect((await queue.reserveNext())?.id).toBe(released.id);

    const g1 = await queue.enqueue("g1", {}, { group: "g" });
    const g2 = await queue.enqueue("g2", {}, { group: "g", delaySeconds: 300 });
    const held = (await queue.reserveNext())!;
    expect(held.id).toBe(g1.id);
    expect(await queue.promote(g2.id)).toBe(true);
    expect(await queue.getJob(g2.id)).toMatchObject({ state: "ready", group: "g" });
    // Promoted into its group, it still waits for the group's free slot.
    expect(await queue.reserveNext()).toBeNull();
    await queue.ack(held);
    expect((await queue.reserveNext())?.id).toBe(g2.id);
  });

  it("returns false for an unknown, ready, processing, dead, completed or cancelled job, changing nothing", async () => {
    const { queue } = await ctx.make({
      options: { keepCompleted: true, keepCancelled: true },
    });
    expect(await queue.promote("424242")).toBe(false);
    const ready = await queue.enqueue("ready", {});
    expect(await queue.promote(ready.id)).toBe(false);
    expect(await queue.getJob(ready.id)).toMatchObject({ state: "ready" });

    const processing = (await queue.reserveNext())!;
    expect(await queue.promote(processing.id)).toBe(false);
    expect(await queue.getJob(processing.id)).toMatchObject({ state: "processing", attempts: 1 });
    await queue.ack(processing);
    expect(await queue.promote(processing.id)).toBe(false);
    expect((await queue.getJob(processing.id))?.state).toBe("completed");

    const dead = await queue.enqueue("dead", {}, { maxAttempts: 1 });
    await queue.fail((await queue.reserveNext())!, new Error("fatal"));
    expect(await queue.promote(dead.id)).toBe(false);
    expect((await queue.getJob(dead.id))?.state).toBe("dead");

    const cancelled = await queue.enqueue("cancelled", {}, { delaySeconds: 60 });
    expect(await queue.cancel(cancelled.id)).toBe(true);
    expect(await queue.promote(cancelled.id)).toBe(false);
    expect((await queue.getJob(cancelled.id))?.state).toBe("cancelled");

    expect(await queue.stats()).toMatchObject({
      ready: 0,
      delayed: 0,
      processing: 0,
      dlq: 1,
      completed: 1,
      cancelled: 1,
    });
  });

  it("returns false for a delayed job that fell due: it is ready, as getJob says", async () => {
    const { queue, clock } = await ctx.make();
    const due = await queue.enqueue("due", {}, { delaySeconds: 5 });
    clock.advance(5);
    expect(await queue.promote(due.id)).toBe(false);
    expect((await queue.getJob(due.id))?.state).toBe("ready");
    expect(await queue.stats()).toMatchObject({ ready: 1, delayed: 0 });
  });

  it("returns false for a job whose reservation expired and that is ready again", async () => {
    const { queue, clock } = await ctx.make();
    const job = await queue.enqueue("a", {});
    await queue.reserveNext();
    clock.advance(VT + 1);
    expect(await queue.promote(job.id)).toBe(false);
    expect((await queue.getJob(job.id))?.state).toBe("ready");
  });

  it("refuses an id that is not a non-empty string", async () => {
    const { queue } = await ctx.make();
    for (const bad of ["", 5, null, undefined, {}]) {
      await expectValidationError(() => queue.promote(bad as string), /^id$/);
    }
  });

  it("works while the queue is paused: the promoted job waits ready until resume", async () => {
    const { queue } = await ctx.make();
    const job = await queue.enqueue("later", {}, { delaySeconds: 60 });
    await queue.pause();
    expect(await queue.promote(job.id)).toBe(true);
    expect(await queue.reserveNext()).toBeNull();
    expect((await queue.getJob(job.id))?.state).toBe("ready");
    await queue.resume();
    expect((await queue.reserveNext())?.id).toBe(job.id);
  });
}
