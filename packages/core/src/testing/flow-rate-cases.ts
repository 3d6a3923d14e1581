import { expect, it } from "vitest";
import type { JobQueue } from "../job-queue.js";
import { type SuiteContext, VT } from "./context.js";
import { expectValidationError } from "./control-helpers.js";

// docs/contract.md, "Flow control": the queue's rate limit. A reserve starts a job only
// while fewer than `max` jobs were reserved in (now - perSeconds, now], by the queue's
// clock (an exact sliding window); starts are counted while a limit is set; every
// reservation counts; the limit is stored in the backend.

/** Reserves until the queue says no (at most `max` tries); the names reserved. */
async function reserveAll(queue: JobQueue, max = 100): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < max; i++) {
    const job = await queue.reserveNext();
    if (!job) break;
    names.push(job.name);
  }
  return names;
}

async function enqueueN(queue: JobQueue, prefix: string, n: number): Promise<void> {
  for (let i = 1; i <= n; i++) await queue.enqueue(`${prefix}${i}`, {});
}

export function flowRateCases(ctx: SuiteContext): void {
  it("starts at most max jobs in perSeconds; at exactly first start + perSeconds one more may start", async () => {
    const { queue, clock } = await ctx.make();
    await queue.setRateLimit({ max: 2, perSeconds: 10 });
    await enqueueN(queue, "j", 6);
    expect((await queue.reserveNext())?.name).toBe("j1");
    clock.advance(1);
    expect(await reserveAll(queue)).toEqual(["j2"]);
    expect((await queue.stats()).ready).toBe(4);
    clock.advance(8.999);
    expect(await queue.reserveNext()).toBeNull();
    clock.advance(0.001); // now = first start + perSeconds: that start left the window
    expect((await queue.reserveNext())?.name).toBe("j3");
    expect(await queue.reserveNext()).toBeNull();
    clock.advance(1); // the second start leaves
    expect(await reserveAll(queue)).toEqual(["j4"]);
    // The stats say nothing went missing while the queue said no.
    expect(await queue.stats()).toMatchObject({ ready: 2, processing: 4 });
  });

  it("is a sliding window, not a fixed one: no burst of 2 x max at a window edge", async () => {
    const { queue, clock } = await ctx.make({ visibilityTimeoutSeconds: 3600 });
    await queue.setRateLimit({ max: 2, perSeconds: 10 });
    await enqueueN(queue, "j", 10);
    const starts: number[] = [];
    const tryAt = async (t: number): Promise<boolean> => {
      clock.set(Date.UTC(2030, 0, 1) + t * 1000);
      const job = await queue.reserveNext();
      if (job) starts.push(t);
      return job !== null;
    };
    expect(await tryAt(0)).toBe(true);
    expect(await tryAt(9)).toBe(true);
    expect(await tryAt(9.5)).toBe(false);
    expect(await tryAt(10)).toBe(true); // the start at 0 left (0 is not in (0, 10])
    expect(await tryAt(10.5)).toBe(false); // a fixed window [10, 20) would allow this one
    expect(await tryAt(18.999)).toBe(false);
    expect(await tryAt(19)).toBe(true); // the start at 9 left
    expect(await tryAt(19.5)).toBe(false);
    expect(await tryAt(20)).toBe(true);
    expect(starts).toEqual([0, 9, 10, 19, 20]);
  });

  it("takes fractions of a second as the window", async () => {
    const { queue, clock } = await ctx.make();
    await queue.setRateLimit({ max: 1, perSeconds: 0.5 });
    await enqueueN(queue, "j", 3);
    expect((await queue.reserveNext())?.name).toBe("j1");
    clock.advance(0.499);
    expect(await queue.reserveNext()).toBeNull();
    clock.advance(0.001);
    expect((await queue.reserveNext())?.name).toBe("j2");
    expect(await queue.reserveNext()).toBeNull();
  });

  it("counts every reservation: retries and reservations taken again after expiry too", async () => {
    const { queue, clock } = await ctx.make();
    await queue.setRateLimit({ max: 4, perSeconds: 100 });
    await queue.enqueue("retried", {}, { backoffSeconds: 0 });
    const first = (await queue.reserveNext())!;
    expect(first.name).toBe("retried");
    await queue.fail(first, new Error("once")); // ready again at once
    const again = (await queue.reserveNext())!;
    expect([again.name, again.attempts]).toEqual(["retried", 2]);
    await queue.ack(again);
    await queue.enqueue("expires", {});
    expect((await queue.reserveNext())?.name).toBe("expires"); // start 3 of 4
    clock.advance(VT + 1);
    const retaken = (await queue.reserveNext())!; // start 4 of 4
    expect([retaken.name, retaken.attempts]).toEqual(["expires", 2]);
    await queue.ack(retaken);
    await queue.enqueue("waiting", {});
    expect(await queue.reserveNext()).toBeNull();
    expect((await queue.stats()).ready).toBe(1);
    clock.advance(100 - VT - 1); // the first three starts leave
    expect((await queue.reserveNext())?.name).toBe("waiting");
  });

  it("a job released and reserved again started twice: both starts count", async () => {
    const { queue } = await ctx.make();
    await queue.setRateLimit({ max: 3, perSeconds: 60 });
    await queue.enqueue("bounced", {});
    await queue.enqueue("other", {});
    // The release takes the attempt back, so the second reservation has the same attempt
    // number as the first: still a second start.
    const first = (await queue.reserveNext())!;
    await queue.release(first);
    const second = (await queue.reserveNext())!;
    expect([second.id, second.attempts]).toEqual([first.id, first.attempts]);
    await queue.release(second, { delaySeconds: 0 });
    expect((await queue.reserveNext())?.id).toBe(first.id); // start 3 of 3
    expect(await queue.reserveNext()).toBeNull();
    expect((await queue.stats()).ready).toBe(1);
  });

  it("does not limit acks, fails or releases, only starts", async () => {
    const { queue } = await ctx.make();
    await enqueueN(queue, "j", 3);
    const held = [(await queue.reserveNext())!, (await queue.reserveNext())!];
    await queue.setRateLimit({ max: 1, perSeconds: 60 });
    expect((await queue.reserveNext())?.name).toBe("j3");
    await queue.ack(held[0]!);
    await queue.release(held[1]!);
    expect(await queue.getJob(held[0]!.id)).toBeNull();
    expect((await queue.getJob(held[1]!.id))?.state).toBe("ready");
    expect(await queue.reserveNext()).toBeNull();
    expect(await queue.stats()).toMatchObject({ ready: 1, processing: 1 });
  });

  it("counts starts only while a limit is set, and null removes the limit", async () => {
    const { queue } = await ctx.make();
    await enqueueN(queue, "j", 8);
    // No limit: three starts, none counted.
    expect(await reserveAll(queue, 3)).toEqual(["j1", "j2", "j3"]);
    await queue.setRateLimit({ max: 2, perSeconds: 60 });
    expect(await reserveAll(queue)).toEqual(["j4", "j5"]);
    await queue.setRateLimit(null);
    expect((await queue.getLimits()).rateLimit).toBeNull();
    expect(await reserveAll(queue)).toEqual(["j6", "j7", "j8"]);
  });

  it("a raised limit lets more start at once; a lowered one counts the starts already made", async () => {
    const { queue, clock } = await ctx.make();
    await enqueueN(queue, "j", 8);
    await queue.setRateLimit({ max: 3, perSeconds: 60 });
    expect(await reserveAll(queue)).toEqual(["j1", "j2", "j3"]);
    await queue.setRateLimit({ max: 2, perSeconds: 60 });
    clock.advance(1);
    expect(await queue.reserveNext()).toBeNull();
    await queue.setRateLimit({ max: 5, perSeconds: 60 });
    expect(await reserveAll(queue)).toEqual(["j4", "j5"]);
    clock.advance(59); // the first three starts leave
    expect(await reserveAll(queue)).toEqual(["j6", "j7", "j8"]);
  });

  it("a limited queue still serves priorities in order", async () => {
    const { queue, clock } = await ctx.make();
    await queue.setRateLimit({ max: 1, perSeconds: 1 });
    await queue.enqueue("low", {}, { priority: -1 });
    await queue.enqueue("mid", {});
    await queue.enqueue("high", {}, { priority: 3 });
    const order = [];
    for (let i = 0; i < 3; i++) {
      order.push((await queue.reserveNext())?.name);
      expect(await queue.reserveNext()).toBeNull();
      clock.advance(1);
    }
    expect(order).toEqual(["high", "mid", "low"]);
  });

  it("reserveMany returns at most the rest of the window's budget", async () => {
    const { queue, clock } = await ctx.make();
    if (typeof queue.reserveMany !== "function") return; // optional method
    await queue.setRateLimit({ max: 3, perSeconds: 10 });
    await enqueueN(queue, "j", 10);
    expect((await queue.reserveNext())?.name).toBe("j1");
    const batch = await queue.reserveMany(5);
    expect(batch.map((j) => j.name)).toEqual(["j2", "j3"]);
    expect(await queue.reserveMany(5)).toEqual([]);
    clock.advance(10);
    expect((await queue.reserveMany(5)).map((j) => j.name)).toEqual(["j4", "j5", "j6"]);
    expect(await queue.stats()).toMatchObject({ ready: 4, processing: 6 });
  });

  it("getLimits shows the rate limit as stored; a fresh queue has no limits", async () => {
    const { queue } = await ctx.make();
    expect(await queue.getLimits()).toEqual({
      rateLimit: null,
      groupLimits: null,
      groupOverrides: {},
      heldUntil: null,
    });
    await queue.setRateLimit({ max: 7, perSeconds: 1.5 });
    expect((await queue.getLimits()).rateLimit).toEqual({ max: 7, perSeconds: 1.5 });
    // The caller's object is not kept by reference.
    const limit = { max: 2, perSeconds: 3 };
    await queue.setRateLimit(limit);
    limit.max = 99;
    expect((await queue.getLimits()).rateLimit).toEqual({ max: 2, perSeconds: 3 });
    const read = await queue.getLimits();
    read.rateLimit!.max = 50;
    expect((await queue.getLimits()).rateLimit).toEqual({ max: 2, perSeconds: 3 });
  });

  it("refuses a bad rate limit, naming the field, and keeps the one stored", async () => {
    const { queue } = await ctx.make();
    await queue.setRateLimit({ max: 4, perSeconds: 8 });
    const bad: [unknown, RegExp][] = [
      [{ max: 0, perSeconds: 1 }, /^limit\.max$/],
      [{ max: -1, perSeconds: 1 }, /^limit\.max$/],
      [{ max: 1.5, perSeconds: 1 }, /^limit\.max$/],
      [{ max: "2", perSeconds: 1 }, /^limit\.max$/],
      [{ perSeconds: 1 }, /^limit\.max$/],
      [{ max: 2, perSeconds: 0 }, /^limit\.perSeconds$/],
      [{ max: 2, perSeconds: -5 }, /^limit\.perSeconds$/],
      [{ max: 2, perSeconds: Number.NaN }, /^limit\.perSeconds$/],
      [{ max: 2, perSeconds: Number.POSITIVE_INFINITY }, /^limit\.perSeconds$/],
      [{ max: 2 }, /^limit\.perSeconds$/],
      [{ limit: 5 }, /^limit\.limit$/],
      [{ max: 2, perSeconds: 1, burst: 3 }, /^limit\.burst$/],
      [5, /^limit$/],
      ["10/s", /^limit$/],
      [[2, 1], /^limit$/],
    ];
    for (const [value, field] of bad) {
      await expectValidationError(() => queue.setRateLimit(value as never), field);
    }
    expect((await queue.getLimits()).rateLimit).toEqual({ max: 4, perSeconds: 8 });
  });

  it("is stored in the backend: queue objects on the same storage share the limit and its window", async () => {
    const { queue, clock } = await ctx.make();
    const twin = await ctx.reopen(queue);
    if (twin === null) return; // in-memory: the storage is the object itself
    await enqueueN(queue, "j", 5);
    await queue.setRateLimit({ max: 2, perSeconds: 10 });
    expect((await twin.getLimits()).rateLimit).toEqual({ max: 2, perSeconds: 10 });
    expect((await queue.reserveNext())?.name).toBe("j1");
    expect((await twin.reserveNext())?.name).toBe("j2");
    expect(await queue.reserveNext()).toBeNull();
    expect(await twin.reserveNext()).toBeNull();
    clock.advance(10);
    expect((await twin.reserveNext())?.name).toBe("j3");
    await twin.setRateLimit(null);
    expect((await queue.getLimits()).rateLimit).toBeNull();
    expect(await reserveAll(queue)).toEqual(["j4", "j5"]);
  });
}
