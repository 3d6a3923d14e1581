import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { migrateJobTables, SqlJobQueue } from "@svc-jobs/sql";
import { type PostgresServer, startPostgres, uniquePrefix } from "@svc-jobs/test-servers";
import Database from "better-sqlite3";
import { Kysely, PostgresDialect, type RawBuilder, SqliteDialect, sql } from "kysely";
import pg from "pg";
import { type ChaosCommonFigures, type ChaosRunOptions, runChaosDriver } from "./chaos-driver.js";

/** Options of {@link runSqlChaos}. */
export interface SqlChaosOptions extends ChaosRunOptions {
  /** `postgres`: a private PostgreSQL, restarted once, connections dropped once; `sqlite`: a file, worker kills only. */
  dialect: "postgres" | "sqlite";
}

/** What a SQL chaos run measured; printed as one `CHAOS-SQL ...` line. */
export interface SqlChaosFigures extends ChaosCommonFigures {
  dialect: "postgres" | "sqlite";
  /** PostgreSQL stopped (`pg_ctl stop -m immediate`) and started on the same data and port. */
  databaseRestarts: number;
  /** `pg_terminate_backend` rounds over the workers' connections, and the connections ended. */
  connectionDrops: number;
  connectionsKilled: number;
  /** Reservations of killed workers that expired and were taken back (`expired` events). */
  expiredReservations: number;
  /** Job rows of the queue left in a state other than `dead` (acks delete the rows). */
  leftoverRows: number;
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

/**
 * Runs jobs through three worker processes (`SqlJobQueue` + `WorkerRunner`, see
 * fixtures/sql-chaos-worker.mjs) on a private PostgreSQL or a SQLite file, SIGKILLing a
 * worker every 1-2 s and restarting it; on PostgreSQL it also restarts the server once
 * (immediate stop, same data directory and port) and ends every worker connection once
 * with `pg_terminate_backend`. Then it checks the ledger, the inbox and the tables.
 */
export function runSqlChaos(options: SqlChaosOptions): Promise<SqlChaosFigures> {
  const { dialect } = options;
  return runChaosDriver({
    ...options,
    workDirPrefix: "svc-jobs-chaos-sql-",
    // Concurrency of each worker's `WorkerRunner`: 10.
    defaults: { jobs: 4000, concurrency: 10, deadlineMs: 150_000 },
    signal: "SIGKILL",
    backend: async (run) => {
      const { work, ledgerDir, deadline, jobs: jobCount, concurrency } = run;
      const vt = run.visibilityTimeoutSeconds;
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
      const queue = new SqlJobQueue(db, {
        dialect,
        queue: queueName,
        events: { maxLen: 1_000_000 },
      });

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
      const count = async (query: RawBuilder<{ n: number | string }>) =>
        Number((await retrying(() => query.execute(db))).rows[0]?.n);

      let databaseRestarts = 0;
      let connectionDrops = 0;
      let connectionsKilled = 0;
      return {
        queue,
        prepare: async () => {
          await migrateJobTables(db, { dialect });
          await sql`create table chaos_inbox (job_id text primary key)`.execute(db);
          await sql`create table chaos_effects (job_id text primary key, n integer not null)`.execute(
            db,
          );
        },
        stats: () => retrying(() => queue.stats()),
        command: () => ({
          args: [WORKER],
          env: {
            CHAOS_DIALECT: dialect,
            CHAOS_DATABASE: database,
            CHAOS_QUEUE: queueName,
            CHAOS_CONCURRENCY: String(concurrency),
            CHAOS_VT: String(vt),
            CHAOS_LEDGER_DIR: ledgerDir,
            CHAOS_FAIL_RATE: "0.1",
          },
        }),
        faults:
          dialect === "postgres"
            ? [
                {
                  at: 0.3,
                  inject: async () => {
                    databaseRestarts++;
                    await server?.restart({ mode: "immediate" });
                    // Every committed job survived: the rows are all there after the WAL replay.
                    const rows = await count(
                      sql<{
                        n: number | string;
                      }>`select count(*) as n from svc_jobs_jobs where queue = ${queueName}`,
                    );
                    const finished = await count(
                      sql<{ n: number | string }>`select count(*) as n from chaos_inbox`,
                    );
                    if (rows + finished < jobCount) {
                      throw new Error(
                        `chaos: after the restart ${rows} job rows and ${finished} effects, fewer than ${jobCount} jobs`,
                      );
                    }
                  },
                },
                {
                  at: 0.55,
                  inject: async () => {
                    connectionDrops++;
                    connectionsKilled += await count(
                      sql<{ n: number | string }>`select count(*) as n from (
                        select pg_terminate_backend(pid) from pg_stat_activity
                        where application_name = 'svc-jobs-chaos-worker' and pid <> pg_backend_pid()
                      ) t`,
                    );
                  },
                },
              ]
            : [],
        deadlineDetail: (kills) =>
          `; kills=${kills} restarts=${databaseRestarts} drops=${connectionDrops}`,
        expiredError: /visibility|expired/i,
        effects: async () => {
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
          return { counts: effectRows.map((r) => Number(r.n)), inbox };
        },
        figures: async () => ({
          dialect,
          databaseRestarts,
          connectionDrops,
          connectionsKilled,
          expiredReservations: Number(
            (
              await sql<{ n: number | string }>`select count(*) as n from svc_jobs_events
                where queue = ${queueName} and type = 'expired'`.execute(db)
            ).rows[0]?.n,
          ),
          leftoverRows: Number(
            (
              await sql<{ n: number | string }>`select count(*) as n from svc_jobs_jobs
                where queue = ${queueName} and state <> 'dead'`.execute(db)
            ).rows[0]?.n,
          ),
        }),
        close: async () => {
          await queue.close().catch(() => {});
          await db.destroy().catch(() => {});
          await server?.stop();
        },
      };
    },
  });
}
