export type { SqlDialect } from "./job-tables.js";
export { type MigrateJobTablesOptions, migrateJobTables } from "./migrate-job-tables.js";
export type { NotifyClient, NotifyPool } from "./pg-notifier.js";
export {
  type LeaderClient,
  type LeaderPool,
  PostgresLeader,
  type PostgresLeaderOptions,
} from "./postgres-leader.js";
export {
  type SqlEnqueueManyOptions,
  type SqlEnqueueOptions,
  SqlJobQueue,
  type SqlJobQueueOptions,
} from "./sql-job-queue.js";
export { SqliteLeader, type SqliteLeaderOptions } from "./sqlite-leader.js";
