import { InMemoryScheduler } from "@svc-jobs/scheduler";
import type { SqliteEasyJobs } from "./easy-jobs.js";
import type { JobsDriverDefinition } from "./jobs-driver.js";
import { resolvePrefix } from "./redis-driver.js";
import { openSqliteDatabase } from "./sql-database.js";
import { openSqlAdmin } from "./sql-drivers.js";

/**
 * The `sqlite` driver: a durable queue in one SQLite file (`JOBS_SQLITE_PATH`), shared by
 * every process on the host that opens it; the scheduler fires only in the process that
 * holds the lease row `{prefix}:scheduler` in the same file.
 */
export const sqliteDriver: JobsDriverDefinition<SqliteEasyJobs> = {
  summary: "one file, durable, for one host",
  open(options, { env, visibilityTimeoutSeconds, schedulerOptions }) {
    const prefix = resolvePrefix(options.prefix ?? env.JOBS_PREFIX);
    const database = openSqliteDatabase(options.sqlitePath ?? env.JOBS_SQLITE_PATH);
    const queue = new database.sql.SqlJobQueue(database.db, {
      dialect: "sqlite",
      queue: prefix,
      ...(visibilityTimeoutSeconds === undefined ? {} : { visibilityTimeoutSeconds }),
    });
    const leader = new database.sql.SqliteLeader(database.db, { name: `${prefix}:scheduler` });
    const scheduler = new InMemoryScheduler({ ...schedulerOptions, leader });
    let closed: Promise<void> | undefined;
    return {
      driver: "sqlite",
      prefix,
      queue,
      scheduler,
      db: database.db,
      sqlitePath: database.where,
      leader,
      close() {
        closed ??= (async () => {
          await scheduler.stop();
          if (leader.isLeader()) await leader.release().catch(() => {});
          await queue.close();
          await database.close();
        })();
        return closed;
      },
    };
  },
  describe: (jobs) => ({ prefix: jobs.prefix, sqlitePath: jobs.sqlitePath }),
  isReachable: () => true,
  admin: {
    selectHint: "JOBS_DRIVER=sqlite and JOBS_SQLITE_PATH, or pass --driver sqlite",
    open: (target) =>
      openSqlAdmin(
        (t) => openSqliteDatabase(t.sqlitePath ?? process.env.JOBS_SQLITE_PATH),
        target,
        "sqlite",
      ),
  },
};
