import { expect, it } from "vitest";
import type { JobQueue } from "../job-queue.js";
import { type SuiteContext, VT } from "./context.js";
import { expectValidationError, idsOf } from "./control-helpers.js";

// docs/contract.md, "Retention": by default a completed job is deleted at ack and a
// cancelled one at cancel; keepCompleted / keepCancelled keep the newest `count`, none
// older than `ageSeconds`, trimmed as jobs finish.

/** Enqueues, reserves and acks one job named `name`; returns its id. */
async function complete(queue: JobQueue, name: string, result?: unknown): Promise<string> {
  const job = await queue.enqueue(name, {});
  const reserved = await queue.reserveNext();
  expect(reserved?.id).toBe(job.id);
  await queue.ack(reserved!, result === undefined ? undefined : { result: result as never });
  return job.id;
}

export function retentionCases(ctx: SuiteContext): void {
  it("keeps nothing by default: an acked or cancelled job is gone", async () => {
    const { queue } = await ctx.make();
    const done = await complete(queue, "done", { ok: true });
    const waiting = await queue.enqueue("waiting", {});
    expect(await queue.cancel(waiting.id)).toBe(true);
    expect(await queue.getJob(done)).toBeNull();
    expect(await queue.getJob(waiting.id)).toBeNull();
    expect(await queue.listJobs({ state: "completed" })).toEqual({ jobs: [], cursor: null });
    expect(await queue.listJobs({ state: "cancelled" })).toEqual({ jobs: [], cursor: null });
    expect(await queue.stats()).toMatchObject({
      completed: 0,
      cancelled: 0,
      ready: 0,
      processing: 0,
    });
  });

  it("keepCompleted: true keeps completed jobs with finishedAt and the result given to ack", async () => {
    const { queue, clock } = await ctx.make({ options: { keepCompleted: true } });
    const created = clock.now();
    const job = await queue.enqueue("report", { month: 5 }, { priority: 2 });
    const reserved = await queue.reserveNext();
    clock.advance(3);
    const result = { rows: 120, files: ["a.csv", "b.csv"], ok: true, ratio: 0.5, none: null };
    await queue.ack(reserved!, { result });
    expect(await queue.getJob(job.id)).toMatchObject({
      id: job.id,
      name: "report",
      payload: { month: 5 },
      state: "completed",
      attempts: 1,
      priority: 2,
      createdAt: new Date(created),
      finishedAt: new Date(created + 3000),
      result,
    });
    const plain = await complete(queue, "no_result");
    expect(await queue.getJob(plain)).toMatchObject({ state: "completed", result: null });
    const scalar = await complete(queue, "scalar", 42);
    expect((await queue.getJob(scalar))?.result).toBe(42);
    expect(await queue.stats()).toMatchObject({ completed: 3, processing: 0, ready: 0 });
    // Completed jobs are never handed out again.
    expect(await queue.reserveNext()).toBeNull();
  });

  it("keepCompleted { count } keeps only the newest count", async () => {
    const { queue, clock } = await ctx.make({ options: { keepCompleted: { count: 2 } } });
    const ids = [];
    for (const name of ["a", "b", "c", "d"]) {
      ids.push(await complete(queue, name));
      clock.advance(1);
    }
    expect(await idsOf(queue, "completed")).toEqual([ids[3], ids[2]]);
    expect(await queue.getJob(ids[0]!)).toBeNull();
    expect(await queue.getJob(ids[1]!)).toBeNull();
    expect((await queue.stats()).completed).toBe(2);
  });

  it("keepCompleted { ageSeconds } drops jobs older than ageSeconds as later ones finish", async () => {
    const { queue, clock } = await ctx.make({ options: { keepCompleted: { ageSeconds: 60 } } });
    const first = await complete(queue, "first");
    clock.advance(30);
    const second = await complete(queue, "second");
    clock.advance(31); // first is 61 s old, second 31 s
    const third = await complete(queue, "third");
    expect(await queue.getJob(first)).toBeNull();
    expect((await queue.getJob(second))?.state).toBe("completed");
    expect(await idsOf(queue, "completed")).toEqual([third, second]);
    expect((await queue.stats()).completed).toBe(2);
  });

  it("keepCompleted { count, ageSeconds } applies both limits", async () => {
    const { queue, clock } = await ctx.make({
      options: { keepCompleted: { count: 3, ageSeconds: 100 } },
    });
    const ids = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await complete(queue, `n${i}`));
      clock.advance(10);
    }
    expect(await idsOf(queue, "completed")).toEqual([ids[4], ids[3], ids[2]]);
    clock.advance(85); // ids[2] finished 115 s ago, ids[3] 105 s, ids[4] 95 s
    const last = await complete(queue, "last");
    // count drops ids[2] (the 4th newest); ageSeconds drops ids[3] too.
    expect(await idsOf(queue, "completed")).toEqual([last, ids[4]]);
  });

  it("keepCancelled keeps cancelled jobs with finishedAt, by count", async () => {
    const { queue, clock } = await ctx.make({ options: { keepCancelled: { count: 2 } } });
    const jobs = [];
    for (const name of ["a", "b", "c"]) jobs.push(await queue.enqueue(name, {}));
    const start = clock.now();
    for (const job of jobs) {
      clock.advance(1);
      expect(await queue.cancel(job.id, { reason: "not needed" })).toBe(true);
    }
    expect(await queue.getJob(jobs[0]!.id)).toBeNull();
    expect(await queue.getJob(jobs[2]!.id)).toMatchObject({
      state: "cancelled",
      finishedAt: new Date(start + 3000),
      result: null,
    });
    expect(await idsOf(queue, "cancelled")).toEqual([jobs[2]!.id, jobs[1]!.id]);
    expect(await queue.stats()).toMatchObject({ cancelled: 2, completed: 0, ready: 0 });
  });

  it("keepCompleted does not keep cancelled jobs, nor keepCancelled completed ones", async () => {
    const a = await ctx.make({ options: { keepCompleted: true } });
    const gone = await a.queue.enqueue("x", {});
    await a.queue.cancel(gone.id);
    expect(await a.queue.getJob(gone.id)).toBeNull();
    const b = await ctx.make({ options: { keepCancelled: true } });
    const done = await complete(b.queue, "y");
    expect(await b.queue.getJob(done)).toBeNull();
    expect(await b.queue.stats()).toMatchObject({ completed: 0, cancelled: 0 });
  });

  it("ack refuses a result JSON cannot carry, naming opts.result, and keeps the reservation", async () => {
    const { queue } = await ctx.make({ options: { keepCompleted: true } });
    await queue.enqueue("r", {});
    const job = await queue.reserveNext();
    for (const bad of [() => 1, Number.NaN, new Date(0), { at: new Map() }, 10n]) {
      await expectValidationError(() => queue.ack(job!, { result: bad as never }), /^opts\.result/);
    }
    await expectValidationError(() => queue.ack(job!, { results: 1 } as never), /^opts\.results$/);
    expect(await queue.stats()).toMatchObject({ processing: 1, completed: 0 });
    await queue.ack(job!, { result: ["fine"] });
    expect(await queue.getJob(job!.id)).toMatchObject({ state: "completed", result: ["fine"] });
  });

  it("a late ack with a result does not complete a job whose reservation expired", async () => {
    const { queue, clock } = await ctx.make({ options: { keepCompleted: true } });
    await queue.enqueue("slow", {});
    const stale = await queue.reserveNext();
    clock.advance(VT + 1);
    const fresh = await queue.reserveNext();
    expect(fresh?.attempts).toBe(2);
    await queue.ack(stale!, { result: "stale" });
    expect((await queue.getJob(stale!.id))?.state).toBe("processing");
    await queue.ack(fresh!, { result: "fresh" });
    expect(await queue.getJob(stale!.id)).toMatchObject({
      state: "completed",
      result: "fresh",
      attempts: 2,
    });
  });
}
