import { InMemoryScheduler } from "@svc-jobs/scheduler";
import type { PostgresEasyJobs } from "./easy-jobs.js";
import type { JobsDriverDefinition } from "./jobs-driver.js";
import { resolvePrefix } from "./redis-driver.js";
import { openPostgresDatabase } from "./sql-database.js";
import { openSqlAdmin } from "./sql-drivers.js";

/**
 * The `postgres` driver: a queue shared by every process on one PostgreSQL
 * (`DATABASE_URL`), waking on LISTEN/NOTIFY; the scheduler fires only on the replica
 * holding the advisory lock of `{prefix}:scheduler` (a `PostgresLeader`).
 */
export const postgresDriver: JobsDriverDefinition<PostgresEasyJobs> = {
  summary: "shared on PostgreSQL, for production",
  open(options, { env, visibilityTimeoutSeconds, schedulerOptions }) {
    const prefix = resolvePrefix(options.prefix ?? env.JOBS_PREFIX);
    const database = openPostgresDatabase(options.databaseUrl ?? env.DATABASE_URL);
    const pool = database.pool as NonNullable<typeof database.pool>;
    const queue = new database.sql.SqlJobQueue(database.db, {
      dialect: "postgres",
      queue: prefix,
      notify: pool,
      ...(visibilityTimeoutSeconds === undefined ? {} : { visibilityTimeoutSeconds }),
    });
    const leader = new database.sql.PostgresLeader(pool, { name: `${prefix}:scheduler` });
    const scheduler = new InMemoryScheduler({ ...schedulerOptions, leader });
    let closed: Promise<void> | undefined;
    return {
      driver: "postgres",
      prefix,
      queue,
      scheduler,
      db: database.db,
      databaseUrl: database.where,
      leader,
      close() {
        closed ??= (async () => {
          await scheduler.stop();
          await leader.release().catch(() => {});
          await queue.close();
          await database.close();
        })();
        return closed;
      },
    };
  },
  describe: (jobs) => ({ prefix: jobs.prefix, databaseUrl: jobs.databaseUrl }),
  isReachable: () => true,
  admin: {
    selectHint: "JOBS_DRIVER=postgres and DATABASE_URL, or pass --driver postgres",
    open: (target) =>
      openSqlAdmin(
        (t) => openPostgresDatabase(t.databaseUrl ?? process.env.DATABASE_URL),
        target,
        "postgres",
      ),
  },
};
