import { BackendError, ConfigError } from "@svc-jobs/core";
import { checkOptionKeys, OPTION_KEYS } from "./option-keys.js";
import {
  type AnyKysely,
  INBOX_TABLE,
  OUTBOX_TABLE,
  resolveDialect,
  type WebhookDialect,
} from "./webhook-tables.js";

/**
 * One migration of {@link webhookMigrations}: the shape of Kysely's `Migration`, written
 * out so it is the same type whichever Kysely version the application uses.
 */
export type WebhookMigration = {
  up(db: AnyKysely): Promise<void>;
  down(db: AnyKysely): Promise<void>;
};

/**
 * The migrations that create the outbox and inbox tables, as Kysely `Migration`
 * objects keyed by name, to merge into your own migration provider. One schema for
 * both dialects: payload as JSON text, times as epoch milliseconds (bigint).
 * `0001` creates the tables; `0002` adds the outbox's nullable `traceparent` and
 * `tracestate` columns (docs/tracing.md).
 *
 * @example
 * ```ts
 * const provider = { getMigrations: async () => ({ ...mine, ...webhookMigrations("postgres") }) };
 * ```
 */
export function webhookMigrations(dialect: WebhookDialect): Record<string, WebhookMigration> {
  if (dialect !== "postgres" && dialect !== "sqlite") {
    throw new ConfigError(`dialect must be "postgres" or "sqlite", got ${JSON.stringify(dialect)}`);
  }
  return {
    svc_jobs_webhooks_0001_outbox_inbox: {
      async up(db: AnyKysely) {
        let outbox = db.schema.createTable(OUTBOX_TABLE).ifNotExists();
        outbox =
          dialect === "postgres"
            ? outbox.addColumn("id", "bigserial", (c) => c.primaryKey())
            : outbox.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement());
        await outbox
          .addColumn("topic", "text", (c) => c.notNull())
          .addColumn("payload", "text", (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull().defaultTo("pending"))
          .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("last_error", "text")
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("dispatched_at", "bigint")
          .addColumn("completed_at", "bigint")
          .execute();
        await db.schema
          .createIndex(`${OUTBOX_TABLE}_status_id`)
          .ifNotExists()
          .on(OUTBOX_TABLE)
          .columns(["status", "id"])
          .execute();
        await db.schema
          .createTable(INBOX_TABLE)
          .ifNotExists()
          .addColumn("key", "text", (c) => c.primaryKey())
          .addColumn("expires_at", "bigint", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex(`${INBOX_TABLE}_expires_at`)
          .ifNotExists()
          .on(INBOX_TABLE)
          .column("expires_at")
          .execute();
      },
      async down(db: AnyKysely) {
        await db.schema.dropTable(INBOX_TABLE).ifExists().execute();
        await db.schema.dropTable(OUTBOX_TABLE).ifExists().execute();
      },
    },
    // The W3C trace context of the transaction that wrote a message (docs/tracing.md).
    svc_jobs_webhooks_0002_outbox_trace_context: {
      async up(db: AnyKysely) {
        await db.schema.alterTable(OUTBOX_TABLE).addColumn("traceparent", "text").execute();
        await db.schema.alterTable(OUTBOX_TABLE).addColumn("tracestate", "text").execute();
      },
      async down(db: AnyKysely) {
        await db.schema.alterTable(OUTBOX_TABLE).dropColumn("tracestate").execute();
        await db.schema.alterTable(OUTBOX_TABLE).dropColumn("traceparent").execute();
      },
    },
  };
}

/** Options of {@link migrateWebhookTables}. */
export type MigrateWebhookTablesOptions = {
  /**
   * The database behind `db`. Wins over detection; pass it when the Kysely dialect is
   * neither Kysely's own PostgreSQL or SQLite dialect nor built on their adapters.
   * @default detected from the Kysely instance's adapter
   */
  dialect?: WebhookDialect;
  /**
   * Kysely's bookkeeping table for these migrations, kept apart from yours so the two
   * sets never interleave.
   * @default "svc_jobs_webhooks_migration"
   */
  migrationTableName?: string;
};

/**
 * Creates (or upgrades) the outbox and inbox tables with Kysely's `Migrator`. Safe to
 * run on every start and from several processes at once (Kysely takes a lock).
 *
 * @example
 * ```ts
 * await migrateWebhookTables(db); // PostgreSQL or SQLite, detected
 * ```
 */
export async function migrateWebhookTables(
  db: AnyKysely,
  options: MigrateWebhookTablesOptions = {},
): Promise<void> {
  checkOptionKeys(options, OPTION_KEYS.migrate, "options", true);
  const dialect = resolveDialect(db, options.dialect);
  const migrationTableName = options.migrationTableName ?? "svc_jobs_webhooks_migration";
  const Migrator = await loadMigrator();
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => webhookMigrations(dialect) },
    migrationTableName,
    migrationLockTableName: `${migrationTableName}_lock`,
  });
  const { error } = await migrator.migrateToLatest();
  if (error) {
    throw new BackendError(
      `migrating the webhook tables failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

/** Internal: the part of Kysely's `Migrator` used here. */
type MigratorClass = new (props: {
  db: AnyKysely;
  provider: { getMigrations(): Promise<Record<string, WebhookMigration>> };
  migrationTableName: string;
  migrationLockTableName: string;
}) => { migrateToLatest(): Promise<{ error?: unknown }> };

let migratorClass: Promise<MigratorClass> | undefined;

/**
 * Internal: Kysely's `Migrator`, from the Kysely the application installed. Kysely 0.28
 * exports it from "kysely"; 0.29 only from "kysely/migration", which 0.28 does not
 * have. Loaded on first use so that importing this package never depends on either.
 */
function loadMigrator(): Promise<MigratorClass> {
  migratorClass ??= (async () => {
    const root = (await import("kysely")) as unknown as { Migrator?: unknown };
    if (typeof root.Migrator === "function") return root.Migrator as MigratorClass;
    const subpath = "kysely/migration";
    const migration = (await import(/* @vite-ignore */ subpath)) as { Migrator?: unknown };
    if (typeof migration.Migrator === "function") return migration.Migrator as MigratorClass;
    throw new ConfigError(
      'the installed kysely exports no Migrator from "kysely" or "kysely/migration": install kysely >=0.28.0 <0.30.0',
    );
  })();
  migratorClass.catch(() => {
    migratorClass = undefined;
  });
  return migratorClass;
}
