import { ConfigError } from "@svc-jobs/core";
import type { Kysely } from "kysely";

/**
 * A Kysely instance (or transaction) over any database schema: the stores only touch
 * their own tables, so they accept the caller's `Kysely<MyDatabase>` as is.
 */
// biome-ignore lint/suspicious/noExplicitAny: any schema is accepted on purpose.
export type AnyKysely = Kysely<any>;

/** Name of the outbox table the Kysely stores use. */
export const OUTBOX_TABLE = "svc_jobs_outbox";
/** Name of the inbox table the Kysely stores use. */
export const INBOX_TABLE = "svc_jobs_inbox";

/** The SQL dialects the Kysely stores support. */
export type WebhookDialect = "postgres" | "sqlite";

/** Internal: what a Kysely query executor's adapter looks like, whichever copy of Kysely made it. */
type AdapterLike = {
  readonly supportsReturning?: unknown;
  readonly supportsTransactionalDdl?: unknown;
};

/** Internal: throws unless `dialect` is undefined or one of the supported dialects. */
export function checkDialectOption(dialect: unknown): WebhookDialect | undefined {
  if (dialect === undefined || dialect === "postgres" || dialect === "sqlite") return dialect;
  throw new ConfigError(`dialect must be "postgres" or "sqlite", got ${JSON.stringify(dialect)}`);
}

/**
 * Internal: the dialect given, else the one the Kysely instance's adapter shows.
 *
 * Detection never uses `instanceof`: the application's Kysely may be another copy (or
 * another version) than the one this package resolves, and a class of one copy is not
 * the class of the other. It looks at the adapter's class names along its prototype
 * chain (`PostgresAdapter`, `SqliteAdapter` and their subclasses, such as PGlite's),
 * then, when a bundler renamed the classes, at what the adapter supports together
 * with the placeholder its query compiler writes.
 */
export function resolveDialect(db: AnyKysely, dialect: WebhookDialect | undefined): WebhookDialect {
  const given = checkDialectOption(dialect);
  if (given !== undefined) return given;
  if (typeof (db as { getExecutor?: unknown } | null)?.getExecutor !== "function") {
    throw new ConfigError(
      "db must be a Kysely instance or transaction (new Kysely({ dialect: ... }))",
    );
  }
  const adapter = db.getExecutor().adapter as unknown as AdapterLike;
  const detected = dialectFromClassNames(adapter) ?? dialectFromBehaviour(db, adapter);
  if (detected !== undefined) return detected;
  throw new ConfigError(
    `cannot tell the SQL dialect of this Kysely instance (adapter ${adapterName(adapter)}): ` +
      'pass the dialect option, { dialect: "postgres" } or { dialect: "sqlite" }, ' +
      "to KyselyOutboxStore and migrateWebhookTables",
  );
}

function dialectFromClassNames(adapter: AdapterLike): WebhookDialect | undefined {
  let proto: unknown = Object.getPrototypeOf(adapter);
  for (let depth = 0; proto !== null && proto !== Object.prototype && depth < 16; depth++) {
    const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    if (name === "PostgresAdapter") return "postgres";
    if (name === "SqliteAdapter") return "sqlite";
    proto = Object.getPrototypeOf(proto);
  }
  return undefined;
}

function dialectFromBehaviour(db: AnyKysely, adapter: AdapterLike): WebhookDialect | undefined {
  // Both dialects need RETURNING; MySQL and MS SQL Server adapters say they lack it.
  if (adapter.supportsReturning !== true) return undefined;
  let compiled: string;
  try {
    compiled = db.selectFrom(OUTBOX_TABLE).select("id").where("id", "=", 0).compile().sql;
  } catch {
    return undefined;
  }
  // PostgreSQL numbers its parameters; SQLite writes "?". Both quote names with ".
  if (/"id" = \$1\b/.test(compiled) && adapter.supportsTransactionalDdl === true) {
    return "postgres";
  }
  if (/"id" = \?/.test(compiled) && adapter.supportsTransactionalDdl === false) return "sqlite";
  return undefined;
}

function adapterName(adapter: unknown): string {
  const name = (adapter as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === "string" && name.length > 0 ? name : "of unknown class";
}
