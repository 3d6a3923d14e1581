import { expect, it } from "vitest";
import { JOB_STATES } from "../control.js";
import type { SuiteContext } from "./context.js";
import { VT } from "./context.js";
import { expectValidationError, idsOf, listAll } from "./control-helpers.js";

// docs/contract.md, "Seeing and controlling jobs": States, Listing.

export function inspectionCases(ctx: SuiteContext): void {
  it("getJob shows a ready job with every JobInfo field", async () => {
    const { queue, clock } = await ctx.make();
    const enqueuedAt = clock.now();
    const job = await queue.enqueue(
      "ready_one",
      { to: "a@b.c", n: [1, 2] },
      { maxAttempts: 3, backoffSeconds: 7 },
    );
    clock.advance(5);
    const info = await queue.getJob(job.id);
    expect(info).toEqual({
      id: job.id,
      name: "ready_one",
      payload: { to: "a@b.c", n: [1, 2] },
      availableAt: new Date(enqueuedAt),
      attempts: 0,
      maxAttempts: 3,
      backoffSeconds: 7,
      lastError: null,
      state: "ready",
      priority: 0,
      group: null,
      createdAt: new Date(enqueuedAt),
      finishedAt: null,
      progress: null,
      result: null,
    });
  });

  it("getJob shows a delayed job, then the same job ready once it is due", async () => {
    const { queue, clock } = await ctx.make();
    const start = clock.now();
    const job = await queue.enqueue("later", {}, { delaySeconds: 60, priority: 2 });
    expect(await queue.getJob(job.id)).toMatchObject({
      state: "delayed",
      availableAt: new Date(start + 60_000),
      createdAt: new Date(start),
      priority: 2,
    });
    clock.advance(60);
    expect((await queue.getJob(job.id))?.state).toBe("ready");
  });

  it("getJob shows a processing job with its attempt, and a retrying one as delayed with lastError", async () => {
    const { queue, clock } = await ctx.make();
    const job = await queue.enqueue("work", {}, { backoffSeconds: 10 });
    const reserved = await queue.reserveNext();
    expect(await queue.getJob(job.id)).toMatchObject({
      state: "processing",
      attempts: 1,
      lastError: null,
    });
    await queue.fail(reserved!, new Error("flaky"));
    expect(await queue.getJob(job.id)).toMatchObject({
      state: "delayed",
      attempts: 1,
      lastError: "flaky",
      availableAt: new Date(clock.now() + 10_000),
      finishedAt: null,
    });
  });

  it("getJob shows a dead job, and a requeued one as ready again", async () => {
    const { queue } = await ctx.make();
    const job = await queue.enqueue("doomed", {}, { maxAttempts: 1 });
    await queue.fail((await queue.reserveNext())!, new Error("fatal"));
    expect(await queue.getJob(job.id)).toMatchObject({
      state: "dead",
      attempts: 1,
      lastError: "fatal",
      finishedAt: null,
    });
    expect(await queue.dlq.requeue(job.id)).toBe(true);
    expect(await queue.getJob(job.id)).toMatchObject({ state: "ready", attempts: 0 });
    expect(await idsOf(queue, "dead")).toEqual([]);
    expect(await idsOf(queue, "ready")).toEqual([job.id]);
  });

  it("getJob is null for an unknown id, and for a completed job the queue does not keep", async () => {
    const { queue } = await ctx.make();
    expect(await queue.getJob("999999")).toBeNull();
    const job = await queue.enqueue("done", {});
    expect(await queue.getJob(job.id)).not.toBeNull();
    await queue.ack((await queue.reserveNext())!);
    expect(await queue.getJob(job.id)).toBeNull();
  });

  it("getJob returns a copy: changing it changes nothing queued", async () => {
    const { queue } = await ctx.make();
    const job = await queue.enqueue("copy", { list: [1] });
    const info = await queue.getJob(job.id);
    (info!.payload.list as number[]).push(2);
    info!.attempts = 99;
    expect(await queue.getJob(job.id)).toMatchObject({ payload: { list: [1] }, attempts: 0 });
  });

  it("listJobs lists ready jobs in the order they will run (priority, then FIFO)", async () => {
    const { queue } = await ctx.make();
    const ids: Record<string, string> = {};
    for (const [name, priority] of [
      ["a0", 0],
      ["b5", 5],
      ["c-1", -1],
      ["d5", 5],
      ["e0", 0],
    ] as const) {
      ids[name] = (await queue.enqueue(name, {}, { priority })).id;
    }
    const page = await queue.listJobs({ state: "ready" });
    expect(page.cursor).toBeNull();
    expect(page.jobs.map((j) => j.name)).toEqual(["b5", "d5", "a0", "e0", "c-1"]);
    expect(page.jobs.every((j) => j.state === "ready")).toBe(true);
    // The listed order is the reserve order.
    const reserved = [];
    for (let i = 0; i < 5; i++) reserved.push((await queue.reserveNext())!.name);
    expect(reserved).toEqual(["b5", "d5", "a0", "e0", "c-1"]);
  });

  it("listJobs lists delayed jobs by due time, then by id", async () => {
    const { queue } = await ctx.make();
    const a = await queue.enqueue("a", {}, { delaySeconds: 30 });
    const b = await queue.enqueue("b", {}, { delaySeconds: 10 });
    const c = await queue.enqueue("c", {}, { delaySeconds: 20, priority: 9 });
    const d = await queue.enqueue("d", {}, { delaySeconds: 10 });
    await queue.enqueue("ready", {});
    expect(await idsOf(queue, "delayed")).toEqual([b.id, d.id, c.id, a.id]);
    expect(await idsOf(queue, "delayed", { limit: 1 })).toEqual([b.id, d.id, c.id, a.id]);
  });

  it("listJobs lists processing jobs by numeric id (10 after 9)", async () => {
    const { queue } = await ctx.make();
    // Priorities make the reserve order the reverse of the id order.
    for (let i = 0; i < 12; i++) await queue.enqueue(`j${i}`, {}, { priority: i });
    const reserved = [];
    for (let i = 0; i < 12; i++) reserved.push((await queue.reserveNext())!);
    expect(reserved[0]!.name).toBe("j11");
    const expected = reserved.map((j) => j.id).sort((x, y) => Number(x) - Number(y));
    expect(await idsOf(queue, "processing")).toEqual(expected);
    expect(await idsOf(queue, "processing", { limit: 5 })).toEqual(expected);
    const page = await queue.listJobs({ state: "processing", limit: 1 });
    expect(page.jobs[0]).toMatchObject({ state: "processing", attempts: 1 });
  });

  it("listJobs lists dead jobs oldest death first", async () => {
    const { queue, clock } = await ctx.make();
    const jobs = [];
    for (const name of ["a", "b", "c"])
      jobs.push(await queue.enqueue(name, {}, { maxAttempts: 1 }));
    const held = [];
    for (let i = 0; i < 3; i++) held.push((await queue.reserveNext())!);
    // Deaths in the order c, a, b.
    for (const i of [2, 0, 1]) {
      await queue.fail(held[i]!, new Error(`fatal ${held[i]!.name}`));
      clock.advance(1);
    }
    const { jobs: dead } = await listAll(queue, "dead", { limit: 2 });
    expect(dead.map((j) => j.name)).toEqual(["c", "a", "b"]);
    expect(dead.map((j) => j.lastError)).toEqual(["fatal c", "fatal a", "fatal b"]);
  });

  it("listJobs lists completed and cancelled jobs newest first", async () => {
    const { queue, clock } = await ctx.make({
      options: { keepCompleted: true, keepCancelled: true },
    });
    for (const name of ["a", "b", "c"]) await queue.enqueue(name, {});
    const held = [];
    for (let i = 0; i < 3; i++) held.push((await queue.reserveNext())!);
    for (const i of [1, 2, 0]) {
      await queue.ack(held[i]!);
      clock.advance(1);
    }
    const { jobs: completed } = await listAll(queue, "completed", { limit: 2 });
    expect(completed.map((j) => j.name)).toEqual(["a", "c", "b"]);
    expect(completed.every((j) => j.state === "completed")).toBe(true);

    const waiting = [];
    for (const name of ["x", "y", "z"]) waiting.push(await queue.enqueue(name, {}));
    for (const i of [2, 0, 1]) {
      expect(await queue.cancel(waiting[i]!.id)).toBe(true);
      clock.advance(1);
    }
    const { jobs: cancelled } = await listAll(queue, "cancelled", { limit: 2 });
    expect(cancelled.map((j) => j.name)).toEqual(["y", "x", "z"]);
  });

  it("listJobs with a name lists only that name, in order, across pages", async () => {
    const { queue } = await ctx.make();
    const emails = [];
    for (let i = 0; i < 9; i++) {
      const name = i % 3 === 0 ? "send_email" : "resize";
      const job = await queue.enqueue(name, { i });
      if (name === "send_email") emails.push(job.id);
    }
    const all = await listAll(queue, "ready", { name: "send_email", limit: 2 });
    expect(all.jobs.map((j) => j.id)).toEqual(emails);
    expect(all.jobs.every((j) => j.name === "send_email")).toBe(true);
    expect(await idsOf(queue, "ready", { name: "nobody" })).toEqual([]);
  });

  it("listJobs pages 50 jobs by default and returns a null cursor on the last page", async () => {
    const { queue } = await ctx.make();
    await queue.enqueueMany(
      Array.from({ length: 51 }, (_, i) => ({ name: "bulk", payload: { i } })),
    );
    const first = await queue.listJobs({ state: "ready" });
    expect(first.jobs).toHaveLength(50);
    expect(first.cursor).toEqual(expect.any(String));
    const second = await queue.listJobs({ state: "ready", cursor: first.cursor });
    expect(second.jobs.map((j) => j.payload.i)).toEqual([50]);
    expect(second.cursor).toBeNull();
    const big = await queue.listJobs({ state: "ready", limit: 1000 });
    expect(big.jobs).toHaveLength(51);
    expect(big.cursor).toBeNull();
    const empty = await queue.listJobs({ state: "delayed", cursor: null });
    expect(empty).toEqual({ jobs: [], cursor: null });
  });

  it("listJobs refuses a limit outside 1..1000, naming opts.limit", async () => {
    const { queue } = await ctx.make();
    await queue.enqueue("a", {});
    for (const bad of [0, -1, 1001, 1.5, "10", Number.NaN, null]) {
      const e = await expectValidationError(
        () => queue.listJobs({ state: "ready", limit: bad as number }),
        /^opts\.limit$/,
      );
      expect(e.message).toMatch(/1000|1,000/);
    }
    expect((await queue.listJobs({ state: "ready", limit: 1 })).jobs).toHaveLength(1);
  });

  it("listJobs refuses a cursor no page returned, naming opts.cursor", async () => {
    const { queue } = await ctx.make();
    for (let i = 0; i < 3; i++) await queue.enqueue("a", { i });
    for (const bad of ["not-a-cursor", "!!!", "e30", 42, {}]) {
      await expectValidationError(
        () => queue.listJobs({ state: "ready", limit: 1, cursor: bad as string }),
        /^opts\.cursor$/,
      );
    }
  });

  it("listJobs refuses a bad state (listing the states) and unknown options", async () => {
    const { queue } = await ctx.make();
    const e = await expectValidationError(
      () => queue.listJobs({ state: "waiting" as never }),
      /^opts\.state$/,
    );
    for (const state of JOB_STATES) expect(e.message).toContain(state);
    await expectValidationError(() => queue.listJobs({} as never), /^opts\.state$/);
    const offset = await expectValidationError(
      () => queue.listJobs({ state: "ready", offset: 10 } as never),
      /^opts\.offset$/,
    );
    expect(offset.message).toContain("cursor");
    await expectValidationError(
      () => queue.listJobs({ state: "ready", limt: 10 } as never),
      /^opts\.limt$/,
    );
    await expectValidationError(() => queue.listJobs({ state: "ready", name: "" }), /^opts\.name$/);
  });

  it("countByName counts each name in one state", async () => {
    const { queue, clock } = await ctx.make();
    for (let i = 0; i < 3; i++) await queue.enqueue("send_email", {});
    await queue.enqueue("resize", {});
    await queue.enqueue("resize", {}, { delaySeconds: 60 });
    await queue.enqueue("report", {}, { delaySeconds: 60 });
    expect(await queue.countByName("ready")).toEqual({ send_email: 3, resize: 1 });
    expect(await queue.countByName("delayed")).toEqual({ resize: 1, report: 1 });
    expect(await queue.countByName("processing")).toEqual({});
    await queue.reserveNext();
    expect(await queue.countByName("processing")).toEqual({ send_email: 1 });
    expect(await queue.countByName("ready")).toEqual({ send_email: 2, resize: 1 });
    clock.advance(VT + 60);
    // The expired reservation went back to ready, and the delayed jobs fell due.
    expect(await queue.countByName("ready")).toEqual({ send_email: 3, resize: 2, report: 1 });
    expect(await queue.countByName("dead")).toEqual({});
    const e = await expectValidationError(() => queue.countByName("done" as never), /state/);
    expect(e.message).toContain("completed");
  });
}
