import { type ChildProcess, spawn } from "node:child_process";
import {
  closeSync,
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Job, JobQueue, QueueStats } from "@svc-jobs/core";

/**
 * The backend-neutral part of the chaos runs (helpers/chaos.ts on Redis, helpers/chaos-sql.ts
 * on SQL): a pool of worker processes stopped and restarted on a seeded schedule, the
 * backend's faults (a server restart, dropped connections) at set points of the run, the
 * ledger the handlers append to (fixtures/chaos-job.mjs), and the accounting of duplicate,
 * lost and stuck jobs.
 */

/** Options every chaos run takes. */
export interface ChaosRunOptions {
  /** @default 5000 on Redis, 4000 on SQL */
  jobs?: number;
  /** Worker processes. @default 3 */
  workers?: number;
  /** Concurrency of each worker. @default 4 on Redis, 10 on SQL */
  concurrency?: number;
  /** The visibility timeout of the workers, in seconds. @default 4 */
  visibilityTimeoutSeconds?: number;
  /** Seed of the kill schedule; printed so a run can be replayed. @default random */
  seed?: number;
  /** Gives up (and fails) after this long. @default 150 s on Redis, 110 s on SQL */
  deadlineMs?: number;
}

/** `{ seed }` from `CHAOS_SEED`, to spread into a run's options (empty when unset). */
export function seedFromEnv(): { seed?: number } {
  const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : undefined;
  return seed ? { seed } : {};
}

/** A small seeded random number generator (the kill schedule of a chaos run). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What every chaos run measures; each backend adds its own figures. */
export interface ChaosCommonFigures {
  seed: number;
  jobs: number;
  workers: number;
  concurrency: number;
  visibilityTimeoutSeconds: number;
  /** Workers stopped by the chaos loop (each one restarted at once). */
  kills: number;
  /** Worker processes started in all (initial ones plus restarts). */
  workerStarts: number;
  /** Successful handler runs recorded in the ledger (each line one run). */
  executions: number;
  /** Distinct jobs with at least one recorded success. */
  succeeded: number;
  /** Recorded successes beyond the first, over all jobs. */
  duplicates: number;
  /** The duplicate count the guarantee allows for this run. */
  duplicateBound: number;
  /** Jobs dead (in the dead letter queue) at the end. */
  dlq: number;
  /** Dead jobs whose last error is a visibility-timeout expiry (their worker died). */
  dlqExpired: number;
  /** Dead jobs that had also succeeded once (success recorded, ack lost to a crash). */
  dlqAfterSuccess: number;
  /** Effects applied through the inbox (one per job id, however often the job ran). */
  effects: number;
  /** Effects applied more than once for the same job (the inbox makes this 0). */
  duplicateEffects: number;
  /** Jobs recorded in the ledger whose id is missing from the inbox. */
  ledgerWithoutEffect: number;
  /** Enqueued jobs neither in the ledger nor dead. */
  lost: number;
  /** Jobs still ready, delayed or processing at the end (`stats()`). */
  stuck: number;
  /** Dead jobs without a last error. */
  dlqWithoutError: number;
  /** Ledger lines naming a job id that was never enqueued. */
  unknownIds: number;
  /** Exit codes of workers stopped with SIGTERM that were not 0. */
  badExits: number;
  /** Wall-clock seconds of the whole run. */
  seconds: number;
}

/** One fault of the backend, injected once when `at` of the jobs are done. */
export interface ChaosFault {
  /** The fraction of the jobs done before the fault is injected. */
  at: number;
  inject(): Promise<void>;
}

/** How one worker process is started. */
export interface WorkerCommand {
  args: string[];
  env: Record<string, string>;
}

/** The inbox of the effects at the end of a run. */
export interface ChaosEffects {
  /** How often each job id's effect was applied (one number per id). */
  counts: number[];
  /** The job ids marked in the inbox. */
  inbox: Set<string>;
}

/** What the driver hands a backend once the run's folder exists. */
export interface ChaosContext {
  /** The run's temporary folder (deleted at the end unless `CHAOS_KEEP_LOGS`). */
  work: string;
  /** Where the handlers write their ledger files. */
  ledgerDir: string;
  /** When the run gives up (epoch ms). */
  deadline: number;
  /** The run's settings, defaults applied. */
  jobs: number;
  concurrency: number;
  visibilityTimeoutSeconds: number;
}

/** What the backend reads at the end, handed to {@link ChaosBackend.figures}. */
export interface ChaosOutcome {
  /** The dead jobs. */
  dead: Job[];
  /** Successful runs per job id (from the ledger). */
  runs: Map<string, number>;
}

/** A backend of the chaos driver: its queue, workers and faults. */
export interface ChaosBackend<Extra> {
  queue: JobQueue;
  /** Enqueued in batches of this many. @default all at once */
  enqueueBatch?: number;
  /** Prepares the database before the jobs are enqueued. */
  prepare?(): Promise<void>;
  /** The queue's counts during the run (may retry through the backend's faults). */
  stats(): Promise<QueueStats>;
  /** The worker process of one slot. */
  command(slot: number): WorkerCommand;
  /** The backend's faults, in order (empty: worker kills only). */
  faults: ChaosFault[];
  /** Appended to the deadline error. */
  deadlineDetail?(kills: number): string;
  /** Last errors of dead jobs counted as visibility-timeout expiries. */
  expiredError: RegExp;
  /** The inbox and effects the handlers applied. */
  effects(): Promise<ChaosEffects>;
  /** The backend's own figures. */
  figures(outcome: ChaosOutcome): Promise<Extra>;
  /** Closes the queue, its connections and its server. */
  close(): Promise<void>;
}

/** What {@link runChaosDriver} is told of the run. */
export interface ChaosDriverOptions<Extra> extends ChaosRunOptions {
  /** Prefix of the temporary folder. */
  workDirPrefix: string;
  /** The backend's defaults of the options. */
  defaults: { jobs: number; concurrency: number; deadlineMs: number };
  /** How workers are stopped every 1-2 s. */
  signal: "SIGKILL" | "SIGTERM";
  /** Starts the backend (a server, a database file) in the run's folder. */
  backend: (context: ChaosContext) => Promise<ChaosBackend<Extra>>;
}

interface Worker {
  child: ChildProcess;
  /** Resolves once the worker logged "worker started" (its signal handlers are installed). */
  started: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Worker processes in numbered slots, each logging to its own file. */
class WorkerPool {
  readonly workers: (Worker | undefined)[] = [];
  starts = 0;
  badExits = 0;

  constructor(
    private readonly logDir: string,
    private readonly command: (slot: number) => WorkerCommand,
  ) {}

  spawn(slot: number): void {
    this.starts++;
    const logFile = join(this.logDir, `worker-${slot}-${this.starts}.log`);
    const log = openSync(logFile, "a");
    const { args, env } = this.command(slot);
    const child = spawn(process.execPath, args, {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ["ignore", "pipe", log],
    });
    closeSync(log);
    const out = createWriteStream(logFile, { flags: "a" });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    const started = new Promise<void>((resolve) => {
      let seen = false;
      child.stdout?.on("data", (chunk: Buffer) => {
        out.write(chunk);
        if (!seen && chunk.includes("worker started")) {
          seen = true;
          resolve();
        }
      });
      child.once("exit", () => {
        out.end();
        resolve();
      });
    });
    this.workers[slot] = { child, started, exited };
  }

  async stop(slot: number, signal: NodeJS.Signals): Promise<void> {
    const worker = this.workers[slot];
    if (!worker) return;
    this.workers[slot] = undefined;
    // A process signalled while still loading has no jobs and no handlers yet: stopping
    // it then would test nothing, and SIGTERM would kill it before it can drain.
    let wait: NodeJS.Timeout | undefined;
    await Promise.race([
      worker.started,
      new Promise((r) => {
        wait = setTimeout(r, 20_000);
      }),
    ]);
    clearTimeout(wait);
    worker.child.kill(signal);
    const timer = setTimeout(() => worker.child.kill("SIGKILL"), 20_000);
    const exit = await worker.exited;
    clearTimeout(timer);
    if (signal === "SIGTERM" && exit.code !== 0) {
      this.badExits++;
      console.log(`chaos: worker ${slot} exited with ${JSON.stringify(exit)} after SIGTERM`);
    }
  }

  async stopAll(signal: NodeJS.Signals): Promise<void> {
    await Promise.all(this.workers.map((_, slot) => this.stop(slot, signal)));
  }

  async killAll(): Promise<void> {
    for (const w of this.workers) w?.child.kill("SIGKILL");
    await Promise.all(this.workers.map((w) => w?.exited));
  }
}

/** The ledger: one line per successful run, "id attempt pid", in one file per process. */
function readLedger(ledgerDir: string, ids: Set<string>) {
  const runs = new Map<string, number>();
  let executions = 0;
  let unknownIds = 0;
  for (const file of readdirSync(ledgerDir)) {
    for (const line of readFileSync(join(ledgerDir, file), "utf8").split("\n")) {
      if (line === "") continue;
      const [id] = line.split(" ") as [string];
      executions++;
      if (!ids.has(id)) unknownIds++;
      runs.set(id, (runs.get(id) ?? 0) + 1);
    }
  }
  return { runs, executions, unknownIds };
}

/**
 * Enqueues `jobs` jobs, starts `workers` worker processes, stops one every 1-2 s with
 * `signal` and restarts it, injects the backend's faults at their points of the run until
 * the queue is drained, stops the workers with SIGTERM, then reads the ledger, the dead
 * jobs and the inbox and returns the common figures with the backend's own.
 */
export async function runChaosDriver<Extra>(
  options: ChaosDriverOptions<Extra>,
): Promise<ChaosCommonFigures & Extra> {
  const started = Date.now();
  const { defaults, signal } = options;
  const jobCount = options.jobs ?? defaults.jobs;
  const workerCount = options.workers ?? 3;
  const concurrency = options.concurrency ?? defaults.concurrency;
  // Short, so a killed worker's jobs come back within the run; still 3x the heartbeat.
  const vt = options.visibilityTimeoutSeconds ?? 4;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const deadline = started + (options.deadlineMs ?? defaults.deadlineMs);
  const random = mulberry32(seed);

  const work = mkdtempSync(join(tmpdir(), options.workDirPrefix));
  const ledgerDir = join(work, "ledger");
  const logDir = join(work, "logs");
  mkdirSync(ledgerDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  let backend: ChaosBackend<Extra> | undefined;
  let pool: WorkerPool | undefined;
  try {
    const chaos = await options.backend({
      work,
      ledgerDir,
      deadline,
      jobs: jobCount,
      concurrency,
      visibilityTimeoutSeconds: vt,
    });
    backend = chaos;
    const { queue } = chaos;
    pool = new WorkerPool(logDir, (slot) => chaos.command(slot));
    await chaos.prepare?.();

    const maxAttemptsOf = (i: number) => (i % 20 === 0 ? 1 : 5);
    const items = Array.from({ length: jobCount }, (_, i) => ({
      name: "chaos.work",
      payload: { n: i },
      // Short backoff so retries happen within the run; one job in 20 gets a single
      // attempt, so the dead letter path is exercised by random failures and by crashes.
      opts: { maxAttempts: maxAttemptsOf(i), backoffSeconds: 0.05 },
    }));
    const enqueued: Job[] = [];
    const batch = chaos.enqueueBatch ?? items.length;
    for (let i = 0; i < items.length; i += batch) {
      enqueued.push(...(await queue.enqueueMany(items.slice(i, i + batch))));
    }
    const ids = new Set(enqueued.map((j) => j.id));
    if (ids.size !== jobCount) {
      throw new Error(`chaos: enqueued ${ids.size} distinct ids, not ${jobCount}`);
    }

    for (let slot = 0; slot < workerCount; slot++) pool.spawn(slot);

    const pending = [...chaos.faults];
    let kills = 0;
    let nextKillAt = Date.now() + 1000 + random() * 1000;
    let remaining = jobCount;
    let chaosOver = false;
    for (;;) {
      if (Date.now() > deadline) {
        throw new Error(
          `chaos: the queue did not drain before the deadline (${remaining} jobs left` +
            `${chaos.deadlineDetail?.(kills) ?? ""})`,
        );
      }
      const s = await chaos.stats();
      remaining = s.ready + s.delayed + s.processing;
      const done = jobCount - remaining;
      const faultsDone = pending.length === 0;
      if (remaining === 0 && faultsDone) break;
      // Kills stop once nothing is waiting to start: from then on only the killed workers'
      // reservations are left, and they come back after one visibility timeout. Killing on
      // would strand the jobs just taken again and stretch the run without bound.
      if (s.ready + s.delayed === 0 && faultsDone) chaosOver = true;

      const fault = pending[0];
      if (fault && done >= jobCount * fault.at) {
        pending.shift();
        await fault.inject();
      } else if (!chaosOver && Date.now() >= nextKillAt) {
        const slot = Math.floor(random() * workerCount);
        kills++;
        await pool.stop(slot, signal);
        pool.spawn(slot);
        nextKillAt = Date.now() + 1000 + random() * 1000;
      }
      await new Promise((r) => setTimeout(r, 100));
    }

    await pool.stopAll("SIGTERM");

    const { runs, executions, unknownIds } = readLedger(ledgerDir, ids);
    const dead = await queue.dlq.list({ limit: jobCount + 1 });
    const deadIds = new Set(dead.map((j) => j.id));
    const final = await queue.stats();
    const { counts: effectCounts, inbox } = await chaos.effects();
    const effects = effectCounts.reduce((a, b) => a + b, 0);
    let ledgerWithoutEffect = 0;
    for (const id of runs.keys()) if (!inbox.has(id)) ledgerWithoutEffect++;
    let lost = 0;
    for (const id of ids) if (!runs.has(id) && !deadIds.has(id)) lost++;
    const extra = await chaos.figures({ dead, runs });
    const crashKills = signal === "SIGKILL" ? kills : 0;
    const faultCount = chaos.faults.length;
    return {
      seed,
      jobs: jobCount,
      workers: workerCount,
      concurrency,
      visibilityTimeoutSeconds: vt,
      kills,
      workerStarts: pool.starts,
      executions,
      succeeded: runs.size,
      duplicates: executions - runs.size,
      // A crashed worker can leave at most `concurrency` runs recorded but not acked; a
      // server restart or a connection drop at most every worker's in-flight runs.
      duplicateBound: crashKills * concurrency + faultCount * workerCount * concurrency,
      dlq: dead.length,
      dlqExpired: dead.filter((j) => chaos.expiredError.test(j.lastError ?? "")).length,
      dlqAfterSuccess: dead.filter((j) => runs.has(j.id)).length,
      effects,
      duplicateEffects: effects - effectCounts.length,
      ledgerWithoutEffect,
      lost,
      stuck: final.ready + final.delayed + final.processing,
      dlqWithoutError: dead.filter((j) => !j.lastError).length,
      unknownIds,
      badExits: pool.badExits,
      seconds: (Date.now() - started) / 1000,
      ...extra,
    };
  } finally {
    await pool?.killAll();
    await backend?.close();
    if (!process.env.CHAOS_KEEP_LOGS) rmSync(work, { recursive: true, force: true });
    else console.log(`chaos: logs and ledger kept in ${work}`);
  }
}
