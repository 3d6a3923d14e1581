import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { migrateWebhookTables } from "@svc-jobs/webhooks";
import Database from "better-sqlite3";
import { type Generated, Kysely, PostgresDialect, SqliteDialect, sql } from "kysely";
import pg from "pg";

/** The app's own tables (the outbox and inbox tables belong to @svc-jobs/webhooks). */
export interface AppTables {
  orders: {
    id: Generated<number>;
    customer: string;
    item: string;
    quantity: number;
    total_cents: number;
    created_at: string;
  };
  order_confirmations: {
    order_id: number;
    sent_at: string;
  };
}

/** An open database and what it is. */
export interface AppDatabase {
  db: Kysely<AppTables>;
  dialect: "postgres" | "sqlite";
  /** Where it lives, without credentials, for logs. */
  where: string;
  close(): Promise<void>;
}

/**
 * Opens PostgreSQL when `databaseUrl` is set, else the SQLite file (created with
 * its folder), and creates the tables if they are missing.
 */
export async function openDatabase(options: {
  databaseUrl: string | undefined;
  sqliteFile: string;
}): Promise<AppDatabase> {
  let db: Kysely<AppTables>;
  let dialect: "postgres" | "sqlite";
  let where: string;
  if (options.databaseUrl) {
    dialect = "postgres";
    const url = new URL(options.databaseUrl);
    if (url.password) url.password = "***";
    where = url.toString();
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 });
    // A connection PostgreSQL ends (a restart, a failover) is an "error" event: on the pool
    // while idle, on its client while checked out (the query in flight fails too). Without
    // listeners either one is an uncaught exception that ends the process.
    pool.on("error", () => {});
    pool.on("connect", (client) => client.on("error", () => {}));
    db = new Kysely<AppTables>({ dialect: new PostgresDialect({ pool }) });
  } else {
    dialect = "sqlite";
    where = options.sqliteFile;
    if (options.sqliteFile !== ":memory:")
      mkdirSync(dirname(options.sqliteFile), { recursive: true });
    const sqlite = new Database(options.sqliteFile);
    // WAL lets the API read while the worker writes.
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("busy_timeout = 5000");
    db = new Kysely<AppTables>({ dialect: new SqliteDialect({ database: sqlite }) });
  }
  await migrate(db, dialect);
  return { db, dialect, where, close: () => db.destroy() };
}

async function migrate(db: Kysely<AppTables>, dialect: "postgres" | "sqlite"): Promise<void> {
  await migrateWebhookTables(db);
  const idColumn =
    dialect === "postgres" ? sql`id serial primary key` : sql`id integer primary key autoincrement`;
  await sql`create table if not exists orders (
    ${idColumn},
    customer text not null,
    item text not null,
    quantity integer not null,
    total_cents integer not null,
    created_at text not null
  )`.execute(db);
  await sql`create table if not exists order_confirmations (
    order_id integer primary key,
    sent_at text not null
  )`.execute(db);
}
