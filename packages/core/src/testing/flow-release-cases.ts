import { expect, it } from "vitest";
import { JobValidationError } from "../errors.js";
import { RateLimitError } from "../flow-control.js";
import type { Job } from "../job.js";
import type { JobQueue } from "../job-queue.js";
import { processOne } from "../process-one.js";
import type { JobSettledEvent } from "../run-job.js";
import { type SuiteContext, VT } from "./context.js";
import { expectValidationError } from "./control-helpers.js";

// docs/contract.md, "Flow control": `release(job, { delaySeconds, scope })` hands a job
// back without counting its attempt; with a delay the job alone ("job"), its whole group
// ("group") or the whole queue ("queue") waits. A handler's `RateLimitError` is released
// this way by the worker, and never sends a job to the DLQ.

/** Reserves until the queue says no (at most `max` tries); the names reserved. */
async function reserveNames(queue: JobQueue, max = 100): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < max; i++) {
    const job = await queue.reserveNext();
    if (!job) break;
    out.push(job.name);
  }
  return out;
}

async function reserveNamed(queue: JobQueue, name: string): Promise<Job> {
  const job = await queue.reserveNext();
  expect(job?.name).toBe(name);
  return job!;
}

export function flowReleaseCases(ctx: SuiteContext): void {
  // ---- scope "job" ----------------------------------------------------------------------

  it("release with delaySeconds: the job waits delayed until now + delaySeconds, its attempt not counted", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("a", {});
    await queue.enqueue("b", {});
    clock.advance(3);
    const a = await reserveNamed(queue, "a");
    expect(a.attempts).toBe(1);
    const releasedAt = clock.now();
    await queue.release(a, { delaySeconds: 20 });
    const info = await queue.getJob(a.id);
    expect(info).toMatchObject({ state: "delayed", attempts: 0 });
    expect(info?.availableAt.getTime()).toBe(releasedAt + 20_000);
    expect(await queue.stats()).toMatchObject({ ready: 1, delayed: 1, processing: 0 });
    expect(await reserveNames(queue)).toEqual(["b"]); // others are not held back
    clock.advance(19.999);
    expect(await queue.reserveNext()).toBeNull();
    clock.advance(0.001);
    const again = await reserveNamed(queue, "a");
    expect(again.attempts).toBe(1);
  });

  it("scope job is the default, and delaySeconds 0 (or none) puts the job at the front of its priority at once", async () => {
    const { queue } = await ctx.make();
    for (const n of ["a", "b", "c"]) await queue.enqueue(n, {});
    await queue.release(await reserveNamed(queue, "a"), { delaySeconds: 0 });
    await queue.release(await reserveNamed(queue, "a"), { scope: "job" });
    await queue.release(await reserveNamed(queue, "a"), { delaySeconds: 0, scope: "queue" });
    await queue.release(await reserveNamed(queue, "a"), {});
    expect((await queue.getLimits()).heldUntil).toBeNull();
    const a = await reserveNamed(queue, "a");
    expect(a.attempts).toBe(1);
    expect(await reserveNames(queue)).toEqual(["b", "c"]);
  });

  it("a released job never reaches the DLQ for the releases: attempts go back each time", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("limited", {}, { maxAttempts: 2 });
    for (let i = 0; i < 6; i++) {
      const job = await reserveNamed(queue, "limited");
      expect(job.attempts).toBe(1);
      await queue.release(job, { delaySeconds: 5 });
      clock.advance(5);
    }
    expect(await queue.stats()).toMatchObject({ dlq: 0, ready: 1 });
    // The attempts that do count still send it to the DLQ after maxAttempts.
    await queue.fail(await reserveNamed(queue, "limited"), new Error("1"));
    clock.advance(3600);
    await queue.fail(await reserveNamed(queue, "limited"), new Error("2"));
    expect(await queue.stats()).toMatchObject({ dlq: 1, ready: 0, delayed: 0 });
  });

  it("a job released with a delay frees its group's slot", async () => {
    const { queue, clock } = await ctx.make();
    await queue.setGroupLimits({ concurrency: 1 });
    await queue.enqueue("g1", {}, { group: "g" });
    await queue.enqueue("g2", {}, { group: "g" });
    const g1 = await reserveNamed(queue, "g1");
    expect(await queue.reserveNext()).toBeNull();
    await queue.release(g1, { delaySeconds: 10 });
    const g2 = await reserveNamed(queue, "g2");
    clock.advance(10);
    expect(await queue.reserveNext()).toBeNull(); // g1 is due, but g is at its limit
    await queue.ack(g2);
    expect((await reserveNamed(queue, "g1")).attempts).toBe(1);
  });

  // ---- scope "group" --------------------------------------------------------------------

  it("scope group: the job goes to the front of its group and the whole group waits; other groups do not", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("g1", {}, { group: "g" });
    await queue.enqueue("g2", {}, { group: "g" });
    await queue.enqueue("h1", {}, { group: "h" });
    await queue.enqueue("h2", {}, { group: "h" });
    await queue.enqueue("plain", {});
    const g1 = await reserveNamed(queue, "g1");
    await queue.release(g1, { delaySeconds: 20, scope: "group" });
    expect(await queue.getJob(g1.id)).toMatchObject({ state: "ready", attempts: 0, group: "g" });
    expect((await queue.getLimits()).heldUntil).toBeNull(); // the queue is not held
    expect((await reserveNames(queue)).sort()).toEqual(["h1", "h2", "plain"]);
    await queue.enqueue("g3", {}, { group: "g" });
    clock.advance(19.999);
    expect(await queue.reserveNext()).toBeNull();
    await queue.enqueue("h3", {}, { group: "h" });
    expect((await queue.reserveNext())?.name).toBe("h3");
    clock.advance(0.001);
    const again = await reserveNamed(queue, "g1");
    expect(again.attempts).toBe(1);
    expect(await reserveNames(queue)).toEqual(["g2", "g3"]);
  });

  it("scope group holds the group's jobs of every priority, and a held group does not block the others' turns", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("g-normal", {}, { group: "g" });
    const g = await reserveNamed(queue, "g-normal");
    await queue.release(g, { delaySeconds: 10, scope: "group" });
    await queue.enqueue("g-urgent", {}, { group: "g", priority: 100 });
    await queue.enqueue("h1", {}, { group: "h" });
    expect(await reserveNames(queue)).toEqual(["h1"]);
    clock.advance(10);
    // Within the group, priority first: the released job is at the front of its priority only.
    expect(await reserveNames(queue)).toEqual(["g-urgent", "g-normal"]);
  });

  it("scope group for a job without a group behaves like scope job", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("lonely", {});
    await queue.enqueue("other", {});
    const lonely = await reserveNamed(queue, "lonely");
    await queue.enqueue("grouped", {}, { group: "g" });
    await queue.release(lonely, { delaySeconds: 15, scope: "group" });
    expect(await queue.getJob(lonely.id)).toMatchObject({ state: "delayed", attempts: 0 });
    expect((await queue.getLimits()).heldUntil).toBeNull();
    expect((await reserveNames(queue)).sort()).toEqual(["grouped", "other"]);
    clock.advance(15);
    expect(await reserveNames(queue)).toEqual(["lonely"]);
  });

  it("a group hold is shared by every job of the group, also ones released later with a shorter hold", async () => {
    const { queue, clock } = await ctx.make();
    await queue.setGroupLimits({ concurrency: 5 });
    await queue.enqueue("g1", {}, { group: "g" });
    await queue.enqueue("g2", {}, { group: "g" });
    const g1 = await reserveNamed(queue, "g1");
    const g2 = await reserveNamed(queue, "g2");
    await queue.release(g1, { delaySeconds: 20, scope: "group" });
    await queue.release(g2, { delaySeconds: 5, scope: "group" });
    clock.advance(5);
    // The hold that ends later wins.
    expect(await queue.reserveNext()).toBeNull();
    clock.advance(15);
    expect((await reserveNames(queue)).sort()).toEqual(["g1", "g2"]);
  });

  // ---- scope "queue" --------------------------------------------------------------------

  it("scope queue: the job goes to the front and the whole queue reserves nothing for delaySeconds; getLimits shows the hold", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("a", {});
    await queue.enqueue("b", {});
    const a = await reserveNamed(queue, "a");
    await queue.enqueue("g1", {}, { group: "g" });
    const releasedAt = clock.now();
    await queue.release(a, { delaySeconds: 12, scope: "queue" });
    expect(await queue.getJob(a.id)).toMatchObject({ state: "ready", attempts: 0 });
    const limits = await queue.getLimits();
    expect(limits.heldUntil).toBeInstanceOf(Date);
    expect(limits.heldUntil?.getTime()).toBe(releasedAt + 12_000);
    expect(await queue.reserveNext()).toBeNull();
    await queue.enqueue("c", {}, { priority: 5 });
    clock.advance(11.999);
    expect(await queue.reserveNext()).toBeNull();
    expect(await queue.stats()).toMatchObject({ ready: 4, processing: 0, paused: false });
    clock.advance(0.001);
    expect((await queue.getLimits()).heldUntil).toBeNull();
    const order = await reserveNames(queue);
    expect(order.filter((n) => n !== "g1")).toEqual(["c", "a", "b"]);
    expect(order).toContain("g1");
  });

  it("a queue hold and pause are separate: resume does not end a hold, and a hold does not pause", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("a", {});
    await queue.release(await reserveNamed(queue, "a"), { delaySeconds: 10, scope: "queue" });
    expect(await queue.isPaused()).toBe(false);
    await queue.pause();
    await queue.resume();
    expect(await queue.reserveNext()).toBeNull();
    clock.advance(10);
    expect(await reserveNames(queue)).toEqual(["a"]);
  });

  it("a queue hold does not stop enqueue, ack, fail, cancel or listJobs", async () => {
    const { queue } = await ctx.make();
    await queue.enqueue("a", {});
    await queue.enqueue("b", {}, { backoffSeconds: 0 });
    await queue.enqueue("c", {});
    const a = await reserveNamed(queue, "a");
    const b = await reserveNamed(queue, "b");
    const c = await reserveNamed(queue, "c");
    await queue.release(c, { delaySeconds: 60, scope: "queue" });
    await queue.ack(a);
    await queue.fail(b, new Error("boom"));
    const d = await queue.enqueue("d", {});
    expect(await queue.cancel(d.id)).toBe(true);
    expect((await queue.listJobs({ state: "ready" })).jobs.map((j) => j.name)).toEqual(["c", "b"]);
    expect(await queue.stats()).toMatchObject({ ready: 2, processing: 0 });
    expect(await queue.reserveNext()).toBeNull();
  });

  it("is stored in the backend: a queue hold holds every queue object on the same storage", async () => {
    const { queue, clock } = await ctx.make();
    const twin = await ctx.reopen(queue);
    if (twin === null) return; // in-memory: the storage is the object itself
    await queue.enqueue("a", {});
    const a = await reserveNamed(queue, "a");
    await queue.enqueue("g1", {}, { group: "g" });
    await queue.enqueue("g2", {}, { group: "g" });
    await queue.release(a, { delaySeconds: 10, scope: "queue" });
    expect((await twin.getLimits()).heldUntil?.getTime()).toBe(clock.now() + 10_000);
    expect(await twin.reserveNext()).toBeNull();
    clock.advance(10);
    const first = (await twin.reserveNext())!;
    expect(first).not.toBeNull();
    // A group hold set through one object holds the other too.
    const g = first.name === "g1" ? first : (await twin.reserveNext())!;
    expect(g.name).toBe("g1");
    await twin.release(g, { delaySeconds: 10, scope: "group" });
    const rest = await reserveNames(queue);
    expect(rest).not.toContain("g1");
    expect(rest).not.toContain("g2");
  });

  // ---- fencing and validation -----------------------------------------------------------

  it("is fenced like ack: a stale reservation's release changes nothing and sets no hold", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("a", {}, { group: "g" });
    const stale = (await queue.reserveNext())!;
    clock.advance(VT + 1);
    const fresh = (await queue.reserveNext())!;
    expect(fresh.attempts).toBe(2);
    for (const scope of ["job", "group", "queue"] as const) {
      await queue.release(stale, { delaySeconds: 60, scope });
    }
    expect(await queue.getJob(fresh.id)).toMatchObject({ state: "processing", attempts: 2 });
    expect((await queue.getLimits()).heldUntil).toBeNull();
    await queue.enqueue("g2", {}, { group: "g" });
    await queue.enqueue("plain", {});
    expect((await reserveNames(queue)).sort()).toEqual(["g2", "plain"]);
    // After an ack, a release changes nothing either.
    await queue.ack(fresh);
    await queue.release(fresh, { delaySeconds: 5, scope: "queue" });
    expect(await queue.getJob(fresh.id)).toBeNull();
    expect((await queue.getLimits()).heldUntil).toBeNull();
  });

  it("refuses bad release options, naming the field, and changes nothing", async () => {
    const { queue } = await ctx.make();
    await queue.enqueue("a", {}, { group: "g" });
    const a = (await queue.reserveNext())!;
    const bad: [unknown, RegExp][] = [
      [{ delaySeconds: -1 }, /^opts\.delaySeconds$/],
      [{ delaySeconds: Number.NaN }, /^opts\.delaySeconds$/],
      [{ delaySeconds: Number.POSITIVE_INFINITY }, /^opts\.delaySeconds$/],
      [{ delaySeconds: "5" }, /^opts\.delaySeconds$/],
      [{ scope: "world" }, /^opts\.scope$/],
      [{ delaySeconds: 5, scope: "Queue" }, /^opts\.scope$/],
      [{ delaySeconds: 5, scope: null }, /^opts\.scope$/],
      [{ delay: 5 }, /^opts\.delay$/],
      [{ retryAfterSeconds: 5 }, /^opts\.retryAfterSeconds$/],
      [5, /^opts$/],
    ];
    for (const [opts, field] of bad) {
      await expectValidationError(() => queue.release(a, opts as never), field);
    }
    expect(await queue.getJob(a.id)).toMatchObject({ state: "processing", attempts: 1 });
    expect((await queue.getLimits()).heldUntil).toBeNull();
    await queue.ack(a);
    expect(await queue.getJob(a.id)).toBeNull();
  });

  // ---- through the worker ---------------------------------------------------------------

  it("a handler's RateLimitError: the job comes back without charging an attempt and runs again after retryAfterSeconds", async () => {
    const { queue, clock } = await ctx.make();
    const job = await queue.enqueue("call_api", { n: 1 }, { maxAttempts: 1 });
    const settled: JobSettledEvent[] = [];
    let calls = 0;
    const handler = async () => {
      calls++;
      if (calls <= 3) throw new RateLimitError({ retryAfterSeconds: 7, message: "429" });
      return "done";
    };
    for (let i = 1; i <= 3; i++) {
      expect(await processOne(queue, handler, { onJobSettled: (e) => settled.push(e) })).toBe(true);
      expect(await queue.getJob(job.id)).toMatchObject({ state: "delayed", attempts: 0 });
      expect(await processOne(queue, handler)).toBe(false);
      clock.advance(6.999);
      expect(await processOne(queue, handler)).toBe(false);
      clock.advance(0.001);
    }
    expect(settled.map((e) => e.outcome)).toEqual(["rate_limited", "rate_limited", "rate_limited"]);
    expect(settled[0]?.error).toBeInstanceOf(RateLimitError);
    // maxAttempts 1, rate limited three times, never dead: the fourth run completes it.
    expect(await processOne(queue, handler, { onJobSettled: (e) => settled.push(e) })).toBe(true);
    expect(settled[3]?.outcome).toBe("completed");
    expect(settled[3]?.job.attempts).toBe(1);
    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 0 });
    expect(calls).toBe(4);
  });

  it("a handler's RateLimitError with scope queue holds the whole queue; with scope group, the job's group", async () => {
    const { queue, clock } = await ctx.make();
    await queue.enqueue("limited", {}, { group: "g" });
    await queue.enqueue("g-next", {}, { group: "g" });
    await queue.enqueue("h-next", {}, { group: "h" });
    const ran: string[] = [];
    const handler = async (job: Job) => {
      ran.push(job.name);
      if (job.name === "limited" && ran.length === 1) {
        throw new RateLimitError({ retryAfterSeconds: 10, scope: "group" });
      }
    };
    expect(await processOne(queue, handler)).toBe(true); // limited: group g held
    expect(await processOne(queue, handler)).toBe(true); // h-next runs
    expect(await processOne(queue, handler)).toBe(false);
    clock.advance(10);
    expect(await processOne(queue, handler)).toBe(true);
    expect(await processOne(queue, handler)).toBe(true);
    expect(ran).toEqual(["limited", "h-next", "limited", "g-next"]);

    await queue.enqueue("q1", {});
    await queue.enqueue("q2", {});
    const queueHandler = async (job: Job) => {
      ran.push(job.name);
      if (job.name === "q1" && ran.filter((n) => n === "q1").length === 1) {
        throw new RateLimitError({ retryAfterSeconds: 4, scope: "queue" });
      }
    };
    const before = clock.now();
    expect(await processOne(queue, queueHandler)).toBe(true);
    expect((await queue.getLimits()).heldUntil?.getTime()).toBe(before + 4000);
    expect(await processOne(queue, queueHandler)).toBe(false);
    clock.advance(4);
    expect(await processOne(queue, queueHandler)).toBe(true);
    expect(await processOne(queue, queueHandler)).toBe(true);
    expect(ran.slice(4)).toEqual(["q1", "q1", "q2"]);
    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 0 });
  });

  it("RateLimitError refuses bad options with a JobValidationError", () => {
    const bad: unknown[] = [
      undefined,
      null,
      5,
      {},
      { retryAfterSeconds: -1 },
      { retryAfterSeconds: Number.NaN },
      { retryAfterSeconds: "3" },
      { retryAfterSeconds: 1, scope: "everything" },
      { retryAfter: 1 },
      { retryAfterSeconds: 1, extra: true },
    ];
    for (const options of bad) {
      expect(
        () => new RateLimitError(options as never),
        `new RateLimitError(${JSON.stringify(options)})`,
      ).toThrow(JobValidationError);
    }
    const ok = new RateLimitError({ retryAfterSeconds: 2.5 });
    expect(ok).toMatchObject({ retryAfterSeconds: 2.5, scope: "job" });
    expect(ok.message).toMatch(/2\.5/);
    expect(new RateLimitError({ retryAfterSeconds: 0, scope: "queue" }).scope).toBe("queue");
  });
}
