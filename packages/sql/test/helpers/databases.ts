import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { migrateJobTables, type SqlDialect } from "@svc-jobs/sql";
import { usePostgres } from "@svc-jobs/test-servers";
import Database from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";

// biome-ignore lint/suspicious/noExplicitAny: tests use the queue's own tables only.
export type Db = Kysely<any>;

/** A fresh, migrated database for one test file. */
export interface TestDatabase {
  db: Db;
  dialect: SqlDialect;
  /** The SQLite file (empty for PostgreSQL). */
  file: string;
  /** The PostgreSQL database's URL (empty for SQLite). */
  url: string;
  /** Another Kysely on the same database (a second process, in effect). */
  connectAgain(): Db;
  destroy(): Promise<void>;
}

let server: Promise<{ url: string; stop(): Promise<void> }> | undefined;

/** Creates `sq_<random>` on the shared (PG_URL / DATABASE_URL) or a newly started PostgreSQL. */
export async function createPostgresDatabase(): Promise<TestDatabase> {
  server ??= usePostgres();
  const { url } = await server;
  const name = `sq_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const dbUrl = new URL(url);
  dbUrl.pathname = `/${name}`;
  const opened: Db[] = [];
  const open = () => {
    const db: Db = new Kysely({
      dialect: new PostgresDialect({
        pool: new pg.Pool({ connectionString: dbUrl.toString(), max: 10 }),
      }),
    });
    opened.push(db);
    return db;
  };
  const db = open();
  await migrateJobTables(db, { dialect: "postgres" });
  return {
    db,
    dialect: "postgres",
    file: "",
    url: dbUrl.toString(),
    connectAgain: open,
    async destroy() {
      for (const d of opened) await d.destroy();
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.end();
      const s = await server;
      server = undefined;
      await s?.stop();
    },
  };
}

/** A SQLite database in a temporary file, in WAL mode with a busy timeout. */
export async function createSqliteDatabase(): Promise<TestDatabase> {
  const dir = mkdtempSync(path.join(tmpdir(), "svc-jobs-sql-"));
  const file = path.join(dir, "jobs.sqlite");
  const opened: Db[] = [];
  const open = () => {
    const sqlite = new Database(file);
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("busy_timeout = 5000");
    const db: Db = new Kysely({ dialect: new SqliteDialect({ database: sqlite }) });
    opened.push(db);
    return db;
  };
  const db = open();
  await migrateJobTables(db, { dialect: "sqlite" });
  return {
    db,
    dialect: "sqlite",
    file,
    url: "",
    connectAgain: open,
    async destroy() {
      for (const d of opened) await d.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let counter = 0;
/** A queue name no other test of the file uses. */
export function uniqueQueue(name = "q"): string {
  return `${name}-${++counter}-${randomBytes(3).toString("hex")}`;
}
