import {
  InMemoryJobQueue,
  type JobEvent,
  type JobQueue,
  type JobSettledEvent,
  JobValidationError,
  processOne,
  WorkerRunner,
} from "@svc-jobs/core";
import { describe, expect, it } from "vitest";
import { tick, until } from "./helpers/wait.js";

// docs/contract.md, "Seeing and controlling jobs", Progress: a handler calls
// ctx.progress(value); the latest value is JobInfo.progress and each call emits a
// progress event.

function collectEvents(queue: JobQueue): { events: JobEvent[]; stop: () => void } {
  const events: JobEvent[] = [];
  const controller = new AbortController();
  void (async () => {
    for await (const event of queue.events({ signal: controller.signal })) events.push(event);
  })();
  return { events, stop: () => controller.abort() };
}

describe("ctx.progress", () => {
  it("WorkerRunner: stores the latest value on the job and emits each one as an event", async () => {
    const queue = new InMemoryJobQueue();
    const { events, stop } = collectEvents(queue);
    const job = await queue.enqueue("import", { rows: 3 });
    let carryOn: (() => void) | undefined;
    const runner = new WorkerRunner(
      queue,
      async (_job, { progress }) => {
        await progress(0);
        await progress({ done: 1, of: 3 });
        await progress({ done: 2, of: 3, note: "halfway" });
        await new Promise<void>((resolve) => {
          carryOn = resolve;
        });
      },
      { pollIntervalSeconds: 0.05 },
    );
    runner.start();
    await until(() => carryOn !== undefined);
    expect(await queue.getJob(job.id)).toMatchObject({
      state: "processing",
      progress: { done: 2, of: 3, note: "halfway" },
    });
    carryOn?.();
    await until(async () => (await queue.stats()).processing === 0);
    await runner.stop();
    await tick(10);
    stop();
    const progress = events.filter((e) => e.type === "progress");
    expect(progress.map((e) => [e.jobId, e.name, e.progress])).toEqual([
      [job.id, "import", 0],
      [job.id, "import", { done: 1, of: 3 }],
      [job.id, "import", { done: 2, of: 3, note: "halfway" }],
    ]);
  });

  it("stores a copy: changing the object afterwards changes nothing", async () => {
    const queue = new InMemoryJobQueue();
    const job = await queue.enqueue("a", {});
    let carryOn: (() => void) | undefined;
    const done = processOne(queue, async (_job, ctx) => {
      const report = { done: 1 };
      await ctx.progress(report);
      report.done = 99;
      await new Promise<void>((resolve) => {
        carryOn = resolve;
      });
    });
    await until(() => carryOn !== undefined);
    expect((await queue.getJob(job.id))?.progress).toEqual({ done: 1 });
    carryOn?.();
    await done;
  });

  it("processOne: the same, through the handler's context", async () => {
    const queue = new InMemoryJobQueue({ keepCompleted: true });
    const job = await queue.enqueue("a", {});
    await processOne(queue, async (_job, { progress }) => {
      await progress("step 1");
      await progress(100);
    });
    expect(await queue.getJob(job.id)).toMatchObject({ state: "completed", progress: 100 });
  });

  it("rejects a value that is not JSON with a JobValidationError; the handler may carry on", async () => {
    const queue = new InMemoryJobQueue({ keepCompleted: true });
    const job = await queue.enqueue("a", {});
    const errors: unknown[] = [];
    const settled: JobSettledEvent[] = [];
    await processOne(
      queue,
      async (_job, { progress }) => {
        for (const bad of [undefined, () => 1, 10n, Number.NaN, new Map()]) {
          await progress(bad as never).catch((error: unknown) => errors.push(error));
        }
        await progress(7);
      },
      { onJobSettled: (e) => settled.push(e) },
    );
    expect(errors).toHaveLength(5);
    for (const error of errors) expect(error).toBeInstanceOf(JobValidationError);
    expect(settled.map((e) => e.outcome)).toEqual(["completed"]);
    expect((await queue.getJob(job.id))?.progress).toBe(7);
  });

  it("once the job has ended for the worker (a timeout), a late progress sends nothing", async () => {
    const queue = new InMemoryJobQueue();
    const { events, stop } = collectEvents(queue);
    const job = await queue.enqueue("slow", {}, { maxAttempts: 1 });
    let report: ((value: number) => Promise<void>) | undefined;
    await processOne(
      queue,
      async (_job, { progress }) => {
        report = progress;
        await progress(1);
        await new Promise(() => {});
      },
      { timeoutSeconds: 0.05 },
    );
    await report?.(2);
    await tick(10);
    stop();
    expect(events.filter((e) => e.type === "progress").map((e) => e.progress)).toEqual([1]);
    expect(events.filter((e) => e.jobId === job.id).map((e) => e.type)).toContain("dead");
  });
});
