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
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Job } from "@svc-jobs/core";
import { RedisJobQueue } from "@svc-jobs/redis";
import { startRedis, uniquePrefix } from "@svc-jobs/test-servers";
import { Redis } from "ioredis";

/** Options of {@link runChaos}. */
export interface ChaosOptions {
  /** How workers are stopped every 1-2 s: a crash (SIGKILL) or a graceful stop (SIGTERM). */
  signal: "SIGKILL" | "SIGTERM";
  /** @default 5000 */
  jobs?: number;
  /** Worker processes. @default 3 */
  workers?: number;
  /** `--concurrency` of each worker. @default 4 */
  concurrency?: number;
  /** Visibility timeout asked of the workers, in seconds. @default 4 */
  visibilityTimeoutSeconds?: number;
  /** Seed of the kill schedule; printed so a run can be replayed. @default random */
  seed?: number;
  /** Gives up (and fails) after this long. @default 150 s */
  deadlineMs?: number;
}

/** What a chaos run measured; printed as one `CHAOS ...` line. */
export interface ChaosFigures {
  signal: "SIGKILL" | "SIGTERM";
  seed: number;
  jobs: number;
  workers: number;
  concurrency: number;
  visibilityTimeoutSeconds: number;
  /** Workers stopped by the chaos loop (each one restarted at once). */
  kills: number;
  /** Worker processes started in all (initial ones plus restarts). */
  workerStarts: number;
  /** Redis SIGKILLed and restarted from its AOF. */
  redisRestarts: number;
  /** `CLIENT KILL` rounds, and the connections they dropped. */
  connectionDrops: number;
  connectionsKilled: number;
  /** Successful handler runs recorded in the ledger (each line one run). */
  executions: number;
  /** Distinct jobs with at least one recorded success. */
  succeeded: number;
  /** Recorded successes beyond the first, over all jobs. */
  duplicates: number;
  /** The duplicate count the guarantee allows for this run. */
  duplicateBound: number;
  /** Jobs in the dead letter queue at the end. */
  dlq: number;
  /** Dead-lettered jobs whose last error is a visibility-timeout expiry (their worker died). */
  dlqExpired: number;
  /** Dead-lettered jobs that had also succeeded once (success recorded, ack lost to a crash). */
  dlqAfterSuccess: number;
  /** Effects applied through the inbox (one per job id, however often the job ran). */
  effects: number;
  /** Effects applied more than once for the same job (the inbox makes this 0). */
  duplicateEffects: number;
  /** Jobs recorded in the ledger whose id is missing from the inbox. */
  ledgerWithoutEffect: number;
  /** Enqueued jobs neither in the ledger nor in the DLQ. */
  lost: number;
  /** Jobs still ready, delayed or processing at the end. */
  stuck: number;
  /** Job hashes left in Redis that are not in the DLQ (should be 0: ack deletes them). */
  orphanHashes: number;
  /** DLQ jobs without a last error. */
  dlqWithoutError: number;
  /** Ledger lines naming a job id that was never enqueued. */
  unknownIds: number;
  /** Exit codes of workers stopped with SIGTERM that were not 0. */
  badExits: number;
  /** Wall-clock seconds of the whole run. */
  seconds: number;
}

const require = createRequire(import.meta.url);
const cliPackage = require.resolve("@svc-jobs/cli/package.json");
/** The real `svc-jobs` binary (built by `pnpm --filter @svc-jobs/cli build`). */
export const SVC_JOBS_BIN = join(
  dirname(cliPackage),
  (JSON.parse(readFileSync(cliPackage, "utf8")) as { bin: Record<string, string> }).bin[
    "svc-jobs"
  ] as string,
);
const HANDLER = fileURLToPath(new URL("../fixtures/chaos-handler.mjs", import.meta.url));

/** Formats figures as the one line the test prints (and RELIABILITY.md quotes). */
export function formatFigures(f: ChaosFigures): string {
  return (
    `CHAOS signal=${f.signal} seed=${f.seed} jobs=${f.jobs} workers=${f.workers} ` +
    `concurrency=${f.concurrency} visibilityTimeoutSeconds=${f.visibilityTimeoutSeconds} ` +
    `kills=${f.kills} workerStarts=${f.workerStarts} redisRestarts=${f.redisRestarts} ` +
    `connectionDrops=${f.connectionDrops} connectionsKilled=${f.connectionsKilled} ` +
    `executions=${f.executions} succeeded=${f.succeeded} duplicates=${f.duplicates} ` +
    `duplicateBound=${f.duplicateBound} dlq=${f.dlq} dlqExpired=${f.dlqExpired} ` +
    `dlqAfterSuccess=${f.dlqAfterSuccess} effects=${f.effects} ` +
    `duplicateEffects=${f.duplicateEffects} lost=${f.lost} stuck=${f.stuck} ` +
    `orphanHashes=${f.orphanHashes} badExits=${f.badExits} seconds=${f.seconds.toFixed(1)}`
  );
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

interface Worker {
  child: ChildProcess;
  /** Resolves once the worker logged "worker started" (its signal handlers are installed). */
  started: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs 5,000 jobs through three real `svc-jobs run` processes on a private redis-server
 * (`appendonly yes`, `appendfsync always`), stopping a worker every 1-2 s with `signal`
 * and restarting it, crashing and restarting Redis once (reloading its AOF) and dropping
 * every worker connection once with `CLIENT KILL`, then checks the ledger and the queue.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosFigures> {
  const started = Date.now();
  const jobCount = options.jobs ?? 5000;
  const workerCount = options.workers ?? 3;
  const concurrency = options.concurrency ?? 4;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const deadline = started + (options.deadlineMs ?? 150_000);
  const random = mulberry32(seed);
  // Short, so a killed worker's jobs come back within the run; still 3x the heartbeat.
  const vt = options.visibilityTimeoutSeconds ?? 4;

  const server = await startRedis({ args: ["--appendonly", "yes", "--appendfsync", "always"] });
  const work = mkdtempSync(join(tmpdir(), "svc-jobs-chaos-"));
  const ledgerDir = join(work, "ledger");
  const logDir = join(work, "logs");
  mkdirSync(ledgerDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  const prefix = uniquePrefix("chaos");
  // Commands wait through the Redis restart instead of failing.
  const admin = new Redis(server.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
  admin.on("error", () => {});
  const queue = new RedisJobQueue(admin, { prefix });
  const workers: (Worker | undefined)[] = [];
  let workerStarts = 0;
  let badExits = 0;

  const spawnWorker = (slot: number): Worker => {
    workerStarts++;
    const logFile = join(logDir, `worker-${slot}-${workerStarts}.log`);
    const log = openSync(logFile, "a");
    const args = [
      SVC_JOBS_BIN,
      "run",
      "--handlers",
      HANDLER,
      "--concurrency",
      String(concurrency),
      "--grace",
      "10",
      "--poll-interval",
      "0.2",
      "--prefix",
      prefix,
      "--visibility-timeout",
      String(vt),
    ];
    const child = spawn(process.execPath, args, {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        JOBS_DRIVER: "redis",
        REDIS_URL: server.url,
        CHAOS_LEDGER_DIR: ledgerDir,
        CHAOS_FAIL_RATE: "0.1",
        CHAOS_EFFECTS_URL: `${server.url}/1`,
        CHAOS_EFFECTS_PREFIX: prefix,
      },
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
    const worker = { child, started, exited };
    workers[slot] = worker;
    return worker;
  };

  const stopWorker = async (slot: number, signal: NodeJS.Signals): Promise<void> => {
    const worker = workers[slot];
    if (!worker) return;
    workers[slot] = undefined;
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
      badExits++;
      console.log(`chaos: worker ${slot} exited with ${JSON.stringify(exit)} after SIGTERM`);
    }
  };

  try {
    const maxAttemptsOf = (i: number) => (i % 20 === 0 ? 1 : 5);
    const items = Array.from({ length: jobCount }, (_, i) => ({
      name: "chaos.work",
      payload: { n: i },
      // Short backoff so retries happen within the run; one job in 20 gets a single
      // attempt, so the DLQ path is exercised by random failures and by crashes.
      opts: { maxAttempts: maxAttemptsOf(i), backoffSeconds: 0.05 },
    }));
    const enqueued: Job[] = [];
    for (let i = 0; i < items.length; i += 500) {
      enqueued.push(...(await queue.enqueueMany(items.slice(i, i + 500))));
    }
    const ids = new Set(enqueued.map((j) => j.id));
    if (ids.size !== jobCount)
      throw new Error(`chaos: enqueued ${ids.size} distinct ids, not ${jobCount}`);

    for (let slot = 0; slot < workerCount; slot++) spawnWorker(slot);

    let kills = 0;
    let redisRestarts = 0;
    let connectionDrops = 0;
    let connectionsKilled = 0;
    let nextKillAt = Date.now() + 1000 + random() * 1000;
    let remaining = jobCount;
    let chaosOver = false;
    for (;;) {
      if (Date.now() > deadline) {
        throw new Error(
          `chaos: the queue did not drain before the deadline (${remaining} jobs left)`,
        );
      }
      const s = await queue.stats();
      remaining = s.ready + s.delayed + s.processing;
      const done = jobCount - remaining;
      if (remaining === 0 && redisRestarts > 0 && connectionDrops > 0) break;
      // Kills stop once nothing is waiting to start: from then on only the killed workers'
      // reservations are left, and they come back after one visibility timeout. Killing on
      // would strand the jobs just taken again and stretch the run without bound.
      if (s.ready + s.delayed === 0 && redisRestarts > 0 && connectionDrops > 0) chaosOver = true;

      if (redisRestarts === 0 && done >= jobCount * 0.3) {
        redisRestarts++;
        await server.crash();
        await server.restart();
        const [, appendfsync] = (await admin.config("GET", "appendfsync")) as string[];
        if (appendfsync !== "always")
          throw new Error("chaos: Redis came back without appendfsync always");
        // The id counter is written by the same scripts as the jobs: it must have survived.
        const seq = Number(await admin.get(`${prefix}:seq`));
        if (seq !== jobCount)
          throw new Error(`chaos: ${prefix}:seq is ${seq} after the AOF reload, not ${jobCount}`);
      } else if (connectionDrops === 0 && done >= jobCount * 0.55) {
        connectionDrops++;
        connectionsKilled += Number(await admin.client("KILL", "TYPE", "normal", "SKIPME", "yes"));
      } else if (!chaosOver && Date.now() >= nextKillAt) {
        const slot = Math.floor(random() * workerCount);
        kills++;
        await stopWorker(slot, options.signal);
        spawnWorker(slot);
        nextKillAt = Date.now() + 1000 + random() * 1000;
      }
      await new Promise((r) => setTimeout(r, 100));
    }

    await Promise.all(workers.map((_, slot) => stopWorker(slot, "SIGTERM")));

    // The ledger: one line per successful run, "id attempt pid".
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
    const dead = await queue.dlq.list({ limit: jobCount + 1 });
    const deadIds = new Set(dead.map((j) => j.id));
    const final = await queue.stats();
    const hashKeys: string[] = [];
    let cursor = "0";
    do {
      const [next, keys] = await admin.scan(cursor, "MATCH", `${prefix}:job:*`, "COUNT", 1000);
      cursor = next;
      hashKeys.push(...keys);
    } while (cursor !== "0");
    const orphanHashes = hashKeys.filter(
      (k) => !deadIds.has(k.slice(`${prefix}:job:`.length)),
    ).length;

    const ledgerDb = admin.duplicate({ db: 1 });
    const effectCounts = Object.values(await ledgerDb.hgetall(`${prefix}:effects`)).map(Number);
    const inbox = new Set(await ledgerDb.smembers(`${prefix}:inbox`));
    ledgerDb.disconnect();
    const effects = effectCounts.reduce((a, b) => a + b, 0);
    let ledgerWithoutEffect = 0;
    for (const id of runs.keys()) if (!inbox.has(id)) ledgerWithoutEffect++;

    let lost = 0;
    for (const id of ids) if (!runs.has(id) && !deadIds.has(id)) lost++;
    const duplicates = executions - runs.size;
    const crashKills = options.signal === "SIGKILL" ? kills : 0;
    return {
      signal: options.signal,
      seed,
      jobs: jobCount,
      workers: workerCount,
      concurrency,
      visibilityTimeoutSeconds: vt,
      kills,
      workerStarts,
      redisRestarts,
      connectionDrops,
      connectionsKilled,
      executions,
      succeeded: runs.size,
      duplicates,
      // A crashed worker can leave at most `concurrency` runs recorded but not acked; a
      // Redis restart or a connection drop at most every worker's in-flight runs.
      duplicateBound:
        crashKills * concurrency + (redisRestarts + connectionDrops) * workerCount * concurrency,
      dlq: dead.length,
      dlqExpired: dead.filter((j) => /visibility/i.test(j.lastError ?? "")).length,
      dlqAfterSuccess: dead.filter((j) => runs.has(j.id)).length,
      effects,
      duplicateEffects: effects - effectCounts.length,
      ledgerWithoutEffect,
      lost,
      stuck: final.ready + final.delayed + final.processing,
      orphanHashes,
      dlqWithoutError: dead.filter((j) => !j.lastError).length,
      unknownIds,
      badExits,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    for (const w of workers) w?.child.kill("SIGKILL");
    await Promise.all(workers.map((w) => w?.exited));
    await queue.close().catch(() => {});
    admin.disconnect();
    await server.stop();
    if (!process.env.CHAOS_KEEP_LOGS) rmSync(work, { recursive: true, force: true });
    else console.log(`chaos: logs and ledger kept in ${work}`);
  }
}
