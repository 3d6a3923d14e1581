import { expect, it } from "vitest";
import { visibilityExpiredMessage } from "../error-message.js";
import type { Job } from "../job.js";
import type { JobQueue } from "../job-queue.js";
import { ManualClock } from "../manual-clock.js";
import type { QueueFactoryContext } from "./context.js";

/** Options of {@link testJobQueueModel}. */
export interface JobQueueModelOptions {
  /** Shown in the test name. */
  name: string;
  /** Makes a fresh, empty queue (called once per generated sequence). */
  create: (ctx: QueueFactoryContext) => JobQueue | Promise<JobQueue>;
  /** Sequences to try. @default 200 */
  numRuns?: number;
  /** Seed; printed on every run, and taken from `SVC_JOBS_PROPERTY_SEED` when set. */
  seed?: number;
  /** Per-test timeout in ms. @default 120000 */
  timeoutMs?: number;
}

const VT = 10;
const DELAYS = [0, 0, 0.5, 2, 10];
const BACKOFFS = [0, 1, 5];
const ADVANCES = [0.5, 1, 5, 10, 31];

type EnqueueSpec = {
  name: number;
  delay: number;
  maxAttempts: number;
  backoff: number;
  dedupe: string | null;
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
  | { t: "dlqList" };

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
}

/** The reference model: the JobQueue semantics (docs/contract.md), written as plainly as possible. */
class Model {
  jobs = new Map<string, ModelJob>();
  dedupe = new Map<string, string>();
  seq = 0;
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
    const c = { ready: 0, delayed: 0, processing: 0, dlq: 0 };
    for (const j of this.jobs.values()) c[j.state]++;
    return c;
  }
}

/**
 * Model-based property test: random sequences of enqueue, enqueueMany, reserve, ack,
 * fail, release, extendVisibility, DLQ operations and clock advances, run against the
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
      );

      await fc.assert(
        fc.asyncProperty(
          fc.array(op, { minLength: 5, maxLength: 60, size: "max" }),
          async (ops) => {
            const clock = new ManualClock(Date.UTC(2030, 0, 1));
            const queue = await options.create({ clock, visibilityTimeoutSeconds: VT });
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
                  if (due.length === 0) {
                    expect(job, at).toBeNull();
                    return;
                  }
                  expect(job, `${at}: expected one of ${due.map((j) => j.id)}`).not.toBeNull();
                  const m = model.jobs.get(job!.id);
                  expect(
                    m?.state,
                    `${at}: reserved job ${job!.id} was not ready in the model`,
                  ).toBe("ready");
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
}

function optsOf(s: EnqueueSpec) {
  return {
    delaySeconds: s.delay,
    maxAttempts: s.maxAttempts,
    backoffSeconds: s.backoff,
    ...(s.dedupe === null ? {} : { dedupeKey: s.dedupe }),
  };
}
