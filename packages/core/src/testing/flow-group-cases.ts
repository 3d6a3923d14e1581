import { expect, it } from "vitest";
import { systemClock } from "../clock.js";
import type { Job } from "../job.js";
import type { JobQueue } from "../job-queue.js";
import { type SuiteContext, VT } from "./context.js";
import { expectValidationError, listAll, sleep, within } from "./control-helpers.js";

// docs/contract.md, "Flow control": groups (`enqueue(..., { group })`) are served
// round-robin, each limited by `setGroupLimits` (concurrency, and a sliding-window rate),
// one group's override replacing the limits of every group; a group at its limit is
// skipped and never blocks another group's jobs.

/** Enqueues `${group}${i}` for i = 1..n into `group`. */
async function fill(queue: JobQueue, group: string, n: number, priority?: number): Promise<void> {
  for (let i = 1; i <= n; i++) {
    await queue.enqueue(
      `${group}${i}`,
      {},
      { group, ...(priority === undefined ? {} : { priority }) },
    );
  }
}

/** Reserves until the queue says no (at most `max` tries); the jobs reserved. */
async function reserveAll(queue: JobQueue, max = 100): Promise<Job[]> {
  const jobs: Job[] = [];
  for (let i = 0; i < max; i++) {
    const job = await queue.reserveNext();
    if (!job) break;
    jobs.push(job);
  }
  return jobs;
}

const names = (jobs: (Job | null)[]) => jobs.map((j) => j?.name ?? null);

export function flowGroupCases(ctx: SuiteContext): void {
  // ---- round-robin --------------------------------------------------------------------

  it("serves groups round-robin: a1, b1, a2, b2, a3", async () => {
    const { queue } = await ctx.make();
    await fill(queue, "a", 3);
    await fill(queue, "b", 2);
    expect(names(await reserveAll(queue))).toEqual(["a1", "b1", "a2", "b2", "a3"]);
  });

  it("a group that gets a ready job while out of the rotation joins at its back", async () => {
    const { queue } = await ctx.make();
    await fill(queue, "a", 3);
    await fill(queue, "b", 3);
    expect(names(await reserveAll(queue, 2))).toEqual(["a1", "b1"]);
    await queue.enqueue("c1", {}, { group: "c" });
    // a and b are in the rotation already; c joins behind them.
    expect(names(await reserveAll(queue))).toEqual(["a2", "b2", "c1", "a3", "b3"]);
  });

  it("within a group: higher priority first, then first in, first out", async () => {
    const { queue } = await ctx.make();
    await queue.enqueue("a-low", {}, { group: "a", priority: -2 });
    await queue.enqueue("a-mid-1", {}, { group: "a" });
    await queue.enqueue("a-high", {}, { group: "a", priority: 9 });
    await queue.enqueue("a-mid-2", {}, { group: "a" });
    expect(names(await reserveAll(queue))).toEqual(["a-high", "a-mid-1", "a-mid-2", "a-low"]);
  });

  it("a group whose reserved job comes back keeps its turns: release with no delay puts it at the front of its group", async () => {
    const { queue } = await ctx.make();
    await fill(queue, "a", 2);
    await fill(queue, "b", 2);
    const a1 = (await queue.reserveNext())!;
    expect(a1.name).toBe("a1");
    await queue.release(a1);
    const rest = await reserveAll(queue);
    expect(names(rest).filter((n) => n?.startsWith("a"))).toEqual(["a1", "a2"]);
    expect(rest.find((j) => j.name === "a1")?.attempts).toBe(1);
    expect(rest).toHaveLength(4);
  });

  it("ungrouped jobs take their turns as one more participant: never starved by a flooding group", async () => {
    const { queue } = await ctx.make();
    await fill(queue, "flood", 50);
    for (const g of ["l1", "l2", "l3"]) await queue.enqueue(`${g}-job`, {}, { group: g });
    const plain = await queue.enqueue("plain", {});
    // Participants: flood, l1, l2, l3 and the ungrouped jobs: each light job and the
    // ungrouped one are reserved within 5 reserves.
    const first5 = names(await reserveAll(queue, 5));
    expect(first5).toEqual(expect.arrayContaining(["l1-job", "l2-job", "l3-job", "plain"]));
    expect(first5.filter((n) => n?.startsWith("flood"))).toEqual(["flood1"]);
    // Another ungrouped job arriving mid-flood waits at most one round (flood, ungrouped).
    await queue.enqueue("plain-2", {});
    const next2 = names(await reserveAll(queue, 2));
    expect(next2).toContain("plain-2");
    expect((await queue.getJob(plain.id))?.state).toBe("processing");
  });

  it("ungrouped jobs keep their priority order among themselves while groups take turns", async () => {
    const { queue } = await ctx.make();
    await fill(queue, "g", 5);
    await queue.enqueue("u-low", {}, { priority: -1 });
    await queue.enqueue("u-high", {}, { priority: 1 });
    await queue.enqueue("u-mid", {});
    const order = names(await reserveAll(queue));
    expect(order.filter((n) => n?.startsWith("u-"))).toEqual(["u-high", "u-mid", "u-low"]);
    expect(order.filter((n) => n?.startsWith("g"))).toEqual(["g1", "g2", "g3", "g4", "g5"]);
    // Each ungrouped job within two reserves of the previous one (two participants).
    const at = (n: string) => order.indexOf(n);
    expect(at("u-high")).toBeLessThanOrEqual(1);
    expect(at("u-mid") - at("u-high")).toBeLessThanOrEqual(2);
    expect(at("u-low") - at("u-mid")).toBeLessThanOrEqual(2);
  });

  it("group names are opaque strings: separators, braces, unicode and 256 characters are groups like any other", async () => {
    const { queue } = await ctx.make();
    const odd = ["tenant:42", "a{b}c", "{x}", "客户-7", "with space", "g".repeat(256)];
    for (const g of odd) await queue.enqueue(`job-${g.slice(0, 10)}`, {}, { group: g });
    await queue.enqueue("second", {}, { group: "tenant:42" });
    await queue.setGroupLimits({ concurrency: 1 });
    const got = await reserveAll(queue);
    expect(got).toHaveLength(odd.length); // "second" waits for tenant:42's slot
    for (const job of got) {
      expect(odd).toContain((await queue.getJob(job.id))?.group);
    }
    const t42 = got.find((j) => j.name === "job-tenant:42")!;
    await queue.ack(t42);
    expect((await queue.reserveNext())?.name).toBe("second");
  });

  // ---- concurrency --------------------------------------------------------------------

  it("group concurrency: at most c jobs of a group processing at once; another group is not blocked", async () => {
    const { queue } = await ctx.make();
    await queue.setGroupLimits({ concurrency: 2 });
    await fill(queue, "a", 5);
    await fill(queue, "b", 1);
    await queue.enqueue("plain", {});
    const got = names(await reserveAll(queue));
    expect(got.sort()).toEqual(["a1", "a2", "b1", "plain"]);
    expect(await queue.reserveNext()).toBeNull();
    expect(await queue.stats()).toMatchObject({ ready: 3, processing: 4 });
    // Another group arriving while a is at its limit runs at once.
    await queue.enqueue("c1", {}, { group: "c" });
    expect((await queue.reserveNext())?.name).toBe("c1");
  });

  it("ack, fail, release, cancel and expiry each free a slot of the group", async () => {
    const { queue, clock } = await ctx.make();
    await queue.setGroupLimits({ concurrency: 1 });
    await fill(queue, "g", 8);
    const frees: [string, (job: Job) => Promise<unknown>][] = [
      ["ack", (job) => queue.ack(job)],
      ["fail", (job) => queue.fail(job, new Error("boom"))],
      ["release", (job) => queue.release(job)],
      ["cancel", (job) => queue.cancel(job.id)],
      ["expiry", async () => clock.advance(VT + 1)],
    ];
    for (const [how, free] of frees) {
      const held = await queue.reserveNext();
      expect(held, `a slot before ${how}`).not.toBeNull();
      expect(await queue.reserveNext(), `the group is at its limit before ${how}`).toBeNull();
      await free(held!);
      expect((await queue.stats()).processing, `after ${how}`).toBe(0);
    }
    expect(await queue.reserveNext()).not.toBeNull();
    expect(await queue.reserveNext()).toBeNull();
  });

  it("takes its turn again when a slot frees: the round-robin order with limits", async () => {
    const { queue } = await ctx.make();
    await queue.setGroupLimits({ concurrency: 1 });
    await fill(queue, "a", 3);
    await fill(queue, "b", 3);
    await fill(queue, "c", 1);
    const [a1, b1, c1] = await reserveAll(queue);
    expect(names([a1!, b1!, c1!])).toEqual(["a1", "b1", "c1"]);
    expect(await queue.reserveNext()).toBeNull();
    await queue.ack(b1!);
    expect((await queue.reserveNext())?.name).toBe("b2");
    expect(await queue.reserveNext()).toBeNull();
    await queue.ack(a1!);
    await queue.ack(c1!);
    expect((await queue.reserveNext())?.name).toBe("a2");
    expect(await queue.reserveNext()).toBeNull();
  });

  it("a group skipped at its limit while it had no ready job runs a job that comes back once its slot is free", async () => {
    const { queue } = await ctx.make();
    await queue.setGroupLimits({ concurrency: 1 });
    await queue.enqueue("g1", {}, { group: "g" });
    const g1 = (await queue.reserveNext())!;
    const g2 = await queue.enqueue("g2", {}, { group: "g" });
    expect(await queue.cancel(g2.id)).toBe(true);
    expect(await queue.reserveNext()).toBeNull(); // g is at its limit (and has nothing ready)
    await queue.fail(g1, new Error("boom")); // retried in 60 s; its slot frees now
    await queue.enqueue("g3", {}, { group: "g" });
    // The slot is free: g3 runs now, not when g1's reservation would have ended.
    expect((await queue.reserveNext())?.name).toBe("g3");
  });

  it("a raised concurrency lets more start at once; a lowered one starts nothing until below it", async () => {
    const { queue } = await ctx.make();
    await queue.setGroupLimits({ concurrency: 1 });
    await fill(queue, "g", 6);
    const [g1] = await reserveAll(queue);
    expect(g1?.name).toBe("g1");
    await queue.setGroupLimits({ concurrency: 3 });
    const more = await reserveAll(queue);
    expect(names(more)).toEqual(["g2", "g3"]);
    await queue.setGroupLimits({ concurrency: 2 });
    await queue.ack(g1!); // 2 processing: still at the limit
    expect(await queue.reserveNext()).toBeNull();
    await queue.ack(more[0]!);
    expect((await queue.reserveNext())?.name).toBe("g4");
    expect(await queue.reserveNext()).toBeNull();
  });

  it("extendVisibility keeps the slot taken; the slot frees at the new deadline", async () => {
    const { queue, clock } = await ctx.make();
    await queue.setGroupLimits({ concurrency: 1 });
    await fill(queue, "g", 2);
    const g1 = (await queue.reserveNext())!;
    clock.advance(VT - 1);
    await queue.extendVisibility(g1, 60);
    clock.advance(2); // past the first deadline
    expect(await queue.reserveNext()).toBeNull();
    clock.advance(58); // the extended deadline: g1 expires, and its group may start one
    const next = await queue.reserveNext();
    expect(next?.name).toBe("g2");
    expect(await queue.reserveNext()).toBeNull();
  });

  // ---- group rate ---------------------------------------------------------------------

  it("group rate: at most max starts of a group in any perSeconds; other groups and ungrouped jobs run on", async () => {
    const { queue, clock } = await ctx.make();
    await queue.setGroupLimits({ max: 2, perSeconds: 10 });
    await fill(queue, "a", 5);
    await fill(queue, "b", 1);
    await queue.enqueue("plain", {});
    const got = await reserveAll(queue);
    expect(names(got).sort()).toEqual(["a1", "a2", "b1", "plain"]);
    // Finishing does not give the rate back: starts are what is counted.
    for (const job of got) await queue.ack(job);
    expect(await queue.reserveNext()).toBeNull();
    clock.advance(9.999);
    expect(await queue.reserveNext()).toBeNull();
    clock.advance(0.001); // now = first start + perSeconds
    expect(names(await reserveAll(queue))).toEqual(["a3", "a4"]);
    clock.advance(10);
    expect(names(await reserveAll(queue))).toEqual(["a5"]);
  });

  it("group rate counts every start of the group, also a released job's second one", async () => {
    const { queue } = await ctx.make();
    await queue.setGroupLimits({ max: 2, perSeconds: 60 });
    await fill(queue, "g", 2);
    const first = (await queue.reserveNext())!;
    await queue.release(first); // its attempt goes back: the next reservation has the same number
    const second = (await queue.reserveNext())!;
    expect([second.id, second.attempts]).toEqual([first.id, first.attempts]);
    await queue.ack(second);
    expect(await queue.reserveNext()).toBeNull(); // two starts of g in the window
    expect((await queue.stats()).ready).toBe(1);
  });

  it("group rate is a sliding window per group", async () => {
    const { queue, clock } = await ctx.make({ visibilityTimeoutSeconds: 3600 });
    await queue.setGroupLimits({ max: 2, perSeconds: 10 });
    await fill(queue, "a", 10);
    const at = async (t: number) => {
      clock.set(Date.UTC(2030, 0, 1) + t * 1000);
      return (await queue.reserveNext()) !== null;
    };
    expect([await at(0), await at(9), await at(9.5), await at(10), await at(10.5)]).toEqual([
      true,
      true,
      false,
      true,
      false,
    ]);
    expect([await at(18.999), await at(19), await at(19.5), await at(20)]).toEqual([
      false,
      true,
      false,
      true,
    ]);
  });

  it("concurrency and rate together: both hold", async () => {
    const { queue, clock } = await ctx.make();
    await queue.setGroupLimits({ concurrency: 1, max: 2, perSeconds: 60 });
    await fill(queue, "g", 4);
    const g1 = (await queue.reserveNext())!;
    expect(await queue.reserveNext()).toBeNull(); // concurrency
    await queue.ack(g1);
    const g2 = (await queue.reserveNext())!;
    expect(g2.name).toBe("g2");
    await queue.ack(g2);
    expect(await queue.reserveNext()).toBeNull(); // rate: 2 starts in 60 s
    clock.advance(60);
    expect((await queue.reserveNext())?.name).toBe("g3");
  });

  // ---- limits and overrides -----------------------------------------------------------

  it("an override replaces the limits of every group for that group entirely; null removes it", async () => {
    const { queue } = await ctx.make();
    await queue.setGroupLimits({ concurrency: 1 });
    await queue.setGroupLimits({ max: 3, perSeconds: 60 }, { group: "vip" });
    await fill(queue, "vip", 5);
    await fill(queue, "std", 3);
    const got = names(await reserveAll(queue));
    // vip: no concurrency limit of its own (the default's is replaced), 3 starts a minute.
    expect(got.filter((n) => n?.startsWith("vip"))).toEqual(["vip1", "vip2", "vip3"]);
    expect(got.filter((n) => n?.startsWith("std"))).toEqual(["std1"]);
    expect(await queue.getLimits()).toMatchObject({
      groupLimits: { concurrency: 1 },
      groupOverrides: { vip: { max: 3, perSeconds: 60 } },
    });

    await queue.setGroupLimits(null, { group: "vip" });
    expect((await queue.getLimits()).groupOverrides).toEqual({});
    // vip is back under the limits of every group: 3 processing >= concurrency 1.
    expect(names(await reserveAll(queue))).toEqual([]);
  });

  it("setGroupLimits(null) removes the limits of every group and keeps the overrides", async () => {
    const { queue } = await ctx.make();
    await queue.setGroupLimits({ concurrency: 1 });
    await queue.setGroupLimits({ concurrency: 2 }, { group: "vip" });
    await fill(queue, "vip", 4);
    await fill(queue, "std", 3);
    expect(names(await reserveAll(queue)).sort()).toEqual(["std1", "vip1", "vip2"]);
    await queue.setGroupLimits(null);
    expect(await queue.getLimits()).toMatchObject({
      groupLimits: null,
      groupOverrides: { vip: { concurrency: 2 } },
    });
    expect(names(await reserveAll(queue)).sort()).toEqual(["std2", "std3"]);
  });

  it("an override applies before the group has any job, and to a group without limits of every group", async () => {
    const { queue } = await ctx.make();
    await queue.setGroupLimits({ concurrency: 1 }, { group: "slow" });
    await fill(queue, "slow", 3);
    await fill(queue, "fast", 3);
    expect(names(await reserveAll(queue)).sort()).toEqual(["fast1", "fast2", "fast3", "slow1"]);
  });

  it("getLimits shows group limits and overrides as stored", async () => {
    const { queue } = await ctx.make();
    await queue.setGroupLimits({ concurrency: 3, max: 10, perSeconds: 2.5 });
    await queue.setGroupLimits({ concurrency: 1 }, { group: "b" });
    await queue.setGroupLimits({ max: 1, perSeconds: 1 }, { group: "a" });
    await queue.setGroupLimits({ concurrency: 4 }, { group: "a" }); // replaces a's override
    expect(await queue.getLimits()).toEqual({
      rateLimit: null,
      groupLimits: { concurrency: 3, max: 10, perSeconds: 2.5 },
      groupOverrides: { a: { concurrency: 4 }, b: { concurrency: 1 } },
      heldUntil: null,
    });
    await queue.setGroupLimits(null, { group: "missing" }); // removing none is fine
    expect(Object.keys((await queue.getLimits()).groupOverrides).sort()).toEqual(["a", "b"]);
  });

  // A test double that cannot hold such a hash field says so (features.prototypeKeys).
  if (ctx.options.features?.prototypeKeys !== false) {
    it("a group named __proto__ is a group like any other", async () => {
      const { queue } = await ctx.make();
      await queue.setGroupLimits({ concurrency: 1 }, { group: "__proto__" });
      const limits = await queue.getLimits();
      expect(Object.entries(limits.groupOverrides)).toEqual([["__proto__", { concurrency: 1 }]]);
      await fill(queue, "__proto__", 2);
      const job = (await queue.reserveNext())!;
      expect((await queue.getJob(job.id))?.group).toBe("__proto__");
      expect(await queue.reserveNext()).toBeNull();
    });
  }

  it("refuses bad group names, naming the field, and enqueues nothing", async () => {
    const { queue } = await ctx.make();
    for (const bad of ["", 5, true, {}, ["a"], "x".repeat(257)]) {
      await expectValidationError(
        () => queue.enqueue("a", {}, { group: bad as string }),
        /^opts\.group$/,
      );
    }
    await expectValidationError(
      () =>
        queue.enqueueMany([
          { name: "ok", payload: {}, opts: { group: "fine" } },
          { name: "bad", payload: {}, opts: { group: "" } },
        ]),
      /^items\[1\]\.opts\.group$/,
    );
    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 0 });
    // 256 characters is the longest name.
    const longest = await queue.enqueue("a", {}, { group: "x".repeat(256) });
    expect((await queue.getJob(longest.id))?.group).toBe("x".repeat(256));
  });

  it("refuses bad group limits and options, naming the field, and keeps what is stored", async () => {
    const { queue } = await ctx.make();
    await queue.setGroupLimits({ concurrency: 2 });
    await queue.setGroupLimits({ max: 5, perSeconds: 5 }, { group: "vip" });
    const before = await queue.getLimits();
    const bad: [unknown, unknown, RegExp][] = [
      [{ concurrency: 0 }, undefined, /^limits\.concurrency$/],
      [{ concurrency: 1.5 }, undefined, /^limits\.concurrency$/],
      [{ concurrency: "2" }, undefined, /^limits\.concurrency$/],
      [{ max: 0, perSeconds: 1 }, undefined, /^limits\.max$/],
      [{ max: 2, perSeconds: 0 }, undefined, /^limits\.perSeconds$/],
      [{ max: 2, perSeconds: -1 }, undefined, /^limits\.perSeconds$/],
      [{ max: 2 }, undefined, /^limits\.perSeconds$/],
      [{ perSeconds: 2 }, undefined, /^limits\.max$/],
      [{ concurrency: 1, max: 3 }, undefined, /^limits\.perSeconds$/],
      [{ limit: 5 }, undefined, /^limits\.limit$/],
      [{}, undefined, /^limits$/],
      [3, undefined, /^limits$/],
      [{ concurrency: 1 }, { group: "" }, /^opts\.group$/],
      [{ concurrency: 1 }, { group: 7 }, /^opts\.group$/],
      [{ concurrency: 1 }, { group: "x".repeat(257) }, /^opts\.group$/],
      [{ concurrency: 1 }, { tenant: "a" }, /^opts\.tenant$/],
      [{ concurrency: 0 }, { group: "vip" }, /^limits\.concurrency$/],
      [null, { group: "" }, /^opts\.group$/],
    ];
    for (const [limits, opts, field] of bad) {
      await expectValidationError(
        () => queue.setGroupLimits(limits as never, opts as never),
        field,
      );
    }
    expect(await queue.getLimits()).toEqual(before);
  });

  it("is stored in the backend: queue objects on the same storage share group limits and slots", async () => {
    const { queue } = await ctx.make();
    const twin = await ctx.reopen(queue);
    if (twin === null) return; // in-memory: the storage is the object itself
    await queue.setGroupLimits({ concurrency: 1 });
    await queue.setGroupLimits({ concurrency: 2 }, { group: "vip" });
    expect(await twin.getLimits()).toEqual(await queue.getLimits());
    await fill(queue, "g", 2);
    const g1 = (await queue.reserveNext())!;
    expect(g1.name).toBe("g1");
    expect(await twin.reserveNext()).toBeNull();
    await twin.ack(g1);
    expect((await twin.reserveNext())?.name).toBe("g2");
    await twin.setGroupLimits(null, { group: "vip" });
    expect((await queue.getLimits()).groupOverrides).toEqual({});
  });

  // ---- seeing groups --------------------------------------------------------------------

  it("JobInfo.group is the enqueue's group or null, in every state", async () => {
    const { queue, clock } = await ctx.make();
    const grouped = await queue.enqueue("grouped", {}, { group: "t1" });
    const plain = await queue.enqueue("plain", {});
    const later = await queue.enqueue("later", {}, { group: "t2", delaySeconds: 60 });
    expect((await queue.getJob(grouped.id))?.group).toBe("t1");
    expect((await queue.getJob(plain.id))?.group).toBeNull();
    expect((await queue.getJob(later.id))?.group).toBe("t2");
    const ready = await queue.listJobs({ state: "ready" });
    expect(ready.jobs.map((j) => [j.name, j.group])).toEqual([
      ["plain", null],
      ["grouped", "t1"],
    ]);
    expect((await queue.listJobs({ state: "delayed" })).jobs.map((j) => j.group)).toEqual(["t2"]);
    const held = await reserveAll(queue);
    expect(held).toHaveLength(2);
    const processing = await queue.listJobs({ state: "processing" });
    expect(processing.jobs.map((j) => [j.name, j.group]).sort()).toEqual([
      ["grouped", "t1"],
      ["plain", null],
    ]);
    // A retried job keeps its group.
    const g = held.find((j) => j.name === "grouped")!;
    await queue.fail(g, new Error("once"));
    expect((await queue.getJob(g.id))?.group).toBe("t1");
    clock.advance(3600);
    expect(await queue.getJob(g.id)).toMatchObject({ state: "ready", group: "t1" });
    expect(await queue.getJob(later.id)).toMatchObject({ state: "ready", group: "t2" });
  });

  it("stats counts grouped jobs in ready, delayed and processing", async () => {
    const { queue } = await ctx.make();
    await queue.setGroupLimits({ concurrency: 1 });
    await fill(queue, "a", 3);
    await fill(queue, "b", 2);
    await queue.enqueue("plain", {});
    await queue.enqueue("later", {}, { group: "a", delaySeconds: 5 });
    expect(await queue.stats()).toMatchObject({ ready: 6, delayed: 1, processing: 0 });
    await reserveAll(queue);
    expect(await queue.stats()).toMatchObject({ ready: 3, delayed: 1, processing: 3 });
  });

  it("listJobs ready: jobs without a group first in run order, then each group's in run order, groups by name", async () => {
    const { queue } = await ctx.make();
    await queue.enqueue("b-1", {}, { group: "b" });
    await queue.enqueue("plain-1", {});
    await queue.enqueue("a-low", {}, { group: "a", priority: -1 });
    await queue.enqueue("a-1", {}, { group: "a" });
    await queue.enqueue("plain-high", {}, { priority: 2 });
    await queue.enqueue("c-1", {}, { group: "c" });
    await queue.enqueue("a-high", {}, { group: "a", priority: 5 });
    await queue.enqueue("b-2", {}, { group: "b" });
    const expected = ["plain-high", "plain-1", "a-high", "a-1", "a-low", "b-1", "b-2", "c-1"];
    expect((await queue.listJobs({ state: "ready" })).jobs.map((j) => j.name)).toEqual(expected);
    for (const limit of [1, 2, 3]) {
      const { jobs } = await listAll(queue, "ready", { limit });
      expect(
        jobs.map((j) => j.name),
        `pages of ${limit}`,
      ).toEqual(expected);
    }
    expect((await listAll(queue, "ready", { name: "b-2", limit: 1 })).jobs).toHaveLength(1);
  });

  it("listJobs ready pages through groups without skips or repeats while the queue changes", async () => {
    const { queue } = await ctx.make();
    await queue.setGroupLimits({ concurrency: 2 });
    for (const g of ["m", "d", "x"]) await fill(queue, g, 4);
    for (let i = 1; i <= 3; i++) await queue.enqueue(`plain${i}`, {});
    const stayers = new Set((await listAll(queue, "ready", { limit: 1000 })).jobs.map((j) => j.id));
    let n = 0;
    const seen: string[] = [];
    const { jobs } = await listAll(queue, "ready", {
      limit: 2,
      between: async () => {
        n++;
        // Jobs arrive in old and new groups and some leave ready.
        await queue.enqueue(`new-${n}`, {}, { group: n % 2 ? "a-new" : "z-new" });
        await queue.enqueue(`new-plain-${n}`, {});
        await queue.enqueue(`new-d-${n}`, {}, { group: "d", priority: n % 3 === 0 ? 1 : -1 });
        const taken = await queue.reserveNext();
        if (taken) stayers.delete(taken.id);
      },
    });
    for (const job of jobs) seen.push(job.id);
    expect(new Set(seen).size, "a job was listed twice").toBe(seen.length);
    for (const id of stayers) expect(seen, `job ${id} stayed ready but was skipped`).toContain(id);
  });

  // ---- blocking -------------------------------------------------------------------------

  if (ctx.options.features?.blocking !== false) {
    it("a blocking reserve waiting while every group is at its limit wakes when a job of it is acked", async () => {
      const { queue } = await ctx.make();
      await queue.setGroupLimits({ concurrency: 1 });
      await fill(queue, "a", 2);
      await fill(queue, "b", 2);
      const [a1, b1] = await reserveAll(queue);
      expect(names([a1!, b1!])).toEqual(["a1", "b1"]);
      let settled = false;
      const pending = queue.reserveNext({ blockSeconds: 10 }).finally(() => {
        settled = true;
      });
      await sleep(400);
      expect(settled, "the reserve returned while every group was at its limit").toBe(false);
      const ackedAt = Date.now();
      await queue.ack(b1!);
      const got = await within(pending, 5000, "the blocked reserve to wake on the ack");
      expect(got?.name).toBe("b2");
      expect(Date.now() - ackedAt).toBeLessThan(3000);
      expect(await queue.reserveNext()).toBeNull();
    });

    it("a blocking reserve waiting on limits wakes when the limits are raised or removed", async () => {
      const { queue } = await ctx.make();
      await queue.setGroupLimits({ concurrency: 1 });
      await queue.setRateLimit({ max: 2, perSeconds: 3600 });
      await fill(queue, "g", 4);
      await queue.reserveNext();
      const pending = queue.reserveNext({ blockSeconds: 10 });
      await sleep(300);
      const changedAt = Date.now();
      await queue.setGroupLimits({ concurrency: 2 });
      expect((await within(pending, 5000, "the reserve to wake on setGroupLimits"))?.name).toBe(
        "g2",
      );
      expect(Date.now() - changedAt).toBeLessThan(3000);
      await queue.setGroupLimits(null);
      // Now the queue's window is full (2 starts in the hour).
      const second = queue.reserveNext({ blockSeconds: 10 });
      await sleep(300);
      const removedAt = Date.now();
      await queue.setRateLimit(null);
      expect((await within(second, 5000, "the reserve to wake on setRateLimit"))?.name).toBe("g3");
      expect(Date.now() - removedAt).toBeLessThan(3000);
    });

    it("a blocking reserve waiting on the queue's rate limit wakes when the window slides", async () => {
      const { queue } = await ctx.make({ clock: systemClock });
      await queue.setRateLimit({ max: 1, perSeconds: 0.5 });
      await queue.enqueue("first", {});
      await queue.enqueue("second", {});
      const started = Date.now();
      expect((await queue.reserveNext())?.name).toBe("first");
      const got = await queue.reserveNext({ blockSeconds: 10 });
      expect(got?.name).toBe("second");
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it("a blocking reserve waiting on a group's rate limit wakes when its window slides", async () => {
      const { queue } = await ctx.make({ clock: systemClock });
      await queue.setGroupLimits({ max: 1, perSeconds: 0.5 });
      await fill(queue, "g", 2);
      const started = Date.now();
      expect((await queue.reserveNext())?.name).toBe("g1");
      const got = await queue.reserveNext({ blockSeconds: 10 });
      expect(got?.name).toBe("g2");
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it("a blocking reserve waiting while a group is at its limit returns null when blockSeconds end", async () => {
      const { queue } = await ctx.make();
      await queue.setGroupLimits({ concurrency: 1 });
      await fill(queue, "g", 2);
      await queue.reserveNext();
      const started = Date.now();
      expect(await queue.reserveNext({ blockSeconds: 0.3 })).toBeNull();
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect((await queue.stats()).ready).toBe(1);
    });
  }
}
