import { expect, it } from "vitest";
import { type SuiteContext, VT } from "./context.js";
import { expectValidationError } from "./control-helpers.js";

// docs/contract.md, "Cancel": a waiting job leaves the queue at once; a processing job
// is cancelled at once, never retried, never dead, and its worker's late calls change
// nothing; checkReservations tells the worker.

export function cancelCases(ctx: SuiteContext): void {
  it("cancels a ready job: true, gone from ready, never reserved", async () => {
    const { queue } = await ctx.make();
    const job = await queue.enqueue("a", {});
    const other = await queue.enqueue("b", {});
    expect(await queue.cancel(job.id)).toBe(true);
    expect(await queue.getJob(job.id)).toBeNull();
    expect(await queue.stats()).toMatchObject({ ready: 1, cancelled: 0 });
    expect((await queue.reserveNext())?.id).toBe(other.id);
    expect(await queue.reserveNext()).toBeNull();
  });

  it("cancels a delayed job: it never falls due", async () => {
    const { queue, clock } = await ctx.make();
    const job = await queue.enqueue("later", {}, { delaySeconds: 10 });
    expect(await queue.cancel(job.id)).toBe(true);
    expect((await queue.stats()).delayed).toBe(0);
    clock.advance(11);
    expect(await queue.reserveNext()).toBeNull();
    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 0 });
  });

  it("cancels a job waiting for its retry", async () => {
    const { queue, clock } = await ctx.make();
    const job = await queue.enqueue("retry", {}, { backoffSeconds: 5 });
    await queue.fail((await queue.reserveNext())!, new Error("once"));
    expect((await queue.getJob(job.id))?.state).toBe("delayed");
    expect(await queue.cancel(job.id)).toBe(true);
    clock.advance(60);
    expect(await queue.reserveNext()).toBeNull();
  });

  it("cancels a processing job at once: never retried, never dead, late ack/fail/release/extend/progress change nothing", async () => {
    const { queue, clock } = await ctx.make({ options: { keepCancelled: true } });
    const job = await queue.enqueue("long", {}, { maxAttempts: 1 });
    const held = (await queue.reserveNext())!;
    clock.advance(2);
    expect(await queue.cancel(job.id, { reason: "customer withdrew" })).toBe(true);
    expect(await queue.stats()).toMatchObject({ processing: 0, cancelled: 1, dlq: 0 });
    expect(await queue.getJob(job.id)).toMatchObject({ state: "cancelled", attempts: 1 });
    await queue.progress(held, 50);
    await queue.extendVisibility(held, 600);
    await queue.release(held);
    await queue.fail(held, new Error("late failure"));
    await queue.ack(held, { result: "late" });
    await queue.ack(held.id);
    expect(await queue.getJob(job.id)).toMatchObject({
      state: "cancelled",
      progress: null,
      result: null,
      lastError: null,
    });
    expect(await queue.stats()).toMatchObject({
      ready: 0,
      delayed: 0,
      processing: 0,
      dlq: 0,
      completed: 0,
      cancelled: 1,
    });
    clock.advance(VT * 3);
    expect(await queue.reserveNext()).toBeNull();
    expect(await queue.dlq.list()).toEqual([]);
    expect((await queue.getJob(job.id))?.state).toBe("cancelled");
  });

  it("a cancelled processing job is deleted by default, and stays out of every state", async () => {
    const { queue, clock } = await ctx.make();
    const job = await queue.enqueue("x", {});
    const held = (await queue.reserveNext())!;
    expect(await queue.cancel(job.id)).toBe(true);
    await queue.fail(held, new Error("late"));
    expect(await queue.getJob(job.id)).toBeNull();
    clock.advance(VT + 1);
    expect(await queue.reserveNext()).toBeNull();
    expect(await queue.stats()).toMatchObject({
      ready: 0,
      delayed: 0,
      processing: 0,
      dlq: 0,
      cancelled: 0,
    });
  });

  it("returns false for an unknown, dead, completed or already cancelled job", async () => {
    const { queue } = await ctx.make({ options: { keepCompleted: true, keepCancelled: true } });
    expect(await queue.cancel("424242")).toBe(false);
    const dead = await queue.enqueue("dead", {}, { maxAttempts: 1 });
    await queue.fail((await queue.reserveNext())!, new Error("fatal"));
    expect(await queue.cancel(dead.id)).toBe(false);
    expect((await queue.getJob(dead.id))?.state).toBe("dead");
    const done = await queue.enqueue("done", {});
    await queue.ack((await queue.reserveNext())!);
    expect(await queue.cancel(done.id)).toBe(false);
    expect((await queue.getJob(done.id))?.state).toBe("completed");
    const twice = await queue.enqueue("twice", {});
    expect(await queue.cancel(twice.id)).toBe(true);
    expect(await queue.cancel(twice.id)).toBe(false);
    expect(await queue.stats()).toMatchObject({ dlq: 1, completed: 1, cancelled: 1 });
  });

  it("returns false for a job deleted at ack (nothing kept)", async () => {
    const { queue } = await ctx.make();
    const job = await queue.enqueue("done", {});
    await queue.ack((await queue.reserveNext())!);
    expect(await queue.cancel(job.id)).toBe(false);
  });

  it("refuses bad cancel options", async () => {
    const { queue } = await ctx.make();
    const job = await queue.enqueue("a", {});
    await expectValidationError(() => queue.cancel(job.id, { why: "x" } as never), /^opts\.why$/);
    await expectValidationError(
      () => queue.cancel(job.id, { reason: 5 } as never),
      /^opts\.reason$/,
    );
    expect((await queue.getJob(job.id))?.state).toBe("ready");
  });

  it("checkReservations omits held jobs and says cancelled for a cancelled one", async () => {
    const { queue } = await ctx.make();
    for (const name of ["a", "b", "c"]) await queue.enqueue(name, {});
    const [a, b, c] = [
      (await queue.reserveNext())!,
      (await queue.reserveNext())!,
      (await queue.reserveNext())!,
    ];
    expect(await queue.checkReservations([a, b, c])).toEqual([]);
    expect(await queue.checkReservations([])).toEqual([]);
    expect(await queue.cancel(b.id, { reason: "stop" })).toBe(true);
    // With the cancel's reason, for the JobCancelledError the worker gives the handler.
    expect(await queue.checkReservations([a, b, c])).toEqual([
      { id: b.id, status: "cancelled", reason: "stop" },
    ]);
    // By id as well; still "cancelled" (not "lost") until the visibility timeout passed.
    expect(await queue.checkReservations([b.id, c.id])).toEqual([
      { id: b.id, status: "cancelled", reason: "stop" },
    ]);
    // No reason given: null.
    expect(await queue.cancel(c.id)).toBe(true);
    expect(await queue.checkReservations([c])).toEqual([
      { id: c.id, status: "cancelled", reason: null },
    ]);
  });

  it("checkReservations says lost for an expired reservation taken again, and for an unknown job", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("a", {});
    const stale = (await queue.reserveNext())!;
    clock.advance(VT + 1);
    const fresh = (await queue.reserveNext())!;
    expect(fresh.attempts).toBe(2);
    expect(await queue.checkReservations([stale, fresh])).toEqual([
      { id: stale.id, status: "lost" },
    ]);
    expect(await queue.checkReservations([{ id: "987654", attempts: 1 }])).toEqual([
      { id: "987654", status: "lost" },
    ]);
    await queue.ack(fresh);
    expect(await queue.checkReservations([fresh])).toEqual([{ id: fresh.id, status: "lost" }]);
  });

  it("checkReservations says lost, not cancelled, for a stale attempt of a job cancelled later", async () => {
    const { queue, clock } = await ctx.make();
    const job = await queue.enqueue("a", {});
    const stale = (await queue.reserveNext())!;
    clock.advance(VT + 1);
    const fresh = (await queue.reserveNext())!;
    expect(await queue.cancel(job.id)).toBe(true);
    expect(await queue.checkReservations([stale, fresh])).toEqual([
      { id: stale.id, status: "lost" },
      { id: fresh.id, status: "cancelled", reason: null },
    ]);
  });
}
