import { expect, it } from "vitest";
import { visibilityExpiredMessage } from "../error-message.js";
import type { Job } from "../job.js";
import type { JobQueue } from "../job-queue.js";
import { ManualClock } from "../manual-clock.js";
import type { QueueFactoryContext } from "./context.js";
import { expectedStats } from "./expected-stats.js";
import { flowModelProperty } from "./flow-model.js";

/** Options of {@link testJobQueueModel}. */
export interface JobQueueModelOptions {
  /** Shown in the test name. */
  name: string;
  /** Makes a fresh, empty queue (called once per generated sequence). */
  create: (ctx: QueueFactoryContext) => JobQueue | Promise<JobQueue>;
  /** Sequences to try. @default 200 */
  numRuns?: number;
  /**
   * Sequences of the flow-control property test (groups, rate limits, holds), which runs
   * next to the model test. @default a quarter of `numRuns`, at least 20
   */
  flowNumRuns?: number;
  /** Seed; printed on every run, and taken from `SVC_JOBS_PROPERTY_SEED` when set. */
  seed?: number;
  /** Per-test timeout in ms. @default 120000 */
  timeoutMs?: number;
}

const VT = 10;
const DELAYS = [0, 0, 0.5, 2, 10];
const BACKOFFS = [0, 1, 5];
const ADVANCES = [0.5, 1, 5, 10, 31];
const PRIORITIES = [0, 0, 0, 1, 1, -1, 5];

type EnqueueSpec = {
  name: number;
  delay: number;
  maxAttempts: number;
  backoff: number;
  dedupe: string | null;
  priority: number;
};
type Op =
  | { t: "enqueue"; spec: EnqueueSpec }
  | { t: "enqueueMany"; specs: EnqueueSpec[] }
  | { t: "reserve" }
  | { t: "ack" | "fail" | "release"; which: number; byId: boolean }
  | { t: "extend"; which: number; byId: boolean; seconds: number }
  | { t: "dlqRequeue"; which: number }
  | { t: "dlqRequeueAll" }
  | { t: "dlqPurge" }
  | { t: "advance"; seconds: number }
  | { t: "stats" }
  | { t: "dlqList" }
  | { t: "cancel"; which: number }
  | { t: "pause" | "resume" }
  | { t: "getJob"; which: number }
  | { t: "listReady" }
  | { t: "checkReservations" };

type State = "ready" | "delayed" | "processing" | "dlq";
interface ModelJob {
  id: string;
  name: string;
  payload: { n: number };
  state: State;
  attempts: number;
  maxAttempts: number;
  backoff: number;
  lastError: string | null;
  at: number;
  priority: number;
}

/** The reference model: the JobQueue semantics (docs/contract.md), written as plainly as possible. */
class Model {
  jobs = new Map<string, ModelJob>();
  dedupe = new Map<string, string>();
  seq = 0;
  paused = false;
  /** Reservations ended by cancel: the attempt, and when (epoch ms). */
  cancelledReservations = new Map<string, { attempts: number; at: number }>();
  constructor(readonly clock: ManualClock) {}

  get now(): number {
    return this.clock.now();
  }

  housekeep(): void {
    const now = this.now;
    for (const j of this.jobs.values()) {
      if (j.state === "processing" && j.at <= now) {
        j.lastError = visibilityExpiredMessage(j.attempts);
        j.state = j.attempts >= j.maxAttempts ? "dlq" : "ready";
      } else if (j.state === "delayed" && j.at <= now) {
        j.state = "ready";
      }
    }
  }

  enqueue(s: EnqueueSpec, n: number): string {
    if (s.dedupe !== null) {
      const hit = this.dedupe.get(s.dedupe);
      if (hit) return hit;
    }
    const id = String(++this.seq);
    this.jobs.set(id, {
      id,
      name: `job${s.name}`,
      payload: { n },
      state: s.delay > 0 ? "delayed" : "ready",
      attempts: 0,
      maxAttempts: s.maxAttempts,
      backoff: s.backoff,
      lastError: null,
      at: this.now + s.delay * 1000,
      priority: s.priority,
    });
    if (s.dedupe !== null) this.dedupe.set(s.dedupe, id);
    return id;
  }

  /** The reserved job `held` refers to, when its reservation is still the current one. */
  fenced(held: Job, byId: boolean): ModelJob | undefined {
    const j = this.jobs.get(held.id);
    if (j?.state !== "processing") return undefined;
    if (!byId && j.attempts !== held.attempts) return undefined;
    return j;
  }

  counts() {
    const c = expectedStats({ paused: this.paused });
    for (const j of this.jobs.values()) c[j.state]++;
    return c;
  }
}

/**
 * Model-based property test: random sequences of enqueue (with priorities), enqueueMany,
 * reserve, ack, fail, release, extendVisibility, DLQ operations, cancel, pause and
 * resume, getJob, listJobs, checkReservations and clock advances, run against the
 * queue and a small reference model, compared step by step. Needs `fast-check`.
 */
export function testJobQueueModel(options: JobQueueModelOptions): void {
  const envSeed = process.env.SVC_JOBS_PROPERTY_SEED;
  const seed = envSeed
    ? Number(envSeed)
    : (options.seed ?? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0);
  const numRuns = options.numRuns ?? 200;

  it(
    `JobQueue model (${options.name}): ${numRuns} random sequences agree with the reference model (seed ${seed})`,
    async () => {
      const fc = await import("fast-check");
      console.log(
        `[svc-jobs] model test ${options.name}: seed=${seed} numRuns=${numRuns} (reproduce with SVC_JOBS_PROPERTY_SEED=${seed})`,
      );
      const spec = fc.record({
        name: fc.integer({ min: 0, max: 3 }),
        delay: fc.constantFrom(...DELAYS),
        maxAttempts: fc.integer({ min: 1, max: 3 }),
        backoff: fc.constantFrom(...BACKOFFS),
        dedupe: fc.option(fc.constantFrom("a", "b", "c"), { freq: 4 }),
        priority: fc.constantFrom(...PRIORITIES),
      });
      // Mostly the latest reservations (where stale and current ones meet), sometimes any.
      const which = fc.oneof(fc.nat({ max: 2 }), fc.nat({ max: 50 }));
      const op: import("fast-check").Arbitrary<Op> = fc.oneof(
        { weight: 4, arbitrary: spec.map((s) => ({ t: "enqueue" as const, spec: s })) },
        {
          weight: 1,
          arbitrary: fc
            .array(spec, { minLength: 1, maxLength: 3 })
            .map((specs) => ({ t: "enqueueMany" as const, specs })),
        },
        { weight: 5, arbitrary: fc.constant({ t: "reserve" as const }) },
        {
          weight: 3,
          arbitrary: fc.record({
            t: fc.constantFrom("ack" as const, "fail" as const, "release" as const),
            which,
            byId: fc.boolean(),
          }),
        },
        {
          weight: 1,
          arbitrary: fc.record({
            t: fc.constant("extend" as const),
            which,
            byId: fc.boolean(),
            seconds: fc.constantFrom(1, 5, 30),
          }),
        },
        { weight: 1, arbitrary: fc.record({ t: fc.constant("dlqRequeue" as const), which }) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            { t: "dlqRequeueAll" as const },
            { t: "dlqPurge" as const },
            { t: "dlqList" as const },
          ),
        },
        {
          weight: 3,
          arbitrary: fc
            .constantFrom(...ADVANCES)
            .map((seconds) => ({ t: "advance" as const, seconds })),
        },
        { weight: 2, arbitrary: fc.constant({ t: "stats" as const }) },
        { weight: 2, arbitrary: fc.record({ t: fc.constant("cancel" as const), which }) },
        {
          weight: 1,
          arbitrary: fc.constantFrom({ t: "pause" as const }, { t: "resume" as const }),
        },
        { weight: 1, arbitrary: fc.record({ t: fc.constant("getJob" as const), which }) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            { t: "listReady" as const },
            { t: "checkReservations" as const },
          ),
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
            const model = new Model(clock);
            const held: Job[] = [];
            let n = 0;
            try {
              for (const [step, o] of ops.entries()) {
                const at = `step ${step} ${JSON.stringify(o)}`;
                await applyOp(o, at);
              }
              // Every sequence ends with a full comparison, so no divergence goes unseen.
              await applyOp({ t: "stats" }, "final stats");
              await applyOp({ t: "dlqList" }, "final dlq list");
              clock.advance(3600);
              await applyOp({ t: "stats" }, "final stats after an hour");
            } finally {
              await queue.close();
            }

            async function applyOp(o: Op, at: string): Promise<void> {
              switch (o.t) {
                case "enqueue": {
                  const job = await queue.enqueue(`job${o.spec.name}`, { n: ++n }, optsOf(o.spec));
                  expect(job.id, at).toBe(model.enqueue(o.spec, n));
                  return;
                }
                case "enqueueMany": {
                  const first = n;
                  const jobs = await queue.enqueueMany(
                    o.specs.map((s, i) => ({
                      name: `job${s.name}`,
                      payload: { n: first + i + 1 },
                      opts: optsOf(s),
                    })),
                  );
                  const expected = o.specs.map((s) => model.enqueue(s, ++n));
                  expect(
                    jobs.map((j) => j.id),
                    at,
                  ).toEqual(expected);
                  return;
                }
                case "reserve": {
                  model.housekeep();
                  const due = [...model.jobs.values()].filter((j) => j.state === "ready");
                  const job = await queue.reserveNext();
                  if (due.length === 0 || model.paused) {
                    expect(job, at).toBeNull();
                    return;
                  }
                  expect(job, `${at}: expected one of ${due.map((j) => j.id)}`).not.toBeNull();
                  const m = model.jobs.get(job!.id);
                  expect(
                    m?.state,
                    `${at}: reserved job ${job!.id} was not ready in the model`,
                  ).toBe("ready");
                  // docs/contract.md, "Priorities": higher runs first.
                  expect(
                    m!.priority,
                    `${at}: reserved job ${job!.id} of priority ${m!.priority} while a higher priority was ready`,
                  ).toBe(Math.max(...due.map((j) => j.priority)));
                  m!.state = "processing";
                  m!.attempts++;
                  m!.at = model.now + VT * 1000;
                  expect(
                    {
                      id: job!.id,
                      name: job!.name,
                      payload: job!.payload,
                      attempts: job!.attempts,
                      lastError: job!.lastError,
                    },
                    at,
                  ).toEqual({
                    id: m!.id,
                    name: m!.name,
                    payload: m!.payload,
                    attempts: m!.attempts,
                    lastError: m!.lastError,
                  });
                  held.push(job!);
                  return;
                }
                case "ack":
                case "fail":
                case "release":
                case "extend": {
                  const job = held[held.length - 1 - (o.which % Math.max(1, held.length))];
                  if (!job) return;
                  const target = o.byId ? job.id : job;
                  const m = model.fenced(job, o.byId);
                  if (o.t === "ack") {
                    await queue.ack(target);
                    if (m) model.jobs.delete(m.id);
                  } else if (o.t === "fail") {
                    await queue.fail(target, new Error(`boom ${at}`));
                    if (m) {
                      m.lastError = `boom ${at}`;
                      if (m.attempts >= m.maxAttempts) m.state = "dlq";
                      else {
                        const delay = m.backoff * m.attempts;
                        m.state = delay > 0 ? "delayed" : "ready";
                        m.at = model.now + delay * 1000;
                      }
                    }
                  } else if (o.t === "release") {
                    await queue.release(target);
                    if (m) {
                      m.attempts = Math.max(0, m.attempts - 1);
                      m.state = "ready";
                    }
                  } else if (o.t === "extend") {
                    await queue.extendVisibility(target, o.seconds);
                    if (m) m.at = model.now + o.seconds * 1000;
                  }
                  return;
                }
                case "dlqRequeue": {
                  model.housekeep();
                  const ids = [...model.jobs.keys()];
                  const id = ids.length ? ids[o.which % ids.length]! : "1";
                  const m = model.jobs.get(id);
                  const expected = m?.state === "dlq";
                  expect(await queue.dlq.requeue(id), at).toBe(expected);
                  if (expected) {
                    m!.state = "ready";
                    m!.attempts = 0;
                  }
                  return;
                }
                case "dlqRequeueAll": {
                  model.housekeep();
                  const dead = [...model.jobs.values()].filter((j) => j.state === "dlq");
                  expect(await queue.dlq.requeueAll(), at).toBe(dead.length);
                  for (const j of dead) {
                    j.state = "ready";
                    j.attempts = 0;
                  }
                  return;
                }
                case "dlqPurge": {
                  model.housekeep();
                  const dead = [...model.jobs.values()].filter((j) => j.state === "dlq");
                  expect(await queue.dlq.purge(), at).toBe(dead.length);
                  for (const j of dead) model.jobs.delete(j.id);
                  return;
                }
                case "dlqList": {
                  model.housekeep();
                  const list = await queue.dlq.list({ limit: 1000 });
                  const dead = [...model.jobs.values()].filter((j) => j.state === "dlq");
                  const byId = (a: { id: string }, b: { id: string }) =>
                    Number(a.id) - Number(b.id);
                  expect(
                    list
                      .map((j) => ({ id: j.id, attempts: j.attempts, lastError: j.lastError }))
                      .sort(byId),
                    at,
                  ).toEqual(
                    dead
                      .map((j) => ({ id: j.id, attempts: j.attempts, lastError: j.lastError }))
                      .sort(byId),
                  );
                  return;
                }
                case "advance":
                  clock.advance(o.seconds);
                  return;
                case "cancel": {
                  model.housekeep();
                  const ids = [...model.jobs.keys()];
                  const id = ids.length && o.which < 40 ? ids[o.which % ids.length]! : "424242";
                  const m = model.jobs.get(id);
                  const expected = m !== undefined && m.state !== "dlq";
                  expect(await queue.cancel(id, { reason: at }), at).toBe(expected);
                  if (expected) {
                    if (m.state === "processing") {
                      model.cancelledReservations.set(id, { attempts: m.attempts, at: model.now });
                    }
                    model.jobs.delete(id);
                  }
                  return;
                }
                case "pause":
                  await queue.pause();
                  model.paused = true;
                  expect(await queue.isPaused(), at).toBe(true);
                  return;
                case "resume":
                  await queue.resume();
                  model.paused = false;
                  expect(await queue.isPaused(), at).toBe(false);
                  return;
                case "getJob": {
                  model.housekeep();
                  const id = String(1 + (o.which % Math.max(1, model.seq + 1)));
                  const m = model.jobs.get(id);
                  const info = await queue.getJob(id);
                  if (!m) {
                    expect(info, `${at}: job ${id} is not in the model`).toBeNull();
                    return;
                  }
                  expect(
                    info && {
                      state: info.state,
                      attempts: info.attempts,
                      priority: info.priority,
                      lastError: info.lastError,
                      payload: info.payload,
                    },
                    at,
                  ).toEqual({
                    state: m.state === "dlq" ? "dead" : m.state,
                    attempts: m.attempts,
                    priority: m.priority,
                    lastError: m.lastError,
                    payload: m.payload,
                  });
                  return;
                }
                case "listReady": {
                  model.housekeep();
                  const listed = [];
                  let cursor: string | null = null;
                  do {
                    const page = await queue.listJobs({ state: "ready", limit: 3, cursor });
                    listed.push(...page.jobs);
                    cursor = page.cursor;
                  } while (cursor !== null);
                  const expected = [...model.jobs.values()]
                    .filter((j) => j.state === "ready")
                    .map((j) => j.id)
                    .sort((a, b) => Number(a) - Number(b));
                  expect(
                    listed.map((j) => j.id).sort((a, b) => Number(a) - Number(b)),
                    at,
                  ).toEqual(expected);
                  // In run order: priorities never rise along the list.
                  for (let i = 1; i < listed.length; i++) {
                    expect(listed[i]!.priority, at).toBeLessThanOrEqual(listed[i - 1]!.priority);
                  }
                  return;
                }
                case "checkReservations": {
                  model.housekeep();
                  const refs = held.slice(-4);
                  const got = await queue.checkReservations(refs);
                  // One check per reservation not held, in the order asked.
                  const notHeld = refs.filter((ref) => !model.fenced(ref, false));
                  expect(
                    got.map((r) => r.id),
                    `${at}: the reservations no longer held`,
                  ).toEqual(notHeld.map((ref) => ref.id));
                  for (const [i, ref] of notHeld.entries()) {
                    const status = got[i]?.status;
                    const cancelled = model.cancelledReservations.get(ref.id);
                    if (cancelled?.attempts !== ref.attempts) {
                      expect(status, `${at}: job ${ref.id} attempt ${ref.attempts} is lost`).toBe(
                        "lost",
                      );
                    } else if (model.now < cancelled.at + VT * 1000) {
                      expect(status, `${at}: job ${ref.id} was cancelled`).toBe("cancelled");
                    } else {
                      // After the visibility timeout a backend may have forgotten the cancel.
                      expect(["cancelled", "lost"], at).toContain(status);
                    }
                  }
                  return;
                }
                case "stats":
                  model.housekeep();
                  expect(await queue.stats(), at).toEqual(model.counts());
                  return;
              }
            }
          },
        ),
        { seed, numRuns },
      );
    },
    options.timeoutMs ?? 120_000,
  );

  // docs/contract.md, "Flow control": no limit is ever exceeded (flow-model.ts).
  flowModelProperty(options, seed, options.flowNumRuns ?? Math.max(20, Math.round(numRuns / 4)));
}

function optsOf(s: EnqueueSpec) {
  return {
    delaySeconds: s.delay,
    maxAttempts: s.maxAttempts,
    backoffSeconds: s.backoff,
    ...(s.dedupe === null ? {} : { dedupeKey: s.dedupe }),
    ...(s.priority === 0 ? {} : { priority: s.priority }),
  };
}
