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
import { fileURLToPath } from "node:url";
import type { Job } from "@svc-jobs/core";
import { migrateJobTables, SqlJobQueue } from "@svc-jobs/sql";
import { type PostgresServer, startPostgres, uniquePrefix } from "@svc-jobs/test-servers";
import Database from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, sql } from "kysely";
import pg from "pg";
import { mulberry32 } from "./chaos.js";

/** Options of {@link runSqlChaos}. */
export interface SqlChaosOptions {
  /** `postgres`: a private PostgreSQL, restarted once, connections dropped once; `sqlite`: a file, worker kills only. */
  dialect: "postgres" | "sqlite";
  /** @default 1200 */
  jobs?: number;
  /** Worker processes. @default 3 */
  workers?: number;
  /** Concurrency of each worker's `WorkerRunner`. @default 10 */
  concurrency?: number;
  /** The queue's visibility timeout in the workers, in seconds. @default 4 */
  visibilityTimeoutSeconds?: number;
  /** Seed of the kill schedule; printed so a run can be replayed. @default random */
  seed?: number;
  /** Gives up (and fails) after this long. @default 110 s */
  deadlineMs?: number;
}

/** What a SQL chaos run measured; printed as one `CHAOS-SQL ...` line. */
export interface SqlChaosFigures {
  dialect: "postgres" | "sqlite";
  seed: number;
  jobs: number;
  workers: number;
  concurrency: number;
  visibilityTimeoutSeconds: number;
  /** Workers SIGKILLed by the chaos loop (each one restarted at once). */
  kills: number;
  /** Worker processes started in all. */
  workerStarts: number;
  /** PostgreSQL stopped (`pg_ctl stop -m immediate`) and started on the same data and port. */
  databaseRestarts: number;
  /** `pg_terminate_backend` rounds over the workers' connections, and the connections ended. */
  connectionDrops: number;
  connectionsKilled: number;
  /** Successful handler runs recorded in the ledger. */
  executions: number;
  /** Distinct jobs with at least one recorded success. */
  succeeded: number;
  /** Recorded successes beyond the first, over all jobs. */
  duplicates: number;
  /** The duplicate count the guarantee allows for this run. */
  duplicateBound: number;
  /** Reservations of killed workers that expired and were taken back (`expired` events). */
  expiredReservations: number;
  /** Jobs dead at the end. */
  dlq: number;
  /** Dead jobs whose last error is a visibility-timeout expiry (their worker died). */
  dlqExpired: number;
  /** Dead jobs that had also succeeded once (success recorded, ack lost to a crash). */
  dlqAfterSuccess: number;
  /** Effects applied through the inbox table (one per job id, however often the job ran). */
  effects: number;
  /** Effects applied more than once for the same job (the inbox makes this 0). */
  duplicateEffects: number;
  /** Jobs recorded in the ledger whose id has no inbox row. */
  ledgerWithoutEffect: number;
  /** Enqueued jobs neither in the ledger nor dead. */
  lost: number;
  /** Jobs still ready, delayed or processing at the end (`stats()`). */
  stuck: number;
  /** Job rows of the queue left in a state other than `dead` (acks delete the rows). */
  leftoverRows: number;
  /** Dead jobs without a last error. */
  dlqWithoutError: number;
  /** Ledger lines naming a job id that was never enqueued. */
  unknownIds: number;
  /** Wall-clock seconds of the whole run. */
  seconds: number;
}

const WORKER = fileURLToPath(new URL("../fixtures/sql-chaos-worker.mjs", import.meta.url));

/** Formats figures as the one line the test prints. */
export function formatSqlFigures(f: SqlChaosFigures): string {
  return (
    `CHAOS-SQL dialect=${f.dialect} seed=${f.seed} jobs=${f.jobs} workers=${f.workers} ` +
    `concurrency=${f.concurrency} visibilityTimeoutSeconds=${f.visibilityTimeoutSeconds} ` +
    `kills=${f.kills} workerStarts=${f.workerStarts} databaseRestarts=${f.databaseRestarts} ` +
    `connectionDrops=${f.connectionDrops} connectionsKilled=${f.connectionsKilled} ` +
    `executions=${f.executions} succeeded=${f.succeeded} duplicates=${f.duplicates} ` +
    `duplicateBound=${f.duplicateBound} expiredReservations=${f.expiredReservations} ` +
    `dlq=${f.dlq} dlqExpired=${f.dlqExpired} ` +
    `dlqAfterSuccess=${f.dlqAfterSuccess} effects=${f.effects} ` +
    `duplicateEffects=${f.duplicateEffects} lost=${f.lost} stuck=${f.stuck} ` +
    `leftoverRows=${f.leftoverRows} seconds=${f.seconds.toFixed(1)}`
  );
}

interface Worker {
  child: ChildProcess;
  /** Resolves once the worker logged "worker started". */
  started: Promise<void>;
  exited: Promise<unknown>;
}

/**
 * Runs jobs through three worker processes (`SqlJobQueue` + `WorkerRunner`, see
 * fixtures/sql-chaos-worker.mjs) on a private PostgreSQL or a SQLite file, SIGKILLing a
 * worker every 1-2 s and restarting it; on PostgreSQL it also restarts the server once
 * (immediate stop, same data directory and port) and ends every worker connection once
 * with `pg_terminate_backend`. Then it checks the ledger, the inbox and the tables.
 */
export async function runSqlChaos(options: SqlChaosOptions): Promise<SqlChaosFigures> {
  const started = Date.now();
  const { dialect } = options;
  const jobCount = options.jobs ?? 1200;
  const workerCount = options.workers ?? 3;
  const concurrency = options.concurrency ?? 10;
  const vt = options.visibilityTimeoutSeconds ?? 4;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const deadline = started + (options.deadlineMs ?? 110_000);
  const random = mulberry32(seed);

  const work = mkdtempSync(join(tmpdir(), "svc-jobs-chaos-sql-"));
  const ledgerDir = join(work, "ledger");
  const logDir = join(work, "logs");
  mkdirSync(ledgerDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  const queueName = uniquePrefix("chaos");

  // A private server: the run restarts it, so it can never be the shared PG_URL.
  let server: PostgresServer | undefined;
  let database: string;
  // biome-ignore lint/suspicious/noExplicitAny: the test's tables are not typed
  let db: Kysely<any>;
  if (dialect === "postgres") {
    server = await startPostgres();
    database = server.url;
    const pool = new pg.Pool({ connectionString: database, max: 3 });
    // Idle connections ended by the restart are errors of the pool; connections ended
    // while checked out are errors of their client (and reject the query in flight).
    pool.on("error", () => {});
    pool.on("connect", (client) => client.on("error", () => {}));
    db = new Kysely({ dialect: new PostgresDialect({ pool }) });
  } else {
    database = join(work, "chaos.sqlite");
    const sqlite = new Database(database, { timeout: 10_000 });
    sqlite.pragma("journal_mode = WAL");
    db = new Kysely({ dialect: new SqliteDialect({ database: sqlite }) });
  }
  const queue = new SqlJobQueue(db, { dialect, queue: queueName, events: { maxLen: 1_000_000 } });
  const workers: (Worker | undefined)[] = [];
  let workerStarts = 0;

  const spawnWorker = (slot: number): Worker => {
    workerStarts++;
    const logFile = join(logDir, `worker-${slot}-${workerStarts}.log`);
    const log = openSync(logFile, "a");
    const child = spawn(process.execPath, [WORKER], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        CHAOS_DIALECT: dialect,
        CHAOS_DATABASE: database,
        CHAOS_QUEUE: queueName,
        CHAOS_CONCURRENCY: String(concurrency),
        CHAOS_VT: String(vt),
        CHAOS_LEDGER_DIR: ledgerDir,
        CHAOS_FAIL_RATE: "0.1",
      },
      stdio: ["ignore", "pipe", log],
    });
    closeSync(log);
    const out = createWriteStream(logFile, { flags: "a" });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const workerStarted = new Promise<void>((resolve) => {
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
    const worker = { child, started: workerStarted, exited };
    workers[slot] = worker;
    return worker;
  };

  const stopWorker = async (slot: number, signal: NodeJS.Signals): Promise<void> => {
    const worker = workers[slot];
    if (!worker) return;
    workers[slot] = undefined;
    // A process killed while still loading has no jobs yet: that would test nothing.
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
    await worker.exited;
    clearTimeout(timer);
  };

  // Reads that fail while PostgreSQL restarts are tried again on the next round.
  const retrying = async <T>(read: () => Promise<T>): Promise<T> => {
    for (let i = 0; ; i++) {
      try {
        return await read();
      } catch (error) {
        if (i >= 50 || Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };

  try {
    await migrateJobTables(db, { dialect });
    await sql`create table chaos_inbox (job_id text primary key)`.execute(db);
    await sql`create table chaos_effects (job_id text primary key, n integer not null)`.execute(db);

    const maxAttemptsOf = (i: number) => (i % 20 === 0 ? 1 : 5);
    const items = Array.from({ length: jobCount }, (_, i) => ({
      name: "chaos.work",
      payload: { n: i },
      // Short backoff so retries happen within the run; one job in 20 gets a single
      // attempt, so the dead path is exercised by random failures and by crashes.
      opts: { maxAttempts: maxAttemptsOf(i), backoffSeconds: 0.05 },
    }));
    const enqueued: Job[] = await queue.enqueueMany(items);
    const ids = new Set(enqueued.map((j) => j.id));
    if (ids.size !== jobCount) {
      throw new Error(`chaos: enqueued ${ids.size} distinct ids, not ${jobCount}`);
    }

    for (let slot = 0; slot < workerCount; slot++) spawnWorker(slot);

    const faults = dialect === "postgres";
    let kills = 0;
    let databaseRestarts = 0;
    let connectionDrops = 0;
    let connectionsKilled = 0;
    let nextKillAt = Date.now() + 1000 + random() * 1000;
    let remaining = jobCount;
    let chaosOver = false;
    for (;;) {
      if (Date.now() > deadline) {
        throw new Error(
          `chaos: the queue did not drain before the deadline (${remaining} jobs left; ` +
            `kills=${kills} restarts=${databaseRestarts} drops=${connectionDrops})`,
        );
      }
      const s = await retrying(() => queue.stats());
      remaining = s.ready + s.delayed + s.processing;
      const done = jobCount - remaining;
      const faultsDone = !faults || (databaseRestarts > 0 && connectionDrops > 0);
      if (remaining === 0 && faultsDone) break;
      // Kills stop once nothing is waiting to start: from then on only the killed workers'
      // reservations are left, and they come back after one visibility timeout.
      if (s.ready + s.delayed === 0 && faultsDone) chaosOver = true;

      if (faults && databaseRestarts === 0 && done >= jobCount * 0.3) {
        databaseRestarts++;
        await server?.restart({ mode: "immediate" });
        // Every committed job survived: the rows are all there after the WAL replay.
        const rows = await retrying(() =>
          sql<{ n: number | string }>`select count(*) as n from svc_jobs_jobs
            where queue = ${queueName}`.execute(db),
        );
        const finished = Number(
          (
            await retrying(() =>
              sql<{ n: number | string }>`select count(*) as n from chaos_inbox`.execute(db),
            )
          ).rows[0]?.n,
        );
        if (Number(rows.rows[0]?.n) + finished < jobCount) {
          throw new Error(
            `chaos: after the restart ${String(rows.rows[0]?.n)} job rows and ${finished} effects, fewer than ${jobCount} jobs`,
          );
        }
      } else if (faults && connectionDrops === 0 && done >= jobCount * 0.55) {
        connectionDrops++;
        const dropped = await retrying(() =>
          sql<{ n: number | string }>`select count(*) as n from (
              select pg_terminate_backend(pid) from pg_stat_activity
              where application_name = 'svc-jobs-chaos-worker' and pid <> pg_backend_pid()
            ) t`.execute(db),
        );
        connectionsKilled += Number(dropped.rows[0]?.n);
      } else if (!chaosOver && Date.now() >= nextKillAt) {
        const slot = Math.floor(random() * workerCount);
        kills++;
        await stopWorker(slot, "SIGKILL");
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
    const leftover = await sql<{ n: number | string }>`select count(*) as n from svc_jobs_jobs
      where queue = ${queueName} and state <> 'dead'`.execute(db);
    const expired = await sql<{ n: number | string }>`select count(*) as n from svc_jobs_events
      where queue = ${queueName} and type = 'expired'`.execute(db);
    const effectRows = (
      await sql<{
        job_id: string;
        n: number | string;
      }>`select job_id, n from chaos_effects`.execute(db)
    ).rows;
    const inbox = new Set(
      (await sql<{ job_id: string }>`select job_id from chaos_inbox`.execute(db)).rows.map(
        (r) => r.job_id,
      ),
    );
    const effects = effectRows.reduce((a, r) => a + Number(r.n), 0);
    let ledgerWithoutEffect = 0;
    for (const id of runs.keys()) if (!inbox.has(id)) ledgerWithoutEffect++;
    let lost = 0;
    for (const id of ids) if (!runs.has(id) && !deadIds.has(id)) lost++;

    return {
      dialect,
      seed,
      jobs: jobCount,
      workers: workerCount,
      concurrency,
      visibilityTimeoutSeconds: vt,
      kills,
      workerStarts,
      databaseRestarts,
      connectionDrops,
      connectionsKilled,
      executions,
      succeeded: runs.size,
      duplicates: executions - runs.size,
      // A crashed worker can leave at most `concurrency` runs recorded but not acked; a
      // database restart or a connection drop at most every worker's in-flight runs.
      duplicateBound:
        kills * concurrency + (databaseRestarts + connectionDrops) * workerCount * concurrency,
      expiredReservations: Number(expired.rows[0]?.n),
      dlq: dead.length,
      dlqExpired: dead.filter((j) => /visibility|expired/i.test(j.lastError ?? "")).length,
      dlqAfterSuccess: dead.filter((j) => runs.has(j.id)).length,
      effects,
      duplicateEffects: effects - effectRows.length,
      ledgerWithoutEffect,
      lost,
      stuck: final.ready + final.delayed + final.processing,
      leftoverRows: Number(leftover.rows[0]?.n),
      dlqWithoutError: dead.filter((j) => !j.lastError).length,
      unknownIds,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    for (const w of workers) w?.child.kill("SIGKILL");
    await Promise.all(workers.map((w) => w?.exited));
    await queue.close().catch(() => {});
    await db.destroy().catch(() => {});
    await server?.stop();
    if (!process.env.CHAOS_KEEP_LOGS) rmSync(work, { recursive: true, force: true });
    else console.log(`chaos: logs and ledger kept in ${work}`);
  }
}
