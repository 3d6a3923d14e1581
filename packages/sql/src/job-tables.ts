import { ConfigError } from "@svc-jobs/core";
import type { Kysely, Transaction } from "kysely";

// The tables of the SQL backend (docs/sql-backend.md, "Schema"). Internal.

/** A Kysely instance on any database schema: the queue uses only its own tables. */
// biome-ignore lint/suspicious/noExplicitAny: the queue's tables are not part of the caller's DB type.
export type AnyKysely = Kysely<any>;

/** A Kysely transaction on any database schema (the caller's, for `enqueue({ trx })`). */
// biome-ignore lint/suspicious/noExplicitAny: the caller's DB type does not matter to the queue.
export type AnyTransaction = Transaction<any>;

/** The databases the SQL backend runs on. */
export type SqlDialect = "postgres" | "sqlite";

export const TABLES = {
  queues: "svc_jobs_queues",
  jobs: "svc_jobs_jobs",
  dedupe: "svc_jobs_dedupe",
  events: "svc_jobs_events",
  groups: "svc_jobs_groups",
  starts: "svc_jobs_starts",
  cancelled: "svc_jobs_cancelled",
  version: "svc_jobs_schema_version",
} as const;

/** The schema version {@link migrateJobTables} brings the tables to. */
export const SCHEMA_VERSION = 2;

export function checkDialect(value: unknown, field: string): SqlDialect {
  if (value === "postgres" || value === "sqlite") return value;
  throw new ConfigError(
    `${field} must be "postgres" or "sqlite" (the database behind the Kysely instance), got ${JSON.stringify(value)}`,
  );
}

export function checkSchema(value: unknown, field: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string" || !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(value)) {
    throw new ConfigError(
      `${field} must be a plain SQL identifier (letters, digits, _), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** `db` on `schema` when one is set. */
export function onSchema(db: AnyKysely, schema: string | null): AnyKysely {
  return schema === null ? db : db.withSchema(schema);
}
