import { BackendError, ConfigError, JobsError } from "@svc-jobs/core";
import { rejectUnknownKeys } from "@svc-jobs/core/backend";
import { sql } from "kysely";
import { fastPathFunctionSql } from "./fast-path.js";
import {
  type AnyKysely,
  checkDialect,
  checkSchema,
  onSchema,
  SCHEMA_VERSION,
  type SqlDialect,
  TABLES,
} from "./job-tables.js";

/** Options of {@link migrateJobTables}. */
export interface MigrateJobTablesOptions {
  /** The database behind `db`. */
  dialect: SqlDialect;
  /**
   * The PostgreSQL schema of the tables (it is created when missing). SQLite: the name of
   * an attached database.
   * @default the connection's search path (PostgreSQL), `main` (SQLite)
   */
  schema?: string;
}

const MIGRATE_KEYS = {
  keys: ["dialect", "schema"],
  hints: { driver: "dialect", database: "dialect", searchPath: "schema" },
};

/**
 * Creates (or upgrades) the tables of {@link SqlJobQueue}. Records its version in
 * `svc_jobs_schema_version`; safe to run on every start and from several processes at once
 * (PostgreSQL: a transaction-scoped advisory lock; SQLite: `BEGIN IMMEDIATE`).
 *
 * @example
 * ```ts
 * await migrateJobTables(db, { dialect: "postgres" });
 * const queue = new SqlJobQueue(db, { dialect: "postgres" });
 * ```
 */
export async function migrateJobTables(
  db: AnyKysely,
  options: MigrateJobTablesOptions,
): Promise<void> {
  if (options === null || typeof options !== "object") {
    throw new ConfigError('migrateJobTables takes { dialect: "postgres" | "sqlite", schema? }');
  }
  rejectUnknownKeys(
    options,
    MIGRATE_KEYS,
    "options",
    (_key: string, message: string) => new ConfigError(message),
  );
  const dialect = checkDialect(options.dialect, "options.dialect");
  const schema = checkSchema(options.schema, "options.schema");
  try {
    if (dialect === "postgres") {
      await db.transaction().execute(async (trx) => {
        // One migrator at a time over every process; the lock ends with the transaction.
        await sql`select pg_advisory_xact_lock(hashtext('svc_jobs_migrate'))`.execute(trx);
        if (schema !== null) await sql`create schema if not exists ${sql.id(schema)}`.execute(trx);
        await migrate(trx, dialect, schema);
      });
    } else {
      await db.connection().execute(async (conn) => {
        await sql`begin immediate`.execute(conn);
        try {
          await migrate(conn, dialect, schema);
          await sql`commit`.execute(conn);
        } catch (error) {
          await sql`rollback`.execute(conn).catch(() => {});
          throw error;
        }
      });
    }
  } catch (error) {
    if (error instanceof JobsError) throw error;
    throw new BackendError(
      `migrating the job tables failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

async function migrate(db: AnyKysely, dialect: SqlDialect, schema: string | null): Promise<void> {
  const s = onSchema(db, schema);
  await s.schema
    .createTable(TABLES.version)
    .ifNotExists()
    .addColumn("version", "integer", (c) => c.primaryKey())
    .addColumn("applied_at", "bigint", (c) => c.notNull())
    .execute();
  const row = await s
    .selectFrom(TABLES.version)
    .select((eb) => eb.fn.max("version").as("v"))
    .executeTakeFirst();
  const current = Number(row?.v ?? 0);
  if (current > SCHEMA_VERSION) {
    throw new ConfigError(
      `the job tables are at schema version ${current}, newer than this @svc-jobs/sql (${SCHEMA_VERSION}): upgrade @svc-jobs/sql`,
    );
  }
  if (current < 1) await version1(s, dialect);
  if (current < 2 && dialect === "postgres") {
    for (const statement of fastPathFunctionSql(schema)) await statement.execute(s);
  }
  for (let version = current + 1; version <= SCHEMA_VERSION; version++) {
    await s.insertInto(TABLES.version).values({ version, applied_at: Date.now() }).execute();
  }
}

// Version 2 (PostgreSQL): the function of the fast path (docs/sql-backend.md, "The fast
// path"), `fastPathFunctionSql`; SQLite has nothing new.

/** Version 1: every table and index (docs/sql-backend.md, "Schema"). */
async function version1(s: AnyKysely, dialect: SqlDialect): Promise<void> {
  const pg = dialect === "postgres";
  const real = pg ? "double precision" : "real";
  // Group names sort by code point (docs/contract.md, "Listing"): the byte order of UTF-8.
  const textC = pg ? sql`text collate "C"` : sql`text`;
  await s.schema
    .createTable(TABLES.queues)
    .addColumn("name", textC, (c) => c.primaryKey())
    .addColumn("next_id", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("order_seq", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("rank_back", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("rank_front", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("event_seq", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("paused", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("rate_max", "integer")
    .addColumn("rate_per_seconds", real)
    .addColumn("group_limits", "text")
    .addColumn("hold_until", "bigint", (c) => c.notNull().defaultTo(0))
    .execute();
  await s.schema
    .createTable(TABLES.jobs)
    .addColumn("queue", textC, (c) => c.notNull())
    .addColumn("id", "bigint", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("priority", "integer", (c) => c.notNull())
    .addColumn("rank", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("group_name", textC)
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("max_attempts", "integer", (c) => c.notNull())
    .addColumn("backoff_seconds", real, (c) => c.notNull())
    .addColumn("last_error", "text")
    .addColumn("available_at", "bigint", (c) => c.notNull())
    .addColumn("at", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("at_seq", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("seq", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("finished_at", "bigint")
    .addColumn("progress", "text")
    .addColumn("result", "text")
    .addColumn("trace_parent", "text")
    .addColumn("trace_state", "text")
    .addPrimaryKeyConstraint(`${TABLES.jobs}_pk`, ["queue", "id"])
    .execute();
  // The reserve path: ready jobs without a group by (priority desc, rank), and each group's.
  await s.schema
    .createIndex(`${TABLES.jobs}_ready`)
    .on(TABLES.jobs)
    .expression(sql`queue, priority desc, rank`)
    .where(sql.ref("state"), "=", "ready")
    .where(sql.ref("group_name"), "is", null)
    .execute();
  await s.schema
    .createIndex(`${TABLES.jobs}_group_ready`)
    .on(TABLES.jobs)
    .expression(sql`queue, group_name, priority desc, rank`)
    .where(sql.ref("state"), "=", "ready")
    .where(sql.ref("group_name"), "is not", null)
    .execute();
  // Due delayed jobs and expired reservations, in (time, order) order; dead, completed and
  // cancelled jobs in their order. Not partial: SQLite's planner uses a partial index only
  // when the query repeats its condition, and `state in (...)` is never implied by
  // `state = ?`.
  await s.schema
    .createIndex(`${TABLES.jobs}_timed`)
    .on(TABLES.jobs)
    .columns(["queue", "state", "at", "at_seq"])
    .execute();
  await s.schema
    .createIndex(`${TABLES.jobs}_finished`)
    .on(TABLES.jobs)
    .columns(["queue", "state", "seq"])
    .execute();
  await s.schema
    .createIndex(`${TABLES.jobs}_group_active`)
    .on(TABLES.jobs)
    .columns(["queue", "group_name", "at"])
    .where(sql.ref("state"), "=", "processing")
    .execute();
  await s.schema
    .createTable(TABLES.dedupe)
    .addColumn("queue", textC, (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("job_id", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint(`${TABLES.dedupe}_pk`, ["queue", "key"])
    .execute();
  await s.schema
    .createIndex(`${TABLES.dedupe}_expires`)
    .on(TABLES.dedupe)
    .columns(["queue", "expires_at"])
    .execute();
  await s.schema
    .createTable(TABLES.events)
    .addColumn("queue", textC, (c) => c.notNull())
    .addColumn("id", "bigint", (c) => c.notNull())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("job_id", "bigint", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("at", "bigint", (c) => c.notNull())
    .addColumn("data", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint(`${TABLES.events}_pk`, ["queue", "id"])
    .execute();
  await s.schema
    .createTable(TABLES.groups)
    .addColumn("queue", textC, (c) => c.notNull())
    .addColumn("name", textC, (c) => c.notNull())
    .addColumn("rot", "bigint")
    .addColumn("wait_until", "bigint")
    .addColumn("wait_seq", "bigint")
    .addColumn("hold_until", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("limits", "text")
    .addPrimaryKeyConstraint(`${TABLES.groups}_pk`, ["queue", "name"])
    .execute();
  await s.schema
    .createIndex(`${TABLES.groups}_rot`)
    .on(TABLES.groups)
    .columns(["queue", "rot"])
    .where(sql.ref("rot"), "is not", null)
    .execute();
  await s.schema
    .createTable(TABLES.starts)
    .addColumn("queue", textC, (c) => c.notNull())
    .addColumn("scope", textC, (c) => c.notNull())
    .addColumn("at", "bigint", (c) => c.notNull())
    .execute();
  await s.schema
    .createIndex(`${TABLES.starts}_scope_at`)
    .on(TABLES.starts)
    .columns(["queue", "scope", "at"])
    .execute();
  await s.schema
    .createTable(TABLES.cancelled)
    .addColumn("queue", textC, (c) => c.notNull())
    .addColumn("job_id", "bigint", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("until", "bigint", (c) => c.notNull())
    .addColumn("reason", "text")
    .addPrimaryKeyConstraint(`${TABLES.cancelled}_pk`, ["queue", "job_id"])
    .execute();
}
