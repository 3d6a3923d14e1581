import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { usePostgres } from "@svc-jobs/test-servers";
import Database from "better-sqlite3";
import * as kyselyModule from "kysely";
import pg from "pg";
import { afterAll } from "vitest";

// biome-ignore lint/suspicious/noExplicitAny: tests use the stores' own tables only.
export type Db = kyselyModule.Kysely<any>;

/** The Kysely the databases are opened with: this package's own, or another copy. */
export type KyselyModule = typeof kyselyModule;

/** A fresh database: created on a shared PostgreSQL, dropped by `destroy()`. */
export interface TestDatabase {
  db: Db;
  dialect: "postgres" | "sqlite";
  /** The SQLite file (empty for PostgreSQL). */
  file: string;
  /** Another Kysely on the same database (a second process, in effect). */
  connectAgain(): Db;
  destroy(): Promise<void>;
}

let server: Promise<{ url: string; stop(): Promise<void> }> | undefined;

// One PostgreSQL per test file (or the shared one from PG_URL / DATABASE_URL).
afterAll(async () => {
  const s = await server;
  server = undefined;
  await s?.stop();
});

/** Creates `wh_<random>` on the shared (or a newly started) PostgreSQL. */
export async function createPostgresDatabase(
  k: KyselyModule = kyselyModule,
): Promise<TestDatabase> {
  server ??= usePostgres();
  const { url } = await server;
  const name = `wh_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const dbUrl = new URL(url);
  dbUrl.pathname = `/${name}`;
  const opened: Db[] = [];
  const open = () => {
    const db: Db = new k.Kysely({
      dialect: new k.PostgresDialect({
        pool: new pg.Pool({ connectionString: dbUrl.toString(), max: 10 }),
      }),
    });
    opened.push(db);
    return db;
  };
  const db = open();
  return {
    db,
    dialect: "postgres",
    file: "",
    connectAgain: open,
    async destroy() {
      for (const d of opened) await d.destroy();
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.end();
    },
  };
}

/** A SQLite database in a temporary file. */
export async function createSqliteDatabase(k: KyselyModule = kyselyModule): Promise<TestDatabase> {
  const dir = mkdtempSync(path.join(tmpdir(), "svc-jobs-wh-"));
  const file = path.join(dir, "db.sqlite");
  const opened: Db[] = [];
  const open = () => {
    const sqlite = new Database(file);
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("busy_timeout = 5000");
    const db: Db = new k.Kysely({ dialect: new k.SqliteDialect({ database: sqlite }) });
    opened.push(db);
    return db;
  };
  const db = open();
  return {
    db,
    dialect: "sqlite",
    file,
    connectAgain: open,
    async destroy() {
      for (const d of opened) await d.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The business table the end-to-end tests write next to the outbox. */
export async function createUsersTable(db: Db): Promise<void> {
  await db.schema
    .createTable("users")
    .ifNotExists()
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("email", "text", (c) => c.notNull())
    .execute();
}
