import { easyJobs, resolveVisibilityTimeout } from "@svc-jobs/cli";
import { ConfigError, type JobQueue } from "@svc-jobs/core";
import { InMemoryScheduler } from "@svc-jobs/scheduler";
import { migrateJobTables, SqlJobQueue } from "@svc-jobs/sql";
import pg from "pg";
import type { AppDatabase } from "./database.js";

/**
 * Where the app's jobs live: `sqlite` or `postgres` (a `SqlJobQueue` in the app's own
 * database), or what `easyJobs` builds for `JOBS_DRIVER=memory` / `redis`.
 */
export type AppJobsDriver = "sqlite" | "postgres" | "memory" | "redis";

/** The app's queue and scheduler. */
export interface AppJobs {
  driver: AppJobsDriver;
  /**
   * The `SqlJobQueue` when the queue is in the app's database (same Kysely): jobs are
   * then enqueued in the order's own transaction, and the outbox relay is not needed.
   * `undefined` for memory and Redis, where the relay moves the outbox into the queue.
   */
  sameDatabase: SqlJobQueue | undefined;
  queue: JobQueue;
  /** The queue's name (SQL) or key prefix (Redis); `"memory"` for the memory queue. */
  prefix: string;
  /** The Redis it runs on, without credentials (redis driver only). */
  redisUrl: string | undefined;
  /**
   * Periodic tasks. With Redis it fires on the replica holding the lease; otherwise in
   * this process (the app runs one process per SQLite file; on PostgreSQL every replica
   * runs the cleanup, which is idempotent).
   */
  scheduler: InMemoryScheduler;
  /** One line for logs: which queue, where. */
  describe(): string;
  /** Stops the scheduler and closes the queue (not the database: that is the app's). */
  close(): Promise<void>;
}

/**
 * Opens the app's queue. `JOBS_DRIVER` unset (or `sqlite` / `postgres`, matching the
 * database): a `SqlJobQueue` on the app's database, its tables migrated on every start
 * (idempotent), so jobs outlive a restart and commit with the orders. `memory` or
 * `redis`: `easyJobs` (JOBS_PREFIX, REDIS_URL, ... as `svc-jobs run` reads them).
 */
export async function openJobs(
  database: AppDatabase,
  options: { databaseUrl: string | undefined; env: NodeJS.ProcessEnv },
): Promise<AppJobs> {
  const { env } = options;
  const wanted = (env.JOBS_DRIVER ?? "").trim().toLowerCase();
  if (wanted === "memory" || wanted === "redis") {
    const jobs = easyJobs({ env });
    return {
      driver: jobs.driver,
      sameDatabase: undefined,
      queue: jobs.queue,
      prefix: jobs.prefix,
      redisUrl: jobs.redisUrl,
      scheduler: jobs.scheduler,
      describe: () =>
        jobs.driver === "redis" ? `redis (${jobs.redisUrl}, prefix ${jobs.prefix})` : "memory",
      close: () => jobs.close(),
    };
  }
  if (wanted !== "" && wanted !== database.dialect) {
    throw new ConfigError(
      `JOBS_DRIVER is ${JSON.stringify(env.JOBS_DRIVER)}: leave it unset for a queue in the app's database (${database.dialect} here; DATABASE_URL picks PostgreSQL, else the SQLite file), or set "redis" or "memory"`,
    );
  }
  const { db, dialect } = database;
  const name = env.JOBS_PREFIX?.trim() || "jobs";
  const visibilityTimeoutSeconds = resolveVisibilityTimeout(env.JOBS_VISIBILITY_TIMEOUT_SECONDS);
  await migrateJobTables(db, { dialect });
  // PostgreSQL: one LISTEN connection, so this process's waiting worker wakes when
  // another process (a second replica) writes work, instead of polling for it.
  const listenPool =
    dialect === "postgres" && options.databaseUrl
      ? new pg.Pool({ connectionString: options.databaseUrl, max: 1 })
      : undefined;
  listenPool?.on("error", () => {});
  listenPool?.on("connect", (client) => client.on("error", () => {}));
  const queue = new SqlJobQueue(db, {
    dialect,
    queue: name,
    // Work this process writes wakes its worker at once; this is for other processes.
    pollIntervalSeconds: 0.25,
    ...(visibilityTimeoutSeconds === undefined ? {} : { visibilityTimeoutSeconds }),
    ...(listenPool ? { notify: listenPool } : {}),
  });
  const scheduler = new InMemoryScheduler();
  let closed: Promise<void> | undefined;
  return {
    driver: dialect,
    sameDatabase: queue,
    queue,
    prefix: name,
    redisUrl: undefined,
    scheduler,
    describe: () => `${dialect} (in the app's database, queue ${JSON.stringify(name)})`,
    close() {
      closed ??= (async () => {
        await scheduler.stop();
        await queue.close();
        await listenPool?.end();
      })();
      return closed;
    },
  };
}
