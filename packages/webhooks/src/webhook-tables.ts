import { ConfigError } from "@svc-jobs/core";
import { type Kysely, PostgresAdapter, SqliteAdapter } from "kysely";

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

/** Internal: the dialect given, or the one the Kysely instance's adapter says. */
export function resolveDialect(db: AnyKysely, dialect: WebhookDialect | undefined): WebhookDialect {
  if (dialect !== undefined) {
    if (dialect !== "postgres" && dialect !== "sqlite") {
      throw new ConfigError(
        `dialect must be "postgres" or "sqlite", got ${JSON.stringify(dialect)}`,
      );
    }
    return dialect;
  }
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof PostgresAdapter) return "postgres";
  if (adapter instanceof SqliteAdapter) return "sqlite";
  throw new ConfigError(
    `cannot tell the SQL dialect of this Kysely instance (adapter ${adapter.constructor.name}): pass { dialect: "postgres" } or { dialect: "sqlite" }`,
  );
}
