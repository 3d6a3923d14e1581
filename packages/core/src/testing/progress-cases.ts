import { expect, it } from "vitest";
import { type SuiteContext, VT } from "./context.js";
import { expectValidationError, listen } from "./control-helpers.js";

// docs/contract.md, "Progress": the latest value is JobInfo.progress, each call emits a
// `progress` event, and queue.progress is fenced like ack.

export function progressCases(ctx: SuiteContext): void {
  it("stores the latest progress value on the job and emits a progress event for each call", async () => {
    const { queue, clock } = await ctx.make();
    const job = await queue.enqueue("upload", {});
    const reserved = (await queue.reserveNext())!;
    const listener = await listen(queue);
    await queue.progress(reserved, { pct: 10, stage: "reading" });
    expect((await queue.getJob(job.id))?.progress).toEqual({ pct: 10, stage: "reading" });
    clock.advance(1);
    await queue.progress(reserved.id, 55);
    expect((await queue.getJob(job.id))?.progress).toBe(55);
    const events = await listener.take(2);
    expect(events.map((e) => [e.type, e.jobId, e.name, e.progress])).toEqual([
      ["progress", job.id, "upload", { pct: 10, stage: "reading" }],
      ["progress", job.id, "upload", 55],
    ]);
    expect(events[1]!.at.getTime()).toBe(clock.now());
    const page = await queue.listJobs({ state: "processing" });
    expect(page.jobs[0]?.progress).toBe(55);
  });

  it("is fenced like ack: a stale or finished reservation changes nothing and does not throw", async () => {
    const { queue, clock } = await ctx.make({ options: { keepCompleted: true } });
    const job = await queue.enqueue("slow", {});
    const stale = (await queue.reserveNext())!;
    await queue.progress(stale, "first");
    clock.advance(VT + 1);
    const fresh = (await queue.reserveNext())!;
    expect(fresh.attempts).toBe(2);
    await queue.progress(fresh, "fresh");
    await queue.progress(stale, "stale");
    expect((await queue.getJob(job.id))?.progress).toBe("fresh");
    await queue.ack(fresh);
    await queue.progress(fresh, "after ack");
    await queue.progress(fresh.id, "after ack, by id");
    expect(await queue.getJob(job.id)).toMatchObject({ state: "completed", progress: "fresh" });
    // A job that is only waiting takes no progress either.
    const waiting = await queue.enqueue("waiting", {});
    await queue.progress(waiting.id, 1);
    expect((await queue.getJob(waiting.id))?.progress).toBeNull();
  });

  it("a fenced progress call emits no event", async () => {
    const { queue } = await ctx.make();
    await queue.enqueue("a", {});
    const job = (await queue.reserveNext())!;
    await queue.ack(job);
    const listener = await listen(queue);
    await queue.progress(job, 99);
    const marker = await queue.enqueue("marker", {});
    const [next] = await listener.take(1);
    expect(next).toMatchObject({ type: "enqueued", jobId: marker.id });
  });

  it("refuses a value JSON cannot carry, and leaves the stored progress alone", async () => {
    const { queue } = await ctx.make();
    const job = await queue.enqueue("p", {});
    const reserved = (await queue.reserveNext())!;
    await queue.progress(reserved, [1, 2]);
    for (const bad of [
      undefined,
      Number.NaN,
      () => 0,
      new Date(0),
      { deep: { x: Number.POSITIVE_INFINITY } },
    ]) {
      await expectValidationError(() => queue.progress(reserved, bad as never), /^value/);
    }
    expect((await queue.getJob(job.id))?.progress).toEqual([1, 2]);
  });
}
