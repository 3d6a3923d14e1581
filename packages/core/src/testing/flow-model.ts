import { expect, it } from "vitest";
import type { GroupLimits, RateLimit, RateLimitScope } from "../flow-control.js";
import type { Job } from "../job.js";
import type { JobQueue } from "../job-queue.js";
import { ManualClock } from "../manual-clock.js";
import type { QueueFactoryContext } from "./context.js";

// The flow-control property test (docs/contract.md, "Flow control"): random interleavings
// of enqueue (with groups, priorities and delays), reserve, ack, fail, release (with holds),
// extendVisibility, cancel, promote, clock advances, setRateLimit and setGroupLimits never
// exceed a limit, never lose or duplicate a job, and never leave an eligible job unreserved.

/** What {@link flowModelProperty} needs of `testJobQueueModel`'s options. */
export interface FlowModelOptions {
  name: string;
  create: (ctx: QueueFactoryContext) => JobQueue | Promise<JobQueue>;
  timeoutMs?: number;
}

const VT = 10;
const GROUPS = [null, null, "a", "a", "b", "c"] as const;
const OVERRIDE_GROUPS = [null, null, "a", "b"] as const;
const PRIORITIES = [0, 0, 0, 1, -1];
const DELAYS = [0, 0, 0, 1, 5];
const BACKOFFS = [0, 0, 1];
const ADVANCES = [0.25, 0.5, 1, 2, 5, 11];
const WINDOWS = [0.5, 1, 2, 5];
const RELEASE_DELAYS = [0, 0, 0.5, 2];
const SCOPES = [undefined, "job", "group", "group", "queue"] as const;

type FlowOp =
  | { t: "enqueue"; group: string | null; priority: number; delay: number; backoff: number }
  | { t: "reserve"; count: number }
  | { t: "ack" | "fail"; which: number }
  | { t: "release"; which: number; delay: number; scope: RateLimitScope | undefined }
  | { t: "extend"; which: number; seconds: number }
  | { t: "cancel" | "promote"; which: number }
  | { t: "advance"; seconds: number }
  | { t: "setRateLimit"; limit: RateLimit | null }
  | { t: "setGroupLimits"; limits: GroupLimits | null; group: string | null };

interface FlowJob {
  id: string;
  group: string | null;
  priority: number;
  backoff: number;
  state: "ready" | "delayed" | "processing" | "done";
  attempts: number;
  /** Due time while delayed, deadline while processing (epoch ms). */
  at: number;
}

interface Window {
  max: number;
  perMs: number;
}

/**
 * Starts of one limited party (the queue, or a group). `all`: every start made while it
 * had a rate limit, an upper bound of what a backend counts. `epoch`: the starts since
 * the limit was last set after none, or widened, a lower bound: a start that makes
 * `epoch` exceed `max` in a window is a start the limit forbade.
 */
class Starts {
  all: number[] = [];
  epoch: number[] = [];

  record(now: number): void {
    this.all.push(now);
    this.epoch.push(now);
  }

  static inWindow(list: number[], now: number, perMs: number): number {
    let n = 0;
    for (const t of list) if (t > now - perMs) n++;
    return n;
  }
}

class FlowModel {
  jobs = new Map<string, FlowJob>();
  seq = 0;
  queueHold = 0;
  groupHold = new Map<string, number>();
  rateLimit: RateLimit | null = null;
  groupLimits: GroupLimits | null = null;
  overrides = new Map<string, GroupLimits>();
  queueStarts = new Starts();
  groupStarts = new Map<string, Starts>();

  constructor(readonly clock: ManualClock) {}

  get now(): number {
    return this.clock.now();
  }

  housekeep(): void {
    const now = this.now;
    for (const j of this.jobs.values()) {
      if ((j.state === "processing" || j.state === "delayed") && j.at <= now) j.state = "ready";
    }
  }

  limitsOf(group: string): GroupLimits | null {
    return this.overrides.get(group) ?? this.groupLimits;
  }

  rateOf(group: string): Window | null {
    const l = this.limitsOf(group);
    return l?.max === undefined ? null : { max: l.max, perMs: l.perSeconds! * 1000 };
  }

  startsOf(group: string): Starts {
    let s = this.groupStarts.get(group);
    if (!s) {
      s = new Starts();
      this.groupStarts.set(group, s);
    }
    return s;
  }

  /** Processing jobs of `group` whose reservation still runs. */
  active(group: string, except?: string): number {
    let n = 0;
    for (const j of this.jobs.values()) {
      if (j.group === group && j.state === "processing" && j.at > this.now && j.id !== except) n++;
    }
    return n;
  }

  groupsKnown(): string[] {
    const names = new Set<string>(["a", "b", "c"]);
    for (const j of this.jobs.values()) if (j.group !== null) names.add(j.group);
    return [...names];
  }

  /** Whether a queue-level start is allowed now, by the upper bound of counted starts. */
  queueSurelyFree(): boolean {
    if (this.queueHold > this.now) return false;
    if (this.rateLimit === null) return true;
    const perMs = this.rateLimit.perSeconds * 1000;
    return Starts.inWindow(this.queueStarts.all, this.now, perMs) < this.rateLimit.max;
  }

  /** Whether `group` may surely start a job now (its hold, concurrency and rate). */
  groupSurelyFree(group: string): boolean {
    if ((this.groupHold.get(group) ?? 0) > this.now) return false;
    const limits = this.limitsOf(group);
    if (limits?.concurrency !== undefined && this.active(group) >= limits.concurrency) {
      return false;
    }
    const rate = this.rateOf(group);
    if (
      rate !== null &&
      Starts.inWindow(this.startsOf(group).all, this.now, rate.perMs) >= rate.max
    ) {
      return false;
    }
    return true;
  }

  /** Ready jobs a reserve must surely be able to start now. */
  eligible(): FlowJob[] {
    if (!this.queueSurelyFree()) return [];
    return [...this.jobs.values()].filter(
      (j) => j.state === "ready" && (j.group === null || this.groupSurelyFree(j.group)),
    );
  }

  counts() {
    const c = { ready: 0, delayed: 0, processing: 0 };
    for (const j of this.jobs.values()) if (j.state !== "done") c[j.state]++;
    return c;
  }
}

/**
 * Registers the flow-control property test: `numRuns` random sequences, each checked
 * step by step against {@link FlowModel}. Needs `fast-check`.
 */
export function flowModelProperty(options: FlowModelOptions, seed: number, numRuns: number): void {
  it(
    `flow control model (${options.name}): ${numRuns} random sequences never exceed a limit, never lose or duplicate a job (seed ${seed})`,
    async () => {
      const fc = await import("fast-check");
      const window = fc.constantFrom(...WINDOWS);
      const rate = fc.record({ max: fc.integer({ min: 1, max: 3 }), perSeconds: window });
      const concurrency = fc.integer({ min: 1, max: 3 });
      const groupLimits = fc.oneof(
        fc.record({ concurrency }),
        rate,
        fc.record({ concurrency, max: fc.integer({ min: 1, max: 3 }), perSeconds: window }),
      );
      const which = fc.oneof(fc.nat({ max: 2 }), fc.nat({ max: 40 }));
      const op: import("fast-check").Arbitrary<FlowOp> = fc.oneof(
        {
          weight: 5,
          arbitrary: fc.record({
            t: fc.constant("enqueue" as const),
            group: fc.constantFrom(...GROUPS),
            priority: fc.constantFrom(...PRIORITIES),
            delay: fc.constantFrom(...DELAYS),
            backoff: fc.constantFrom(...BACKOFFS),
          }),
        },
        {
          weight: 6,
          arbitrary: fc.record({
            t: fc.constant("reserve" as const),
            count: fc.constantFrom(1, 1, 1, 3),
          }),
        },
        {
          weight: 3,
          arbitrary: fc.record({ t: fc.constantFrom("ack" as const, "fail" as const), which }),
        },
        {
          weight: 2,
          arbitrary: fc.record({
            t: fc.constant("release" as const),
            which,
            delay: fc.constantFrom(...RELEASE_DELAYS),
            scope: fc.constantFrom(...SCOPES),
          }),
        },
        {
          weight: 2,
          arbitrary: fc.record({
            t: fc.constantFrom("cancel" as const, "promote" as const),
            which,
          }),
        },
        {
          weight: 1,
          arbitrary: fc.record({
            t: fc.constant("extend" as const),
            which,
            seconds: fc.constantFrom(1, 5, 30),
          }),
        },
        {
          weight: 3,
          arbitrary: fc
            .constantFrom(...ADVANCES)
            .map((seconds) => ({ t: "advance" as const, seconds })),
        },
        {
          weight: 1,
          arbitrary: fc
            .option(rate, { freq: 3 })
            .map((limit) => ({ t: "setRateLimit" as const, limit })),
        },
        {
          weight: 2,
          arbitrary: fc.record({
            t: fc.constant("setGroupLimits" as const),
            limits: fc.option(groupLimits, { freq: 4 }),
            group: fc.constantFrom(...OVERRIDE_GROUPS),
          }),
        },
      );

      await fc.assert(
        fc.asyncProperty(
          fc.array(op, { minLength: 5, maxLength: 60, size: "max" }),
          async (ops) => {
            const clock = new ManualClock(Date.UTC(2030, 0, 1));
            const queue = await options.create({
              clock,
              visibilityTimeoutSeconds: VT,
              options: {},
            });
            const model = new FlowModel(clock);
            const held: Job[] = [];
            /** Processing jobs per group, as the backend listed them after the last step. */
            let lastProcessing = new Map<string, number>();
            try {
              for (const [step, o] of ops.entries()) {
                const at = `step ${step} ${JSON.stringify(o)}`;
                await apply(o, at);
                await checkStep(at);
              }
              await finish();
            } finally {
              await queue.close();
            }

            /** One reserved job: every limit held, and the model follows. */
            function started(job: Job, at: string): void {
              const now = model.now;
              const m = model.jobs.get(job.id);
              expect(m, `${at}: reserved unknown job ${job.id}`).toBeDefined();
              expect(
                m!.state,
                `${at}: reserved job ${job.id} that was ${m!.state} (lost or duplicated)`,
              ).toBe("ready");
              expect(model.queueHold <= now, `${at}: reserved while the queue was held`).toBe(true);
              if (model.rateLimit !== null) {
                const { max, perSeconds } = model.rateLimit;
                const n = Starts.inWindow(model.queueStarts.epoch, now, perSeconds * 1000) + 1;
                expect(
                  n,
                  `${at}: ${n} queue starts in ${perSeconds}s (max ${max})`,
                ).toBeLessThanOrEqual(max);
              }
              const peers = [...model.jobs.values()].filter(
                (j) => j.state === "ready" && j.group === m!.group,
              );
              expect(
                m!.priority,
                `${at}: job ${job.id} of priority ${m!.priority} started before a higher one of its ${m!.group === null ? "ungrouped jobs" : `group ${m!.group}`}`,
              ).toBe(Math.max(...peers.map((j) => j.priority)));
              if (m!.group !== null) {
                const g = m!.group;
                expect(
                  (model.groupHold.get(g) ?? 0) <= now,
                  `${at}: reserved a job of held group ${g}`,
                ).toBe(true);
                const limits = model.limitsOf(g);
                if (limits?.concurrency !== undefined) {
                  const n = model.active(g, job.id) + 1;
                  expect(
                    n,
                    `${at}: group ${g} has ${n} processing (concurrency ${limits.concurrency})`,
                  ).toBeLessThanOrEqual(limits.concurrency);
                }
                const r = model.rateOf(g);
                if (r !== null) {
                  const n = Starts.inWindow(model.startsOf(g).epoch, now, r.perMs) + 1;
                  expect(
                    n,
                    `${at}: ${n} starts of group ${g} in a window (max ${r.max})`,
                  ).toBeLessThanOrEqual(r.max);
                  model.startsOf(g).record(now);
                }
              }
              if (model.rateLimit !== null) model.queueStarts.record(now);
              m!.state = "processing";
              m!.attempts++;
              m!.at = now + VT * 1000;
              expect(job.attempts, `${at}: attempts of job ${job.id}`).toBe(m!.attempts);
              held.push(job);
            }

            /** The reservation `job` refers to, when it is still the current one. */
            function fenced(job: Job): FlowJob | undefined {
              const m = model.jobs.get(job.id);
              if (m?.state !== "processing" || m.attempts !== job.attempts) return undefined;
              return m;
            }

            function pick(which: number): Job | undefined {
              return held[held.length - 1 - (which % Math.max(1, held.length))];
            }

            function limitsChanged(
              before: Map<string, Window | null>,
              queueBefore: RateLimit | null,
            ) {
              // A window that is removed or widened starts a new epoch of counted starts.
              const q = model.rateLimit;
              if (q === null || (queueBefore !== null && q.perSeconds > queueBefore.perSeconds)) {
                model.queueStarts.epoch = [];
              }
              for (const g of model.groupsKnown()) {
                const was = before.get(g) ?? null;
                const now = model.rateOf(g);
                if (now === null || (was !== null && now.perMs > was.perMs)) {
                  model.startsOf(g).epoch = [];
                }
              }
            }

            async function expectLimits(at: string): Promise<void> {
              const got = await queue.getLimits();
              expect(
                {
                  rateLimit: got.rateLimit,
                  groupLimits: got.groupLimits,
                  groupOverrides: got.groupOverrides,
                },
                at,
              ).toEqual({
                rateLimit: model.rateLimit,
                groupLimits: model.groupLimits,
                groupOverrides: Object.fromEntries(model.overrides),
              });
              const held = model.queueHold > model.now ? model.queueHold : null;
              expect(got.heldUntil?.getTime() ?? null, `${at}: heldUntil`).toBe(held);
            }

            async function apply(o: FlowOp, at: string): Promise<void> {
              switch (o.t) {
                case "enqueue": {
                  const job = await queue.enqueue(
                    "job",
                    {},
                    {
                      maxAttempts: 1000,
                      backoffSeconds: o.backoff,
                      ...(o.delay > 0 ? { delaySeconds: o.delay } : {}),
                      ...(o.priority !== 0 ? { priority: o.priority } : {}),
                      ...(o.group !== null ? { group: o.group } : {}),
                    },
                  );
                  const id = String(++model.seq);
                  expect(job.id, at).toBe(id);
                  model.jobs.set(id, {
                    id,
                    group: o.group,
                    priority: o.priority,
                    backoff: o.backoff,
                    state: o.delay > 0 ? "delayed" : "ready",
                    attempts: 0,
                    at: model.now + o.delay * 1000,
                  });
                  return;
                }
                case "reserve": {
                  model.housekeep();
                  let jobs: Job[];
                  if (o.count > 1 && typeof queue.reserveMany === "function") {
                    jobs = await queue.reserveMany(o.count);
                    expect(jobs.length, at).toBeLessThanOrEqual(o.count);
                  } else {
                    jobs = [];
                    for (let i = 0; i < o.count; i++) {
                      const job = await queue.reserveNext();
                      if (!job) break;
                      jobs.push(job);
                    }
                  }
                  for (const job of jobs) started(job, at);
                  if (jobs.length < o.count) {
                    // Nothing more started: then no job may have been surely startable.
                    const waiting = model.eligible().map((j) => `${j.id}(${j.group ?? "-"})`);
                    expect(
                      waiting,
                      `${at}: the reserve started ${jobs.length} of ${o.count} while these jobs could start`,
                    ).toEqual([]);
                  }
                  return;
                }
                case "ack":
                case "fail": {
                  const job = pick(o.which);
                  if (!job) return;
                  const m = fenced(job);
                  if (o.t === "ack") {
                    await queue.ack(job);
                    if (m) m.state = "done";
                  } else {
                    await queue.fail(job, new Error("boom"));
                    if (m) {
                      const delay = m.backoff * m.attempts;
                      m.state = delay > 0 ? "delayed" : "ready";
                      m.at = model.now + delay * 1000;
                    }
                  }
                  return;
                }
                case "release": {
                  const job = pick(o.which);
                  if (!job) return;
                  const m = fenced(job);
                  await queue.release(job, {
                    delaySeconds: o.delay,
                    ...(o.scope === undefined ? {} : { scope: o.scope }),
                  });
                  if (m) {
                    m.attempts--;
                    const until = model.now + o.delay * 1000;
                    m.state = "ready";
                    if (o.delay > 0 && o.scope === "queue") {
                      model.queueHold = Math.max(model.queueHold, until);
                    } else if (o.delay > 0 && o.scope === "group" && m.group !== null) {
                      model.groupHold.set(
                        m.group,
                        Math.max(model.groupHold.get(m.group) ?? 0, until),
                      );
                    } else if (o.delay > 0) {
                      m.state = "delayed";
                      m.at = until;
                    }
                  }
                  await expectLimits(at);
                  return;
                }
                case "extend": {
                  const job = pick(o.which);
                  if (!job) return;
                  const m = fenced(job);
                  await queue.extendVisibility(job, o.seconds);
                  if (m) m.at = model.now + o.seconds * 1000;
                  return;
                }
                case "promote": {
                  const id = String(1 + (o.which % Math.max(1, model.seq)));
                  const m = model.jobs.get(id);
                  // A delayed job that fell due is ready; whether promote still says true
                  // for it is the promote cases' business, not this test's.
                  const fellDue = m?.state === "delayed" && m.at <= model.now;
                  model.housekeep();
                  const expected = m?.state === "delayed";
                  const got = await queue.promote(id);
                  if (!fellDue) expect(got, at).toBe(expected);
                  if (expected) m!.state = "ready";
                  return;
                }
                case "cancel": {
                  model.housekeep();
                  const id = String(1 + (o.which % Math.max(1, model.seq)));
                  const m = model.jobs.get(id);
                  const expected = m !== undefined && m.state !== "done";
                  expect(await queue.cancel(id), at).toBe(expected);
                  if (expected) m!.state = "done";
                  return;
                }
                case "advance":
                  clock.advance(o.seconds);
                  return;
                case "setRateLimit": {
                  const before = new Map(model.groupsKnown().map((g) => [g, model.rateOf(g)]));
                  const queueBefore = model.rateLimit;
                  await queue.setRateLimit(o.limit);
                  model.rateLimit = o.limit;
                  limitsChanged(before, queueBefore);
                  await expectLimits(at);
                  return;
                }
                case "setGroupLimits": {
                  const before = new Map(model.groupsKnown().map((g) => [g, model.rateOf(g)]));
                  if (o.group === null) {
                    await queue.setGroupLimits(o.limits);
                    model.groupLimits = o.limits;
                  } else {
                    await queue.setGroupLimits(o.limits, { group: o.group });
                    if (o.limits === null) model.overrides.delete(o.group);
                    else model.overrides.set(o.group, o.limits);
                  }
                  limitsChanged(before, model.rateLimit);
                  await expectLimits(at);
                  return;
                }
              }
            }

            /** After every step: the counts agree, and no group went over its concurrency. */
            async function checkStep(at: string): Promise<void> {
              model.housekeep();
              const stats = await queue.stats();
              expect(
                { ready: stats.ready, delayed: stats.delayed, processing: stats.processing },
                `${at}: stats (a job lost or duplicated?)`,
              ).toEqual(model.counts());
              if (stats.dlq !== 0) expect.fail(`${at}: ${stats.dlq} jobs in the DLQ`);
              const limited = model.groupsKnown().some((g) => model.limitsOf(g)?.concurrency);
              if (!limited) {
                // No concurrency to check: the model's counts (equal to the backend's, by
                // the stats) are the baseline of the next step.
                lastProcessing = new Map();
                for (const j of model.jobs.values()) {
                  if (j.state === "processing" && j.group !== null) {
                    lastProcessing.set(j.group, (lastProcessing.get(j.group) ?? 0) + 1);
                  }
                }
                return;
              }
              const listed = await queue.listJobs({ state: "processing", limit: 1000 });
              const perGroup = new Map<string, number>();
              for (const j of listed.jobs) {
                if (j.group !== null) perGroup.set(j.group, (perGroup.get(j.group) ?? 0) + 1);
              }
              for (const [g, n] of perGroup) {
                const c = model.limitsOf(g)?.concurrency;
                if (c === undefined || n <= c) continue;
                // Over a lowered limit is fine as long as nothing more started.
                expect(
                  n,
                  `${at}: group ${g} has ${n} jobs processing, over its concurrency ${c}`,
                ).toBeLessThanOrEqual(lastProcessing.get(g) ?? 0);
              }
              lastProcessing = perGroup;
            }

            /** Limits off, an hour later: every job still in the queue is reserved exactly once. */
            async function finish(): Promise<void> {
              await queue.setRateLimit(null);
              await queue.setGroupLimits(null);
              for (const g of model.overrides.keys())
                await queue.setGroupLimits(null, { group: g });
              clock.advance(3600);
              model.housekeep();
              const expected = [...model.jobs.values()]
                .filter((j) => j.state !== "done")
                .map((j) => j.id)
                .sort();
              const drained: string[] = [];
              for (let i = 0; i <= expected.length; i++) {
                const job = await queue.reserveNext();
                if (!job) break;
                drained.push(job.id);
                await queue.ack(job);
              }
              expect(drained.sort(), "the jobs left at the end (lost or duplicated?)").toEqual(
                expected,
              );
              const stats = await queue.stats();
              expect(
                { ready: stats.ready, delayed: stats.delayed, processing: stats.processing },
                "the queue is empty at the end",
              ).toEqual({ ready: 0, delayed: 0, processing: 0 });
            }
          },
        ),
        { seed, numRuns },
      );
    },
    options.timeoutMs ?? 120_000,
  );
}
