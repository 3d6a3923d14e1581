import { expect, it } from "vitest";
import type { JobQueue } from "../job-queue.js";
import type { SuiteContext } from "./context.js";
import { VT } from "./context.js";
import { expectValidationError } from "./control-helpers.js";

// docs/contract.md, "Priorities": higher runs first, FIFO within one priority; delayed
// jobs, retries and expired reservations re-enter by their priority; release puts a job
// at the front of its priority.

const MAX = 2 ** 31 - 1;

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

export function priorityCases(ctx: SuiteContext): void {
  it("runs higher priorities first and first in, first out within one priority", async () => {
    const { queue } = await ctx.make();
    const plan: [string, number | undefined][] = [
      ["p0-a", undefined],
      ["p5-a", 5],
      ["pm1-a", -1],
      ["p5-b", 5],
      ["p0-b", 0],
      ["p100-a", 100],
      ["pm1-b", -1],
      ["p0-c", undefined],
      ["p5-c", 5],
    ];
    for (const [name, priority] of plan) {
      await queue.enqueue(name, {}, priority === undefined ? {} : { priority });
    }
    expect(await drain(queue)).toEqual([
      "p100-a",
      "p5-a",
      "p5-b",
      "p5-c",
      "p0-a",
      "p0-b",
      "p0-c",
      "pm1-a",
      "pm1-b",
    ]);
  });

  it("accepts the extreme priorities -(2^31 - 1) and 2^31 - 1 and orders them", async () => {
    const { queue } = await ctx.make();
    await queue.enqueue("lowest", {}, { priority: -MAX });
    await queue.enqueue("default", {});
    await queue.enqueue("highest", {}, { priority: MAX });
    await queue.enqueueMany([
      { name: "high-2", payload: {}, opts: { priority: MAX } },
      { name: "low-2", payload: {}, opts: { priority: -MAX } },
    ]);
    expect(await drain(queue)).toEqual(["highest", "high-2", "default", "lowest", "low-2"]);
  });

  it("a delayed job that falls due takes its place by its priority", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("ready-0-a", {});
    await queue.enqueue("delayed-9", {}, { delaySeconds: 5, priority: 9 });
    await queue.enqueue("delayed-0", {}, { delaySeconds: 5 });
    await queue.enqueue("ready-0-b", {});
    await queue.enqueue("ready-3", {}, { priority: 3 });
    clock.advance(5);
    expect(await drain(queue)).toEqual([
      "delayed-9",
      "ready-3",
      "ready-0-a",
      "ready-0-b",
      "delayed-0",
    ]);
  });

  it("a retried job re-enters by its priority when its backoff ends", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("high", {}, { priority: 2, backoffSeconds: 10 });
    const high = await queue.reserveNext();
    expect(high?.name).toBe("high");
    await queue.enqueue("low-a", {});
    await queue.enqueue("low-b", {}, { priority: -4 });
    await queue.fail(high!, new Error("once"));
    expect((await queue.getJob(high!.id))?.state).toBe("delayed");
    clock.advance(10);
    const again = await queue.reserveNext();
    expect(again?.name).toBe("high");
    expect(again?.attempts).toBe(2);
    expect(await drain(queue)).toEqual(["low-a", "low-b"]);
  });

  it("a retry with no backoff re-enters by its priority at once", async () => {
    const { queue } = await ctx.make();
    await queue.enqueue("mid", {}, { priority: 1, backoffSeconds: 0 });
    const mid = await queue.reserveNext();
    await queue.enqueue("low", {}, { priority: 0 });
    await queue.enqueue("mid-later", {}, { priority: 1 });
    await queue.fail(mid!, new Error("again"));
    // Behind the job of its own priority that was already waiting, before lower ones.
    expect(await drain(queue)).toEqual(["mid-later", "mid", "low"]);
  });

  it("an expired reservation re-enters by its priority", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("urgent", {}, { priority: 7 });
    const urgent = await queue.reserveNext();
    expect(urgent?.name).toBe("urgent");
    await queue.enqueue("normal", {});
    await queue.enqueue("urgent-later", {}, { priority: 7 });
    clock.advance(VT + 1);
    expect(await drain(queue)).toEqual(["urgent-later", "urgent", "normal"]);
  });

  it("release puts a job at the front of its own priority, not before higher ones", async () => {
    const { queue } = await ctx.make();
    await queue.enqueue("a1", {}, { priority: 1 });
    await queue.enqueue("b1", {}, { priority: 1 });
    const a1 = await queue.reserveNext();
    expect(a1?.name).toBe("a1");
    await queue.enqueue("c2", {}, { priority: 2 });
    await queue.enqueue("d0", {}, { priority: 0 });
    await queue.release(a1!);
    const order = [];
    for (;;) {
      const job = await queue.reserveNext();
      if (!job) break;
      order.push([job.name, job.attempts]);
    }
    expect(order).toEqual([
      ["c2", 1],
      ["a1", 1],
      ["b1", 1],
      ["d0", 1],
    ]);
  });

  it("a requeued dead job goes back to ready by its priority", async () => {
    const { queue } = await ctx.make();
    await queue.enqueue("dies", {}, { priority: 4, maxAttempts: 1 });
    const dies = await queue.reserveNext();
    await queue.fail(dies!, new Error("fatal"));
    await queue.enqueue("waiting", {});
    expect(await queue.dlq.requeue(dies!.id)).toBe(true);
    expect(await queue.getJob(dies!.id)).toMatchObject({
      state: "ready",
      attempts: 0,
      priority: 4,
    });
    expect(await drain(queue)).toEqual(["dies", "waiting"]);
  });

  it("shows each job's priority in getJob and listJobs, 0 by default", async () => {
    const { queue } = await ctx.make();
    const a = await queue.enqueue("a", {});
    const b = await queue.enqueue("b", {}, { priority: -3 });
    const c = await queue.enqueue("c", {}, { priority: 12, delaySeconds: 60 });
    expect((await queue.getJob(a.id))?.priority).toBe(0);
    expect((await queue.getJob(b.id))?.priority).toBe(-3);
    expect((await queue.getJob(c.id))?.priority).toBe(12);
    const page = await queue.listJobs({ state: "ready" });
    expect(page.jobs.map((j) => [j.name, j.priority])).toEqual([
      ["a", 0],
      ["b", -3],
    ]);
  });

  it("refuses a priority that is not an integer in range, naming opts.priority", async () => {
    const { queue } = await ctx.make();
    for (const bad of [
      1.5,
      "1",
      Number.NaN,
      Number.POSITIVE_INFINITY,
      2 ** 31,
      -(2 ** 31),
      null,
      true,
    ]) {
      await expectValidationError(
        () => queue.enqueue("p", {}, { priority: bad as number }),
        /^opts\.priority$/,
      );
    }
    await expectValidationError(
      () =>
        queue.enqueueMany([
          { name: "ok", payload: {} },
          { name: "bad", payload: {}, opts: { priority: 0.5 } },
        ]),
      /^items\[1\]\.opts\.priority$/,
    );
    await expectValidationError(() => queue.enqueue("p", {}, { prio: 1 } as never), /^opts\.prio$/);
    // Nothing was written by the refused calls.
    expect((await queue.stats()).ready).toBe(0);
  });
}
