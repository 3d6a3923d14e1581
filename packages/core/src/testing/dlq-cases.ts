import { expect, it } from "vitest";
import type { JobQueue } from "../job-queue.js";
import type { SuiteContext } from "./context.js";
import { expectedStats } from "./expected-stats.js";

async function killJobs(queue: JobQueue, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push((await queue.enqueue(`dead${i}`, { i }, { maxAttempts: 1 })).id);
  }
  for (let i = 0; i < n; i++) {
    const job = await queue.reserveNext();
    await queue.fail(job!, new Error(`error ${job!.payload.i}`));
  }
  return ids;
}

export function dlqCases(ctx: SuiteContext): void {
  it("list shows dead jobs oldest first with their last error, paged by limit and offset", async () => {
    const { queue } = await ctx.make();
    const ids = await killJobs(queue, 5);
    const all = await queue.dlq.list();
    expect(all.map((j) => j.id)).toEqual(ids);
    expect(all.map((j) => j.lastError)).toEqual([
      "error 0",
      "error 1",
      "error 2",
      "error 3",
      "error 4",
    ]);
    expect((await queue.dlq.list({ limit: 2 })).map((j) => j.id)).toEqual(ids.slice(0, 2));
    expect((await queue.dlq.list({ limit: 2, offset: 2 })).map((j) => j.id)).toEqual(
      ids.slice(2, 4),
    );
    expect(await queue.dlq.list({ offset: 10 })).toEqual([]);
  });

  it("requeue moves a dead job back to ready with attempts reset", async () => {
    const { queue } = await ctx.make();
    const [id] = await killJobs(queue, 1);
    expect(await queue.dlq.requeue(id!)).toBe(true);
    expect(await queue.stats()).toEqual(expectedStats({ ready: 1 }));
    const job = await queue.reserveNext();
    expect(job?.id).toBe(id);
    expect(job?.attempts).toBe(1);
    expect(job?.payload).toEqual({ i: 0 });
    // A full set of attempts again: with maxAttempts 1 the next failure is final.
    await queue.fail(job!, new Error("again"));
    expect((await queue.dlq.list())[0]?.lastError).toBe("again");
  });

  it("requeue of an id not in the DLQ returns false and changes nothing", async () => {
    const { queue } = await ctx.make();
    const live = await queue.enqueue("live", {});
    expect(await queue.dlq.requeue("12345")).toBe(false);
    expect(await queue.dlq.requeue(live.id)).toBe(false);
    expect(await queue.stats()).toEqual(expectedStats({ ready: 1 }));
  });

  it("requeueAll moves every dead job back, in order", async () => {
    const { queue } = await ctx.make();
    const ids = await killJobs(queue, 3);
    expect(await queue.dlq.requeueAll()).toBe(3);
    expect(await queue.stats()).toEqual(expectedStats({ ready: 3 }));
    const order = [];
    for (let i = 0; i < 3; i++) order.push((await queue.reserveNext())?.id);
    expect(order).toEqual(ids);
    expect(await queue.dlq.requeueAll()).toBe(0);
  });

  it("purge deletes every dead job and leaves live ones", async () => {
    const { queue } = await ctx.make();
    const [deadId] = await killJobs(queue, 4);
    await queue.enqueue("live", {});
    expect(await queue.dlq.purge()).toBe(4);
    expect(await queue.dlq.list()).toEqual([]);
    expect(await queue.stats()).toEqual(expectedStats({ ready: 1 }));
    expect(await queue.dlq.requeue(deadId!)).toBe(false);
    expect(await queue.dlq.purge()).toBe(0);
  });
}
