import { mkdirSync, statSync } from "node:fs";
import path from "node:path";
import { ConfigError, errorMessage } from "@svc-jobs/core";
import type * as SvcJobsSql from "@svc-jobs/sql";
import type * as KyselyModule from "kysely";
import { loadSqlModules, type PgPool, type SqliteHandle } from "./load-sql.js";
import { redactUrl } from "./redis-url.js";

// biome-ignore lint/suspicious/noExplicitAny: the queue's tables are not the caller's schema.
export type AnyKysely = KyselyModule.Kysely<any>;

/** Where `JOBS_SQLITE_PATH` points when it is unset. */
export const DEFAULT_SQLITE_PATH = "./data/svc-jobs.sqlite";

/** How long a process waits for another one's write lock on the file, in ms. */
const BUSY_TIMEOUT_MS = 5000;

/** A Kysely on the queue's database, migrated before its first query. Internal. */
export interface SqlDatabase {
  db: AnyKysely;
  sql: typeof SvcJobsSql;
  kysely: typeof KyselyModule;
  /** Where the database is, for logs: the absolute file, or the URL without its password. */
  where: string;
  /** The pg pool (postgres). */
  pool?: PgPool;
  /** Resolves once the tables are migrated (the first query waits for it anyway). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens (creating it and its folder) the SQLite file at `file`, relative to the current
 * directory: WAL mode, a 5 s busy timeout, and `migrateJobTables` before the first query.
 * A path that cannot be created or opened is a `ConfigError` saying so at once.
 */
export function openSqliteDatabase(file: string | undefined): SqlDatabase {
  const raw = file === undefined || file.trim() === "" ? DEFAULT_SQLITE_PATH : file.trim();
  const { sql, kysely, client: Database } = loadSqlModules("sqlite");
  const absolute = path.resolve(raw);
  const fail = (what: string, error: unknown): never => {
    throw new ConfigError(
      `JOBS_SQLITE_PATH is ${JSON.stringify(raw)}: ${what} (${errorMessage(error)}); set JOBS_SQLITE_PATH to a file in a folder this process can write, e.g. ${DEFAULT_SQLITE_PATH}`,
      { code: "ERR_JOBS_SQLITE_PATH", cause: error },
    );
  };
  try {
    mkdirSync(path.dirname(absolute), { recursive: true });
  } catch (error) {
    fail(`its folder ${path.dirname(absolute)} cannot be created`, error);
  }
  if (statSync(absolute, { throwIfNoEntry: false })?.isDirectory()) {
    fail(`${absolute} is a folder`, new Error("EISDIR"));
  }
  let handle: SqliteHandle;
  try {
    handle = new Database(absolute, { timeout: BUSY_TIMEOUT_MS });
    // A property of the file: readers never wait for the writer.
    handle.pragma("journal_mode = WAL");
  } catch (error) {
    return fail(`${absolute} cannot be opened as a SQLite database`, error);
  }
  let migrated: Promise<void> | undefined;
  const migrate = () => {
    // A second Kysely on the same handle, whose close() leaves the handle open.
    const migrator = new kysely.Kysely({
      dialect: new kysely.SqliteDialect({
        database: { prepare: (s: string) => handle.prepare(s), close() {} } as never,
      }),
    });
    migrated ??= sql
      .migrateJobTables(migrator, { dialect: "sqlite" })
      .finally(() => migrator.destroy());
    return migrated;
  };
  const db: AnyKysely = new kysely.Kysely({
    dialect: new kysely.SqliteDialect({
      // Kysely opens the connection on the first query: the tables exist by then.
      database: async () => {
        await migrate();
        return handle as never;
      },
    }),
  });
  let closed: Promise<void> | undefined;
  return {
    db,
    sql,
    kysely,
    where: absolute,
    ready: () => migrate(),
    close() {
      closed ??= (async () => {
        await migrated?.catch(() => {});
        await db.destroy();
        if (handle.open) handle.close();
      })();
      return closed;
    },
  };
}

/**
 * A pg pool on `url` and a Kysely on it; `migrateJobTables` runs before the first query.
 * A missing or malformed URL is a `ConfigError`.
 */
export function openPostgresDatabase(url: string | undefined): SqlDatabase {
  const connectionString = resolveDatabaseUrl(url);
  const { sql, kysely, client: pg } = loadSqlModules("postgres");
  const pool = new pg.Pool({ connectionString, max: 10 });
  // A connection that drops (a restart, a failover, pg_terminate_backend) is replaced on the
  // next query; it must not crash the process: idle ones report on the pool, and one ended
  // while checked out reports on its client, which has no listener of its own
  // (docs/sql-backend.md, "Connections").
  pool.on("error", () => {});
  pool.on("connect", (client) => {
    client.on("error", () => {});
  });
  // Kysely's destroy() would end the pool: the migrator gets one whose end() does nothing.
  const shared = { connect: () => pool.connect(), end: async () => {} };
  let migrated: Promise<void> | undefined;
  const migrate = () => {
    const migrator = new kysely.Kysely({
      dialect: new kysely.PostgresDialect({ pool: shared as never }),
    });
    migrated ??= sql
      .migrateJobTables(migrator, { dialect: "postgres" })
      .finally(() => migrator.destroy());
    return migrated;
  };
  const db: AnyKysely = new kysely.Kysely({
    dialect: new kysely.PostgresDialect({
      pool: async () => {
        await migrate();
        return shared as never;
      },
    }),
  });
  let closed: Promise<void> | undefined;
  return {
    db,
    sql,
    kysely,
    pool,
    where: redactUrl(connectionString),
    ready: () => migrate(),
    close() {
      closed ??= (async () => {
        await migrated?.catch(() => {});
        await db.destroy();
        if (!pool.ended) await pool.end();
      })();
      return closed;
    },
  };
}

function resolveDatabaseUrl(value: string | undefined): string {
  const url = value?.trim() ?? "";
  if (url === "") {
    throw new ConfigError(
      "JOBS_DRIVER=postgres needs DATABASE_URL: set it to your PostgreSQL, e.g. postgres://user:password@localhost:5432/app (or pass --database-url)",
      { code: "ERR_DATABASE_URL" },
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new ConfigError(
      `DATABASE_URL is not a URL: set it like postgres://user:password@localhost:5432/app`,
      { code: "ERR_DATABASE_URL", cause: error },
    );
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new ConfigError(
      `DATABASE_URL must start with postgres:// or postgresql://, got ${parsed.protocol}//...: set it like postgres://user:password@localhost:5432/app`,
      { code: "ERR_DATABASE_URL" },
    );
  }
  return url;
}
