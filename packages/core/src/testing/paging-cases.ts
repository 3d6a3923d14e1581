import { expect, it } from "vitest";
import type { JobInfo } from "../control.js";
import type { Job } from "../job.js";
import type { SuiteContext } from "./context.js";
import { listAll } from "./control-helpers.js";

// docs/contract.md, "Listing": paging by cursor never skips or repeats a job that stays
// in the state while the queue changes underneath. Each case pages through one state
// while jobs enter and leave it between pages, then checks that every job that stayed
// was listed exactly once and in the state's order, and that nothing was listed twice.

/**
 * `listed`: what the pages returned; `stayers`: the jobs that were in the state from the
 * first page to the last, in the state's order; `everIn`: every job that was in the state
 * at some point.
 */
function expectExactPaging(
  listed: JobInfo[],
  pages: number,
  stayers: string[],
  everIn: Set<string>,
): void {
  expect(pages, "the case needs several pages").toBeGreaterThanOrEqual(4);
  expect(stayers.length, "the case needs jobs that stay").toBeGreaterThanOrEqual(5);
  const ids = listed.map((j) => j.id);
  const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
  expect(repeated, "jobs listed twice").toEqual([]);
  const stay = new Set(stayers);
  expect(
    stayers.filter((id) => !ids.includes(id)),
    "jobs that stayed in the state but were skipped",
  ).toEqual([]);
  expect(
    ids.filter((id) => stay.has(id)),
    "the jobs that stayed, in the state's order",
  ).toEqual(stayers);
  expect(
    ids.filter((id) => !everIn.has(id)),
    "jobs listed that were never in the state",
  ).toEqual([]);
}

export function pagingCases(ctx: SuiteContext): void {
  it("ready: no skips or repeats while jobs are enqueued (before and after the cursor), reserved, acked and cancelled", async () => {
    const { queue } = await ctx.make();
    const initial: Job[] = [];
    for (let i = 0; i < 40; i++) {
      initial.push(await queue.enqueue(`job${i % 4}`, { i }, { priority: i % 3 }));
    }
    const everIn = new Set(initial.map((j) => j.id));
    const left = new Set<string>();
    // The end of the run order: priority 0, latest first, not listed before the last pages.
    const lateZero = initial.filter((j) => Number(j.payload.i) % 3 === 0).reverse();
    const { jobs, pages } = await listAll(queue, "ready", {
      limit: 6,
      between: async (page) => {
        const high = await queue.enqueue("new_high", { page }, { priority: 3 });
        const low = await queue.enqueue("new_low", { page }, { priority: -1 });
        everIn.add(high.id).add(low.id);
        // Takes the new high one, then jobs from the front (mostly listed already).
        const taken = [await queue.reserveNext(), await queue.reserveNext()];
        for (const job of taken) {
          if (!job) continue;
          left.add(job.id);
        }
        await queue.ack(taken[0]!);
        const victim = lateZero[page - 1];
        if (victim && !left.has(victim.id)) {
          expect(await queue.cancel(victim.id)).toBe(true);
          left.add(victim.id);
        }
      },
    });
    const order = [...initial].sort(
      (a, b) =>
        (Number(b.payload.i) % 3) - (Number(a.payload.i) % 3) || Number(a.id) - Number(b.id),
    );
    expectExactPaging(
      jobs,
      pages,
      order.filter((j) => !left.has(j.id)).map((j) => j.id),
      everIn,
    );
    expect(left.size).toBeGreaterThanOrEqual(8);
  });

  it("delayed: no skips or repeats while delayed jobs are added, fall due and are cancelled", async () => {
    const { queue, clock } = await ctx.make();
    const initial: { id: string; due: number }[] = [];
    for (let i = 0; i < 30; i++) {
      const delay = 100 + ((i * 7) % 30) * 10;
      const job = await queue.enqueue("later", { i }, { delaySeconds: delay });
      initial.push({ id: job.id, due: delay });
    }
    const everIn = new Set(initial.map((j) => j.id));
    const left = new Set<string>();
    let elapsed = 0;
    const { jobs, pages } = await listAll(queue, "delayed", {
      limit: 5,
      between: async (page) => {
        for (const delay of [1, 150, 1000]) {
          everIn.add((await queue.enqueue("added", { page }, { delaySeconds: delay })).id);
        }
        // The latest-due initial job not cancelled yet leaves the state.
        const victim = [...initial]
          .filter((j) => !left.has(j.id))
          .sort((a, b) => b.due - a.due || Number(b.id) - Number(a.id))[0]!;
        expect(await queue.cancel(victim.id)).toBe(true);
        left.add(victim.id);
        // Time passes: the earliest delayed jobs fall due and leave the state.
        clock.advance(5);
        elapsed += 5;
      },
    });
    for (const j of initial) if (j.due <= elapsed) left.add(j.id);
    const order = [...initial].sort((a, b) => a.due - b.due || Number(a.id) - Number(b.id));
    expectExactPaging(
      jobs,
      pages,
      order.filter((j) => !left.has(j.id)).map((j) => j.id),
      everIn,
    );
  });

  it("processing: no skips or repeats while jobs are reserved, acked, failed and cancelled", async () => {
    const { queue } = await ctx.make();
    for (let i = 0; i < 60; i++) await queue.enqueue("work", { i }, { priority: i % 5 });
    const held: Job[] = [];
    for (let i = 0; i < 30; i++) held.push((await queue.reserveNext())!);
    const everIn = new Set(held.map((j) => j.id));
    const left = new Set<string>();
    const byId = [...held].sort((a, b) => Number(a.id) - Number(b.id));
    const { jobs, pages } = await listAll(queue, "processing", {
      limit: 4,
      between: async (page) => {
        const more = await queue.reserveNext();
        if (more) everIn.add(more.id);
        // Leave: the first and the last held jobs by id (listed and not yet listed).
        const first = byId.find((j) => !left.has(j.id))!;
        const last = [...byId].reverse().find((j) => !left.has(j.id))!;
        await queue.ack(first);
        left.add(first.id);
        if (page % 2 === 0) await queue.fail(last, new Error("x"));
        else expect(await queue.cancel(last.id)).toBe(true);
        left.add(last.id);
      },
    });
    expectExactPaging(
      jobs,
      pages,
      byId.filter((j) => !left.has(j.id)).map((j) => j.id),
      everIn,
    );
  });

  it("dead: no skips or repeats while jobs die and dead jobs are requeued", async () => {
    const { queue, clock } = await ctx.make();
    for (let i = 0; i < 40; i++) await queue.enqueue("doomed", { i }, { maxAttempts: 1 });
    const deaths: string[] = [];
    for (let i = 0; i < 25; i++) {
      const job = (await queue.reserveNext())!;
      await queue.fail(job, new Error(`fatal ${i}`));
      deaths.push(job.id);
      clock.advance(1);
    }
    const everIn = new Set(deaths);
    const left = new Set<string>();
    const { jobs, pages } = await listAll(queue, "dead", {
      limit: 4,
      between: async () => {
        const job = await queue.reserveNext();
        if (job) {
          await queue.fail(job, new Error("fatal later"));
          everIn.add(job.id);
          clock.advance(1);
        }
        // The newest initial death not requeued yet goes back to ready.
        const victim = [...deaths].reverse().find((id) => !left.has(id))!;
        expect(await queue.dlq.requeue(victim)).toBe(true);
        left.add(victim);
      },
    });
    expectExactPaging(
      jobs,
      pages,
      deaths.filter((id) => !left.has(id)),
      everIn,
    );
  });

  it("completed: no skips or repeats while newer jobs complete between pages", async () => {
    const { queue, clock } = await ctx.make({ options: { keepCompleted: true } });
    for (let i = 0; i < 40; i++) await queue.enqueue("done", { i });
    const completions: string[] = [];
    for (let i = 0; i < 20; i++) {
      const job = (await queue.reserveNext())!;
      await queue.ack(job, { result: i });
      completions.push(job.id);
      clock.advance(1);
    }
    const everIn = new Set(completions);
    const { jobs, pages } = await listAll(queue, "completed", {
      limit: 3,
      between: async () => {
        // Newer completions land in front of the cursor (newest first).
        for (let k = 0; k < 2; k++) {
          const job = await queue.reserveNext();
          if (!job) continue;
          await queue.ack(job);
          everIn.add(job.id);
          clock.advance(1);
        }
      },
    });
    expectExactPaging(jobs, pages, [...completions].reverse(), everIn);
    expect(jobs.every((j) => j.state === "completed")).toBe(true);
  });

  it("cancelled: no skips or repeats while more jobs are cancelled between pages", async () => {
    const { queue, clock } = await ctx.make({ options: { keepCancelled: true } });
    const jobs0: Job[] = [];
    for (let i = 0; i < 40; i++) jobs0.push(await queue.enqueue("maybe", { i }));
    const cancels: string[] = [];
    for (let i = 0; i < 20; i++) {
      expect(await queue.cancel(jobs0[i]!.id, { reason: `r${i}` })).toBe(true);
      cancels.push(jobs0[i]!.id);
      clock.advance(1);
    }
    const everIn = new Set(cancels);
    let next = 20;
    const { jobs, pages } = await listAll(queue, "cancelled", {
      limit: 3,
      between: async () => {
        for (let k = 0; k < 2 && next < jobs0.length; k++, next++) {
          expect(await queue.cancel(jobs0[next]!.id)).toBe(true);
          everIn.add(jobs0[next]!.id);
          clock.advance(1);
        }
      },
    });
    expectExactPaging(jobs, pages, [...cancels].reverse(), everIn);
  });
}
