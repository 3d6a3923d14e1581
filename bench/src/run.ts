/**
 * `pnpm bench`: svc-jobs against BullMQ and Bee-Queue on a redis-server this script
 * starts on a free loopback port. Every measurement runs in a fresh process, libraries
 * alternate, the database is flushed between measurements, and each figure is the median
 * of several runs.
 *
 *   pnpm bench                 full run (about 25 minutes), writes results + BENCHMARKS.md
 *   pnpm bench --smoke         tiny N, one run (CI: checks that every scenario still works)
 *   pnpm bench --runs 5 --n 50000 --only process-c50,latency --no-write
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startRedis, startRedisCluster } from "@svc-jobs/test-servers";
import { Redis } from "ioredis";
import {
  buildDir,
  bundleScenario,
  type Child,
  canPin,
  machine,
  measureAll,
  NODE_CPU,
  nodeCommand,
  pin,
  record,
  repoRoot,
  SERVER_CPU,
  startChild as startProcess,
  summarize,
  version,
  workspaceVersion,
  writeResults,
} from "./harness.js";
import { LIBS, type LibName, type SvcJobsFeatures, type Target } from "./libs.js";
import { renderMarkdown, renderTable } from "./report.js";
import type { ScenarioSpec } from "./scenario.js";
import { isSqlId, runSql } from "./sql-run.js";

// ---- options ------------------------------------------------------------------

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const option = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const smoke = flag("smoke");
const profiling = flag("profile");
/**
 * `--packages DIR`: bundle @svc-jobs/core and @svc-jobs/redis from DIR/core and DIR/redis
 * (e.g. a `git archive` of one commit's packages/) instead of the working tree's, so a
 * figure belongs to a known commit while the tree is being edited.
 */
const packagesDir = option("packages");
const runs = Number(option("runs") ?? (smoke ? 1 : 3));
const N = Number(option("n") ?? (smoke ? 300 : 20_000));
/** Pickup latency: jobs sent at `LATENCY_RATE`/s (3,000 = 6 s per run). */
const LATENCY_N = smoke ? 100 : 3_000;
const LATENCY_RATE = 500;
/** Layout v2 figures: acks with N jobs in flight, and reserves behind a large backlog. */
const INFLIGHT_SIZES = smoke ? [20, 50, 100] : [1_000, 10_000, 50_000];
const INFLIGHT_ACKS = smoke ? 20 : 2_000;
const BACKLOG = smoke ? 1_000 : 1_000_000;
const BACKLOG_RESERVES = smoke ? 50 : 2_000;
/**
 * Fairness (issue 16): nine light groups send FAIR_N jobs in all at FAIR_RATE/s (50/s each),
 * alone or while group "flood" has FAIR_FLOOD jobs queued whose handlers take FAIR_FLOOD_MS
 * each; one worker at FAIR_CONCURRENCY; the "limited" case sets every group's concurrency to
 * FAIR_GROUP_LIMIT.
 */
const FAIR_N = smoke ? 90 : 3_600;
const FAIR_RATE = 450;
const FAIR_LIGHT_GROUPS = 9;
const FAIR_FLOOD = smoke ? 5_000 : 60_000;
const FAIR_FLOOD_MS = 2;
const FAIR_CONCURRENCY = 10;
const FAIR_GROUP_LIMIT = 5;
const only = option("only")?.split(",");
const write = !smoke && !flag("no-write") && !option("only") && !option("libs");
const libsWanted = (option("libs")?.split(",") as LibName[] | undefined) ?? [...LIBS];

/** Redis on CPU 0, Node on CPU 1 (harness.ts pins, when taskset is there). */
const REDIS_CPU = SERVER_CPU;

// ---- child processes ----------------------------------------------------------

const scenarioBundle = join(buildDir, "scenario.mjs");

/** A measurement in a fresh process (harness.ts); `pinned`: on CPU 1 when it can. */
function startChild(spec: ScenarioSpec, pinned: boolean): Child {
  return startProcess(nodeCommand(pinned), scenarioBundle, spec, `${spec.lib} ${spec.kind}`);
}

async function runChild(spec: ScenarioSpec, pinned = true): Promise<Record<string, number>> {
  const c = startChild(spec, pinned);
  if (spec.kind === "work") {
    await c.ready;
    c.go();
  }
  return c.result;
}

/**
 * Starts `specs` worker processes, lets them go together, returns jobs/s overall and their
 * peak RSS. `check` sees every process's output (and may throw).
 */
async function runWorkers(
  specs: ScenarioSpec[],
  total: number,
  pinned: boolean,
  check?: (results: Record<string, number>[]) => void,
): Promise<{ jobsPerSec: number; peakRssMb: number }> {
  const children = specs.map((s) => startChild(s, pinned));
  await Promise.all(children.map((c) => c.ready));
  for (const c of children) c.go();
  const results = await Promise.all(children.map((c) => c.result));
  check?.(results);
  const start = Math.min(...results.map((r) => r.start as number));
  const end = Math.max(...results.map((r) => r.lastDone as number));
  const processed = results.reduce((a, r) => a + (r.processed as number), 0);
  if (processed < total) throw new Error(`${specs[0]?.lib}: ${processed} of ${total} jobs ran`);
  return {
    jobsPerSec: (total / (end - start)) * 1000,
    peakRssMb: Math.max(...results.map((r) => r.peakRssMb as number)),
  };
}

// ---- scenarios ----------------------------------------------------------------

/** One row of the table. */
export interface Figure {
  id: string;
  label: string;
  unit: string;
  better: "higher" | "lower";
  libs: LibName[];
  /** Target ratios svc-jobs / peer; for "lower" figures the ratio must stay at or under it. */
  targets?: Partial<Record<LibName | "rtt", number>>;
  note?: string;
  /** Figures with a group get their own table (`--only <group>` selects them all). */
  group?: "inflight" | "backlog" | "features" | "fairness";
  /**
   * The id of the figure this one is compared with in its table's "vs plain" column (same
   * measure: the median of the per-run ratios).
   */
  baseline?: string;
  /** A target for the ratio to the baseline (">=" for "higher" figures, "<=" for "lower"). */
  baselineTarget?: number;
}

export interface Results {
  startedAt: string;
  smoke: boolean;
  n: number;
  runs: number;
  /** The layout v2 figures' sizes: acks timed per in-flight figure, backlog, reserves timed. */
  layout?: { inflightAcks: number; backlog: number; backlogReserves: number };
  machine: Record<string, string | number>;
  versions: Record<string, string>;
  figures: (Figure & {
    values: Partial<Record<LibName | "rtt", number[]>>;
    median: Partial<Record<LibName | "rtt", number>>;
  })[];
}

interface Env {
  target: Target;
  flush(): Promise<void>;
  usedMemory(): Promise<number>;
  cluster?: () => Promise<{ target: Target; flush(): Promise<void>; stop(): Promise<void> }>;
  redisPid: number;
  /**
   * `--profile` (features and fairness): `CONFIG RESETSTAT` now; the returned function prints
   * Redis's command stats and CPU since then to stderr, under `label`.
   */
  profile(): Promise<(label: string) => Promise<void>>;
}

type Measure = (lib: LibName, env: Env) => Promise<Record<string, number>>;

const Q = "bench";

async function fill(
  lib: LibName,
  target: Target,
  queue: string,
  n: number,
  parallel?: number,
  features?: SvcJobsFeatures,
): Promise<Record<string, number>> {
  return runChild({
    kind: "fill",
    lib,
    target,
    queue,
    n,
    ...(parallel ? { parallel } : {}),
    ...(features ? { features } : {}),
  });
}

const measures: Record<string, Measure> = {
  "enqueue-one": async (lib, env) =>
    runChild({ kind: "enqueue-one", lib, target: env.target, queue: Q, n: N }),
  "enqueue-bulk": async (lib, env) =>
    runChild({ kind: "enqueue-bulk", lib, target: env.target, queue: Q, n: N }),
  "process-c1": async (lib, env) => {
    await fill(lib, env.target, Q, N);
    const spec = { kind: "work", lib, target: env.target, queue: Q, n: N, concurrency: 1 } as const;
    return runWorkers([spec], N, true);
  },
  "process-c50": async (lib, env) => {
    await fill(lib, env.target, Q, N);
    const spec = {
      kind: "work",
      lib,
      target: env.target,
      queue: Q,
      n: N,
      concurrency: 50,
    } as const;
    return runWorkers([spec], N, true);
  },
  latency: async (lib, env) =>
    runChild({
      kind: "latency",
      lib,
      target: env.target,
      queue: Q,
      n: LATENCY_N,
      rate: LATENCY_RATE,
      concurrency: 10,
    }),
  memory: async (lib, env) => {
    const before = await env.usedMemory();
    await fill(lib, env.target, Q, N);
    const after = await env.usedMemory();
    return { bytesPerJob: (after - before) / N };
  },
};

/**
 * The svc-jobs feature rows (group "features"): process-c50 again, once per variant, each
 * changing one thing from "plain". Every variant's handler returns `{ ok: true, n }`
 * (WorkerRunner acks with it as the job's result), so retention keeps a real result and
 * the rows differ by their one option alone.
 */
const FEATURE_VARIANTS = {
  /** Defaults: completed jobs deleted at ack, event stream on (capped at 10,000). */
  plain: { result: true },
  /** Enqueued with `priority: i % 10` (10 levels, 0-9), higher first. */
  priority: { result: true, priorityLevels: 10 },
  /** Queue option `keepCompleted: { count: 10_000 }`. */
  retention: { result: true, keepCompleted: 10_000 },
  /** Queue option `events: false`. */
  eventsOff: { result: true, events: false },
  /**
   * Issue 16: job i in group `g{i % 100}`, every group limited to 2 jobs at once (200 slots
   * for 50 in flight: the limit is checked at every reserve and c50 can fill).
   */
  groups: { result: true, groups: 100, groupConcurrency: 2 },
  /** As groups, with at most 1 job at once per group (100 slots for 50 in flight). */
  groupsTight: { result: true, groups: 100, groupConcurrency: 1 },
  /**
   * Issue 19: an OpenTelemetry SDK registered in the fill and the worker (spans recorded,
   * then dropped): the enqueue's PRODUCER span and each job's CONSUMER span.
   */
  tracing: { result: true, tracing: true },
} as const satisfies Record<string, SvcJobsFeatures>;
type FeatureVariant = keyof typeof FEATURE_VARIANTS;
/** The figure id of each variant: `features-<id>`. */
const FEATURE_IDS: Record<FeatureVariant, string> = {
  plain: "plain",
  priority: "priority",
  retention: "retention",
  eventsOff: "events-off",
  groups: "groups",
  groupsTight: "groups-tight",
  tracing: "tracing",
};
const FEATURE_ORDER = Object.keys(FEATURE_VARIANTS) as FeatureVariant[];
let featureRuns = 0;

/** Checks that a variant's option took effect (fails the run otherwise). */
function checkFeature(
  variant: FeatureVariant,
  filled: Record<string, number>,
  worked: Record<string, number>,
): void {
  const fail = (what: string) => {
    throw new Error(
      `features ${variant}: ${what} (fill ${JSON.stringify(filled)}, work ${JSON.stringify(worked)})`,
    );
  };
  const levels = variant === "priority" ? Math.min(9, N - 1) : 0;
  if (filled.priorityLevels !== levels) fail(`${levels} priority levels expected after the fill`);
  const kept = variant === "retention" ? Math.min(N, 10_000) : 0;
  if (worked.completed !== kept) fail(`${kept} completed jobs kept expected`);
  if (variant === "eventsOff" ? worked.events !== 0 : !(Number(worked.events) > 0))
    fail(variant === "eventsOff" ? "no events expected" : "events expected");
  const grouped: SvcJobsFeatures = FEATURE_VARIANTS[variant];
  const limit = grouped.groupConcurrency ?? 0;
  if (filled.readyHasGroup !== (grouped.groups ? 1 : 0))
    fail(
      grouped.groups ? "ready jobs with a group expected" : "ready jobs without a group expected",
    );
  if (filled.groupConcurrency !== limit || worked.groupConcurrency !== limit)
    fail(`group concurrency ${limit} expected in getLimits()`);
  if (
    grouped.groups &&
    !(Number(worked.maxGroupRunning) >= 1 && Number(worked.maxGroupRunning) <= limit)
  )
    fail(`at most ${limit} jobs of one group running at once expected`);
  // Tracing: the filled jobs carry a context and the worker ended a span per job.
  const traced = variant === "tracing";
  if (filled.readyHasTrace !== (traced ? 1 : 0))
    fail(traced ? "ready jobs with a trace context expected" : "no trace context expected");
  if (traced ? !(Number(worked.spans) >= N) : worked.spans !== 0)
    fail(traced ? `at least ${N} spans expected in the worker` : "no spans expected");
}

measures.features = async (lib, env) => {
  // All four variants in each run, back to back (the order rotates each run), so each
  // run gives a ratio to "plain" measured minutes apart at most.
  const r = featureRuns++;
  const out: Record<string, number> = {};
  for (let i = 0; i < FEATURE_ORDER.length; i++) {
    const variant = FEATURE_ORDER[(i + r) % FEATURE_ORDER.length] as FeatureVariant;
    const features: SvcJobsFeatures = FEATURE_VARIANTS[variant];
    await env.flush();
    const filled = await fill(lib, env.target, Q, N, undefined, features);
    const spec = {
      kind: "work",
      lib,
      target: env.target,
      queue: Q,
      n: N,
      concurrency: 50,
      features,
    } as const;
    const report = await env.profile();
    const { jobsPerSec } = await runWorkers([spec], N, true, ([worked]) =>
      checkFeature(variant, filled, worked ?? {}),
    );
    await report(`features ${variant} (work only)`);
    out[variant] = jobsPerSec;
  }
  return out;
};

/** The fairness cases, measured back to back in each run (the order rotates each run). */
const FAIR_CASES = {
  /** The nine light groups alone. */
  alone: { flood: 0, groupConcurrency: undefined },
  /** While group "flood" has a backlog; no group limit: round-robin alone. */
  flood: { flood: FAIR_FLOOD, groupConcurrency: undefined },
  /** As flood, with every group's concurrency limited to FAIR_GROUP_LIMIT. */
  limited: { flood: FAIR_FLOOD, groupConcurrency: FAIR_GROUP_LIMIT },
} as const;
type FairCase = keyof typeof FAIR_CASES;
const FAIR_ORDER = Object.keys(FAIR_CASES) as FairCase[];
let fairRuns = 0;

measures.fairness = async (lib, env) => {
  const r = fairRuns++;
  const out: Record<string, number> = {};
  for (let i = 0; i < FAIR_ORDER.length; i++) {
    const name = FAIR_ORDER[(i + r) % FAIR_ORDER.length] as FairCase;
    const c = FAIR_CASES[name];
    const features: SvcJobsFeatures = {
      slowGroup: { group: "flood", ms: FAIR_FLOOD_MS },
      ...(c.groupConcurrency !== undefined ? { groupConcurrency: c.groupConcurrency } : {}),
    };
    await env.flush();
    if (c.flood > 0) {
      await runChild({
        kind: "fill",
        lib,
        target: env.target,
        queue: Q,
        n: c.flood,
        parallel: 4,
        group: "flood",
        features,
      });
    }
    const report = await env.profile();
    const got = await runChild({
      kind: "fairness",
      lib,
      target: env.target,
      queue: Q,
      n: FAIR_N,
      rate: FAIR_RATE,
      concurrency: FAIR_CONCURRENCY,
      lightGroups: FAIR_LIGHT_GROUPS,
      flood: c.flood,
      features,
    });
    await report(`fairness ${name}`);
    const fail = (what: string) => {
      throw new Error(`fairness ${name}: ${what} (${JSON.stringify(got)})`);
    };
    if (got.light !== FAIR_N) fail(`${FAIR_N} light pickups expected`);
    if (c.flood > 0 && !(Number(got.floodLeft) > FAIR_CONCURRENCY))
      fail("the flood ended before the measurement did (make FAIR_FLOOD larger)");
    if (got.groupConcurrency !== (c.groupConcurrency ?? 0))
      fail("the group concurrency limit was not stored");
    if (c.groupConcurrency !== undefined && Number(got.maxGroupRunning) > c.groupConcurrency)
      fail(`more than ${c.groupConcurrency} jobs of one group ran at once`);
    for (const [k, v] of Object.entries(got)) out[`${name}.${k}`] = v;
  }
  return out;
};

const ORDERS = ["oldest", "random"] as const;
for (const n of INFLIGHT_SIZES) {
  for (const order of ORDERS) {
    measures[`inflight-${n}-${order}`] = async (lib, env) => {
      await fill(lib, env.target, Q, n, 4);
      return runChild({
        kind: "inflight",
        lib,
        target: env.target,
        queue: Q,
        n,
        acks: INFLIGHT_ACKS,
        order,
      });
    };
  }
}
for (const [id, backlog] of [
  ["backlog-full", BACKLOG],
  ["backlog-empty", 0],
] as const) {
  measures[id] = async (lib, env) => {
    // The fastest bulk API each library has, 4 batches of 1,000 at a time (untimed).
    await fill(lib, env.target, Q, backlog + BACKLOG_RESERVES + 1, 4);
    return runChild({ kind: "reserve", lib, target: env.target, queue: Q, n: BACKLOG_RESERVES });
  };
}

for (const k of [2, 4]) {
  measures[`scale-${k}`] = async (lib, env) => {
    await fill(lib, env.target, Q, N);
    const spec = {
      kind: "work",
      lib,
      target: env.target,
      queue: Q,
      n: N,
      concurrency: 50,
    } as const;
    return runWorkers(
      Array.from({ length: k }, () => spec),
      N,
      false,
    );
  };
}
measures["scale-1"] = async (lib, env) => {
  await fill(lib, env.target, Q, N);
  const spec = { kind: "work", lib, target: env.target, queue: Q, n: N, concurrency: 50 } as const;
  return runWorkers([spec], N, false);
};

/** Queue names whose hash tags fall on the three masters' slot ranges (0-5460, 5461-10922, 10923-16383). */
const CLUSTER_QUEUES = pickQueuesPerNode();

async function threeQueues(lib: LibName, target: Target): Promise<Record<string, number>> {
  const per = Math.floor(N / 3);
  await Promise.all(CLUSTER_QUEUES.map((q) => fill(lib, target, q, per)));
  const specs = CLUSTER_QUEUES.map(
    (queue) => ({ kind: "work", lib, target, queue, n: per, concurrency: 50 }) as const,
  );
  return runWorkers(specs, per * 3, false);
}

measures["queues3-node"] = async (lib, env) => {
  pin(env.redisPid, "0-1");
  try {
    return await threeQueues(lib, env.target);
  } finally {
    pin(env.redisPid, REDIS_CPU);
  }
};
measures["queues3-cluster"] = async (lib, env) => {
  const cluster = await env.cluster?.();
  if (!cluster) throw new Error("no cluster");
  try {
    await cluster.flush();
    return await threeQueues(lib, cluster.target);
  } finally {
    await cluster.stop();
  }
};

const throughputTargets = (bull?: number, bee?: number) => ({
  ...(bull ? { bullmq: bull } : {}),
  ...(bee ? { "bee-queue": bee } : {}),
});

const FIGURES: (Figure & { measure: string; pick: string })[] = [
  {
    id: "enqueue-one",
    label: "enqueue, one at a time (jobs/s)",
    unit: "jobs/s",
    better: "higher",
    libs: [...LIBS],
    targets: { "bee-queue": 1 },
    measure: "enqueue-one",
    pick: "jobsPerSec",
    note: "svc-jobs with its resend token (an enqueue ioredis resends after a dropped reply creates no second job; the peers have none). The `rtt` column: awaited PINGs/s on one ioredis connection",
  },
  {
    id: "enqueue-bulk",
    label: "enqueue, bulk API (jobs/s)",
    unit: "jobs/s",
    better: "higher",
    libs: [...LIBS],
    targets: throughputTargets(undefined, 1),
    measure: "enqueue-bulk",
    pick: "jobsPerSec",
    note: "batches of 1,000: enqueueMany / addBulk / saveAll",
  },
  {
    id: "process-c1",
    label: "process, one worker, concurrency 1 (jobs/s)",
    unit: "jobs/s",
    better: "higher",
    libs: [...LIBS],
    targets: throughputTargets(1),
    measure: "process-c1",
    pick: "jobsPerSec",
  },
  {
    id: "process-c50",
    label: "process, one worker, concurrency 50 (jobs/s)",
    unit: "jobs/s",
    better: "higher",
    libs: [...LIBS],
    targets: throughputTargets(3, 2),
    measure: "process-c50",
    pick: "jobsPerSec",
  },
  {
    id: "latency-p50",
    label: `pickup latency p50 at ${LATENCY_RATE} jobs/s (ms)`,
    unit: "ms",
    better: "lower",
    libs: [...LIBS],
    targets: throughputTargets(undefined, 1),
    measure: "latency",
    pick: "p50",
    note: "worker concurrency 10; enqueue call to handler start",
  },
  {
    id: "latency-p99",
    label: `pickup latency p99 at ${LATENCY_RATE} jobs/s (ms)`,
    unit: "ms",
    better: "lower",
    libs: [...LIBS],
    targets: throughputTargets(undefined, 1),
    measure: "latency",
    pick: "p99",
  },
  {
    id: "memory",
    label: "Redis memory per waiting job (bytes)",
    unit: "bytes",
    better: "lower",
    libs: [...LIBS],
    targets: throughputTargets(undefined, 1.2),
    measure: "memory",
    pick: "bytesPerJob",
  },
  {
    id: "rss-c50",
    label: "worker peak RSS at concurrency 50 (MB)",
    unit: "MB",
    better: "lower",
    libs: [...LIBS],
    targets: throughputTargets(undefined, 1),
    measure: "process-c50",
    pick: "peakRssMb",
  },
  ...[1, 2, 4].map((k) => ({
    id: `scale-${k}`,
    label: `scaling: ${k} worker process${k > 1 ? "es" : ""}, concurrency 50 each (jobs/s)`,
    unit: "jobs/s",
    better: "higher" as const,
    libs: [...LIBS],
    measure: `scale-${k}`,
    pick: "jobsPerSec",
    note: "Node processes not pinned (they share both CPUs with Redis)",
  })),
  {
    id: "queues3-node",
    label: "3 queues, 3 workers (c50), one Redis node (jobs/s)",
    unit: "jobs/s",
    better: "higher",
    libs: ["svc-jobs", "bullmq"],
    measure: "queues3-node",
    pick: "jobsPerSec",
    note: "Bee-Queue does not support Redis Cluster",
  },
  {
    id: "queues3-cluster",
    label: "3 queues, 3 workers (c50), 3-master Redis Cluster (jobs/s)",
    unit: "jobs/s",
    better: "higher",
    libs: ["svc-jobs", "bullmq"],
    measure: "queues3-cluster",
    pick: "jobsPerSec",
  },
  ...(
    [
      {
        variant: "plain",
        label: "process c50, plain (defaults)",
        note: "the base line of this table, measured in its runs: the process-c50 row (N jobs enqueued with enqueueMany, bulk, untimed, in another process; then one worker process at concurrency 50, timed from its start to the last completion) with the queue defaults (a completed job is deleted at ack; the event stream on, capped at 10,000 entries), except that the handler returns `{ ok: true, n }` as every row of this table does (WorkerRunner acks with it: it goes into the `completed` event)",
      },
      {
        variant: "priority",
        label: "process c50, priorities in use (10 levels)",
        note: "as plain, but job i is enqueued with `priority: i % 10` (levels 0-9, so 9 of them in their own priority lists; higher runs first), in the same untimed bulk fill",
      },
      {
        variant: "retention",
        label: "process c50, keepCompleted: { count: 10,000 }",
        note: "as plain, with the queue option `keepCompleted: { count: 10_000 }` on both sides: each ack keeps the job as completed with its result (`{ ok: true, n }`, passed by WorkerRunner) and, past 10,000 kept, deletes the oldest (checked: the run ends with min(N, 10,000) completed jobs kept)",
      },
      {
        variant: "eventsOff",
        label: "process c50, events: false",
        note: "as plain, with the queue option `events: false` on both sides (no event stream: the fill and the worker record no events; checked: the stream is empty). Its vs-plain ratio is what the default event stream costs",
      },
      {
        variant: "groups",
        label: "process c50, 100 groups, group concurrency 2",
        note: "issue 16 (target: at least 0.8x plain). As plain, but job i is enqueued with `group: \"g\" + (i % 100)` (200 jobs per group) and the queue has `setGroupLimits({ concurrency: 2 })`, set before the fill: at most 2 jobs of one group at once, 200 slots for the worker's 50, so c50 fills while every reserve serves the round-robin and checks the group's limit (checked: the fill leaves ready jobs with a group, `getLimits()` shows the limit, and no more than 2 handlers of one group ever ran at once)",
        target: 0.8,
      },
      {
        variant: "groupsTight",
        label: "process c50, 100 groups, group concurrency 1",
        note: "issue 16 (target: at least 0.8x plain). As the row above with `setGroupLimits({ concurrency: 1 })`: one job per group at once, 100 slots for 50 in flight, so a group whose turn comes while its job runs is skipped (checked as above, at most 1 handler of one group at once)",
        target: 0.8,
      },
      {
        variant: "tracing",
        label: "process c50, OpenTelemetry tracing on",
        note: "issue 19. As plain, with an OpenTelemetry SDK registered in the fill and in the worker process (`@opentelemetry/api` 1.9, a `BasicTracerProvider` with the AlwaysOn sampler, an AsyncLocalStorage context manager, and a `BatchSpanProcessor` whose exporter drops every batch: svc-jobs's span work and the SDK's, no exporter's): the fill's enqueues record a trace context on every job (the `svc_jobs_traceparent` hash field), and each job runs in a CONSUMER span with its attributes (checked: the ready jobs carry a context, and the worker ended at least N spans). Its vs-plain ratio is what tracing costs (docs/tracing.md)",
      },
    ] as const
  ).map(({ variant, label, note, ...rest }) => ({
    id: `features-${FEATURE_IDS[variant]}`,
    label: `${label} (jobs/s)`,
    unit: "jobs/s",
    better: "higher" as const,
    libs: ["svc-jobs" as const],
    measure: "features",
    pick: variant,
    note: `svc-jobs only. ${note}`,
    group: "features" as const,
    ...(variant === "plain" ? {} : { baseline: "features-plain" }),
    ...("target" in rest ? { baselineTarget: rest.target } : {}),
  })),
  ...(["p50", "p99"] as const).flatMap((q) =>
    (
      [
        ["alone", "nine light groups alone"],
        ["flood", "while one group floods, no group limit"],
        ["limited", `while one group floods, group concurrency ${FAIR_GROUP_LIMIT}`],
      ] as const
    ).map(([c, what]) => ({
      id: `fairness-${c}-${q}`,
      label: `pickup latency ${q}, ${what} (ms)`,
      unit: "ms",
      better: "lower" as const,
      libs: ["svc-jobs" as const],
      measure: "fairness",
      pick: `${c}.${q}`,
      group: "fairness" as const,
      ...(c === "alone" ? {} : { baseline: `fairness-alone-${q}` }),
      ...(c !== "alone" && q === "p99" ? { baselineTarget: 1.5 } : {}),
      ...(c === "alone" && q === "p50"
        ? {
            note: `svc-jobs only, issue 16 (target: the p99 while one group floods within 1.5x of the p99 alone). One worker process at concurrency ${FAIR_CONCURRENCY}; in its process a producer enqueues ${FAIR_N.toLocaleString("en-US")} jobs one at a time at ${FAIR_RATE}/s, to groups light0-light${FAIR_LIGHT_GROUPS - 1} in turn (${FAIR_RATE / FAIR_LIGHT_GROUPS}/s each), with the send time in the payload; the handler (no-op) records \`now - sent\`. "while one group floods": ${FAIR_FLOOD.toLocaleString("en-US")} jobs of group "flood" enqueued before (bulk, untimed, another process), whose handlers each wait ${FAIR_FLOOD_MS} ms (a timer: a call to a slow downstream), so the flood alone keeps all ${FAIR_CONCURRENCY} slots busy (checked: flood jobs still waiting when the last light job is picked up). "no group limit": round-robin alone gives the light groups their turn; "group concurrency ${FAIR_GROUP_LIMIT}": \`setGroupLimits({ concurrency: ${FAIR_GROUP_LIMIT} })\`, so the flood holds at most ${FAIR_GROUP_LIMIT} slots (checked). The three cases run back to back in each run (order rotating)`,
          }
        : {}),
    })),
  ),
  ...INFLIGHT_SIZES.flatMap((n) =>
    ORDERS.map((order) => ({
      id: `inflight-${n}-${order}`,
      label: `acks/s, ${n.toLocaleString("en-US")} jobs in flight, ${order === "oldest" ? "oldest first" : "random order"}`,
      unit: "acks/s",
      better: "higher" as const,
      libs: [...LIBS],
      measure: `inflight-${n}-${order}`,
      pick: "acksPerSec",
      group: "inflight" as const,
    })),
  ),
  {
    id: "backlog-full",
    label: `reserves/s, one at a time, ${BACKLOG.toLocaleString("en-US")}-job backlog`,
    unit: "reserves/s",
    better: "higher",
    libs: [...LIBS],
    measure: "backlog-full",
    pick: "reservesPerSec",
    group: "backlog",
  },
  {
    id: "backlog-empty",
    label: `reserves/s, one at a time, empty-ish backlog (${BACKLOG_RESERVES.toLocaleString("en-US")} jobs)`,
    unit: "reserves/s",
    better: "higher",
    libs: [...LIBS],
    measure: "backlog-empty",
    pick: "reservesPerSec",
    group: "backlog",
  },
];

// ---- main ---------------------------------------------------------------------

/**
 * The SQL rows (issue 18, src/sql-run.ts, on a PostgreSQL of their own): after the Redis
 * ones in a full run and in `--smoke`, alone with `--only sql` (or SQL figure ids), which
 * rewrites only their section of BENCHMARKS.md (unless `--no-write`).
 */
async function sql(): Promise<void> {
  await runSql({
    smoke,
    runs,
    ...(only ? { only } : {}),
    write: !smoke && !flag("no-write"),
    ...(packagesDir ? { packagesDir } : {}),
  });
}

async function main(): Promise<void> {
  if (only?.every(isSqlId)) return sql();
  // The peers stay external. OpenTelemetry too: core loads @opentelemetry/api with require
  // at run time, and the SDK must share that copy (as in an application).
  await bundleScenario({
    entry: "scenario.ts",
    outfile: scenarioBundle,
    external: ["bullmq", "bee-queue", "ioredis", "@opentelemetry/*"],
    backend: "redis",
    packagesDir,
  });
  const server = await startRedis();
  pin(server.pid, REDIS_CPU);
  const admin = new Redis(server.url);
  const info = await admin.info("server");
  const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? "?";
  const env: Env = {
    target: { url: server.url },
    redisPid: server.pid,
    flush: async () => {
      await admin.flushdb();
    },
    usedMemory: async () => {
      const text = await admin.info("memory");
      return Number(/used_memory:(\d+)/.exec(text)?.[1]);
    },
    profile: async () => {
      if (!profiling) return async () => {};
      const cpu = async () => {
        const text = await admin.info("cpu");
        const f = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(text)?.[1]);
        return f("used_cpu_sys") + f("used_cpu_user");
      };
      await admin.config("RESETSTAT");
      const cpu0 = await cpu();
      const t0 = Date.now();
      return async (label) => {
        const wall = (Date.now() - t0) / 1000;
        const used = (await cpu()) - cpu0;
        const text = await admin.info("commandstats");
        const rows = [...text.matchAll(/cmdstat_(\w+):calls=(\d+),usec=(\d+)/g)]
          .map(([, cmd, calls, usec]) => ({ cmd, calls: Number(calls), usec: Number(usec) }))
          .sort((a, b) => b.usec - a.usec)
          .slice(0, 14)
          .map(
            (r) =>
              `${r.cmd} ${r.calls} calls ${(r.usec / r.calls).toFixed(1)} us/call ${(r.usec / 1000).toFixed(0)} ms`,
          );
        process.stderr.write(
          `[profile ${label}] ${wall.toFixed(1)} s, redis CPU ${used.toFixed(2)} s (${((used / wall) * 100).toFixed(0)}%)\n  ${rows.join("\n  ")}\n`,
        );
      };
    },
    cluster: async () => {
      const c = await startRedisCluster({ masters: 3 });
      const target = { cluster: c.nodes };
      return {
        target,
        flush: async () => {
          for (const node of c.nodes) {
            const r = new Redis(node.port, node.host);
            await r.flushdb();
            r.disconnect();
          }
        },
        stop: () => c.stop(),
      };
    },
  };

  const results: Results = {
    startedAt: new Date().toISOString(),
    smoke,
    n: N,
    runs,
    layout: {
      inflightAcks: INFLIGHT_ACKS,
      backlog: BACKLOG,
      backlogReserves: BACKLOG_RESERVES,
    },
    machine: {
      ...machine(),
      pinned: canPin ? `redis-server on CPU ${REDIS_CPU}, Node on CPU ${NODE_CPU}` : "no",
    },
    versions: {
      node: process.version,
      redis: redisVersion,
      "svc-jobs": workspaceVersion("redis"),
      bullmq: version("bullmq"),
      "bee-queue": version("bee-queue"),
      ioredis: version("ioredis"),
    },
    figures: [],
  };

  const wantedMeasures = [...new Set(FIGURES.map((f) => f.measure))].filter(
    (m) =>
      !only ||
      only.includes(m) ||
      FIGURES.some(
        (f) =>
          f.measure === m &&
          (only.includes(f.id) || (f.group !== undefined && only.includes(f.group))),
      ),
  );
  const measured = await measureAll<LibName | "rtt", LibName>({
    measures: wantedMeasures,
    runs,
    libs: (m) =>
      (FIGURES.find((f) => f.measure === m)?.libs ?? [...LIBS]).filter((l) =>
        libsWanted.includes(l),
      ),
    clean: () => env.flush(),
    measure: (m, lib) => measures[m]?.(lib, env),
    beforeRun: async (m, byLib) => {
      if (m !== "enqueue-one") return;
      await env.flush();
      const rtt = await runChild({
        kind: "rtt",
        lib: "svc-jobs",
        target: env.target,
        queue: Q,
        n: N,
      });
      record(byLib, "rtt", rtt);
    },
    t0: Date.now(),
  });
  await env.flush();
  admin.disconnect();
  await server.stop();

  for (const f of FIGURES) {
    const byLib = measured.get(f.measure);
    if (!byLib) continue;
    const { measure: _m, pick: _p, ...rest } = f;
    results.figures.push({ ...rest, ...summarize(byLib, f.pick) });
  }

  process.stdout.write(`\n${renderTable(results)}\n`);
  // Only a full run replaces latest.json (the figures BENCHMARKS.md shows).
  writeResults(smoke ? "smoke.json" : write && !only ? "latest.json" : "partial.json", results);
  if (write) {
    const file = join(repoRoot, "BENCHMARKS.md");
    let previous = "";
    try {
      previous = readFileSync(file, "utf8");
    } catch {}
    writeFileSync(file, renderMarkdown(results, previous));
    process.stdout.write(`report: ${join(repoRoot, "BENCHMARKS.md")}\n`);
  }
  if (!option("libs") && (!only || only.some(isSqlId))) await sql();
}

// ---- cluster slots ------------------------------------------------------------

function crc16(text: string): number {
  let crc = 0;
  for (const byte of Buffer.from(text)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

function pickQueuesPerNode(): string[] {
  const ranges = [
    [0, 5460],
    [5461, 10922],
    [10923, 16383],
  ] as const;
  return ranges.map(([lo, hi]) => {
    for (let i = 0; ; i++) {
      const name = `bench${i}`;
      const slot = crc16(name) % 16384;
      if (slot >= lo && slot <= hi) return name;
    }
  });
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error?.stack ?? error}\n`);
    process.exit(1);
  },
);
