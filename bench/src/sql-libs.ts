/**
 * The SQL benchmark's adapters (issue 18): svc-jobs `SqlJobQueue` on PostgreSQL (with
 * `notify: pool`) and on a SQLite file (WAL), pg-boss 10 and graphile-worker 0.17, each
 * through its public API, configured as its documentation recommends for throughput.
 * Loaded in the measured process only (sql-scenario.ts), one library per process.
 */
import type { QueueAdapter } from "./libs.js";

export const SQL_LIBS = ["svc-jobs", "pg-boss", "graphile-worker", "svc-jobs-sqlite"] as const;
export type SqlLibName = (typeof SQL_LIBS)[number];

/** Where the jobs live: a PostgreSQL URL, or a SQLite file (svc-jobs-sqlite only). */
export interface SqlTarget {
  pgUrl: string;
  sqliteFile: string;
}

export interface SqlPayload {
  to: string;
  n: number;
  /** Latency rows: the enqueue call's time (ms since the epoch, sub-ms precision). */
  t?: number;
}

/** An SQL library's adapter: libs.ts's {@link QueueAdapter} on SQL payloads. */
export type SqlAdapter = QueueAdapter<SqlPayload>;

/**
 * The pool size every library gets: graphile-worker's recommendation ("10 or
 * concurrentJobs + 2, whichever is larger"), applied to all three alike.
 */
export function poolSize(concurrency: number): number {
  return Math.max(10, concurrency + 2);
}

/** pg-boss never polls faster than this (its v10 minimum). */
export const PGBOSS_POLL_SECONDS = 0.5;
const NAME = "bench";

export async function openSqlLib(
  lib: SqlLibName,
  target: SqlTarget,
  concurrency: number,
): Promise<SqlAdapter> {
  if (lib === "svc-jobs") return openSvcJobsPostgres(target.pgUrl, concurrency);
  if (lib === "svc-jobs-sqlite") return openSvcJobsSqlite(target.sqliteFile);
  if (lib === "pg-boss") return openPgBoss(target.pgUrl, concurrency);
  return openGraphile(target.pgUrl, concurrency);
}

type SvcQueue = import("@svc-jobs/sql").SqlJobQueue;

/** svc-jobs's side: the same for both databases once the queue is open. */
async function svcJobsAdapter(queue: SvcQueue, close: () => Promise<void>): Promise<SqlAdapter> {
  const { WorkerRunner } = await import("@svc-jobs/core");
  let runner: InstanceType<typeof WorkerRunner> | undefined;
  return {
    async enqueueOne(payload) {
      await queue.enqueue("noop", payload);
    },
    async enqueueBulk(payloads) {
      await queue.enqueueMany(payloads.map((payload) => ({ name: "noop", payload })));
    },
    async startWorker(concurrency, onDone, onStart) {
      const handler = onStart
        ? async (job: { payload: unknown }) => onStart(job.payload as SqlPayload)
        : async () => {};
      // Done: WorkerRunner's onJobSettled, after the ack's transaction committed.
      runner = new WorkerRunner(queue, handler, {
        concurrency,
        onJobSettled: (outcome) => onDone(outcome.job.payload as unknown as SqlPayload),
      });
      void runner.start();
    },
    async close() {
      await runner?.stop({ graceSeconds: 5 });
      await queue.close();
      await close();
    },
  };
}

async function openSvcJobsPostgres(url: string, concurrency: number): Promise<SqlAdapter> {
  const { migrateJobTables, SqlJobQueue } = await import("@svc-jobs/sql");
  const { Kysely, PostgresDialect } = await import("kysely");
  const pg = (await import("pg")).default;
  const pool = new pg.Pool({ connectionString: url, max: poolSize(concurrency) });
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  await migrateJobTables(db, { dialect: "postgres" });
  // notify: blocked reserves wake on LISTEN/NOTIFY (docs/sql-backend.md), from the same pool.
  const queue = new SqlJobQueue(db, { dialect: "postgres", queue: NAME, notify: pool });
  return svcJobsAdapter(queue, () => db.destroy());
}

async function openSvcJobsSqlite(file: string): Promise<SqlAdapter> {
  const { migrateJobTables, SqlJobQueue } = await import("@svc-jobs/sql");
  const { Kysely, SqliteDialect } = await import("kysely");
  const Database = (await import("better-sqlite3")).default;
  // docs/sql-backend.md, "SQLite": WAL and a busy timeout, one Kysely per file per process.
  const sqlite = new Database(file, { timeout: 10_000 });
  sqlite.pragma("journal_mode = WAL");
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: sqlite }) });
  await migrateJobTables(db, { dialect: "sqlite" });
  const queue = new SqlJobQueue(db, { dialect: "sqlite", queue: NAME });
  return svcJobsAdapter(queue, () => db.destroy());
}

async function openPgBoss(url: string, concurrency: number): Promise<SqlAdapter> {
  const PgBoss = (await import("pg-boss")).default;
  const boss = new PgBoss({
    connectionString: url,
    max: poolSize(concurrency),
    // No cron and no maintenance loop in the measured process (svc-jobs and
    // graphile-worker run none either): only the send / fetch / complete path.
    schedule: false,
    supervise: false,
  });
  boss.on("error", () => {});
  await boss.start(); // creates or migrates its schema
  await boss.createQueue(NAME); // v10: a queue must exist before send()
  return {
    async enqueueOne(payload) {
      await boss.send(NAME, payload);
    },
    async enqueueBulk(payloads) {
      await boss.insert(payloads.map((data) => ({ name: NAME, data })));
    },
    async startWorker(concurrency, onDone, onStart) {
      // v10 has no teamSize: one work() fetching up to `concurrency` jobs per poll, the
      // handler running them at once. It polls (no LISTEN/NOTIFY): after each fetch it
      // waits until pollingIntervalSeconds (minimum 0.5) has passed since the fetch began.
      await boss.work<SqlPayload>(
        NAME,
        { batchSize: concurrency, pollingIntervalSeconds: PGBOSS_POLL_SECONDS },
        async (jobs) => {
          await Promise.all(
            jobs.map(async (job) => {
              onStart?.(job.data);
            }),
          );
          // Done: the handler returned. pg-boss then completes the batch without
          // awaiting it (fire and forget), so its last completions are not timed.
          for (const job of jobs) onDone(job.data);
        },
      );
    },
    async close() {
      await boss.stop({ graceful: false, wait: true, timeout: 5000 });
    },
  };
}

async function openGraphile(url: string, concurrency: number): Promise<SqlAdapter> {
  const { Logger, makeWorkerUtils, run } = await import("graphile-worker");
  const logger = new Logger(() => () => {});
  const utils = await makeWorkerUtils({
    connectionString: url,
    maxPoolSize: poolSize(concurrency),
    logger,
  });
  await utils.migrate();
  let runner: Awaited<ReturnType<typeof run>> | undefined;
  return {
    async enqueueOne(payload) {
      await utils.addJob("noop", payload);
    },
    async enqueueBulk(payloads) {
      await utils.addJobs(payloads.map((payload) => ({ identifier: "noop", payload })));
    },
    async startWorker(concurrency, onDone, onStart) {
      runner = await run({
        connectionString: url,
        concurrency,
        maxPoolSize: poolSize(concurrency),
        noHandleSignals: true,
        logger,
        // New jobs wake the pool through LISTEN/NOTIFY (built in); the poll is only for
        // future and retried jobs. The local queue ("a good starting point is often
        // concurrentJobs + 1", docs/performance) fetches and locks jobs in batches.
        // completeJobBatchDelay stays off (its default): batched completions would
        // leave completed jobs locked and re-runnable after a crash, which svc-jobs's
        // one-transaction ack does not.
        preset: { worker: { localQueue: { size: concurrency + 1 } } },
        taskList: {
          noop: async (payload) => {
            onStart?.(payload as SqlPayload);
          },
        },
      });
      // Done: "job:complete", once the result was written back to the database.
      runner.events.on("job:complete", ({ job, error }) => {
        if (!error) onDone(job.payload as SqlPayload);
      });
    },
    async close() {
      await runner?.stop();
      await utils.release();
    },
  };
}
