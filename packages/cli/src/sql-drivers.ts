import type { SqlJobQueue } from "@svc-jobs/sql";
import type { AdminConnection, AdminTarget } from "./jobs-driver.js";
import type { SqlDatabase } from "./sql-database.js";

/**
 * The admin commands' connection to the queues in one SQL database: a queue per prefix
 * (the queue's name), and every queue the tables hold for `stats --all`. Internal.
 */
export async function openSqlAdmin(
  open: (target: AdminTarget) => SqlDatabase,
  target: AdminTarget,
  dialect: "sqlite" | "postgres",
): Promise<AdminConnection> {
  const database = open(target);
  try {
    // Fail fast (and migrate) before the command's first call.
    await database.ready();
  } catch (error) {
    await database.close();
    throw error;
  }
  const queues = new Map<string, SqlJobQueue>();
  return {
    queue(prefix) {
      let queue = queues.get(prefix);
      if (!queue) {
        queue = new database.sql.SqlJobQueue(database.db, { dialect, queue: prefix });
        queues.set(prefix, queue);
      }
      return queue;
    },
    async listPrefixes() {
      const rows = await database.db
        .selectFrom("svc_jobs_queues")
        .select("name")
        .orderBy("name")
        .execute();
      return rows.map((row) => String(row.name));
    },
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close().catch(() => {})));
      await database.close();
    },
  };
}
