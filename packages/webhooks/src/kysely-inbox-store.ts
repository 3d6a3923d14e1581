import { type Clock, systemClock } from "@svc-jobs/core";
import { DEFAULT_INBOX_MARK_TTL_SECONDS, type InboxStore } from "./inbox-store.js";
import { checkOptionKeys, OPTION_KEYS } from "./option-keys.js";
import { inboxArgs } from "./store-validation.js";
import {
  type AnyKysely,
  checkDialectOption,
  INBOX_TABLE,
  type WebhookDialect,
} from "./webhook-tables.js";

/** Options of {@link KyselyInboxStore}. */
export type KyselyInboxStoreOptions = {
  /**
   * The database behind `db`. Checked but not needed: the inbox writes the same SQL on
   * both dialects, so one options object can serve both stores.
   */
  dialect?: WebhookDialect;
  /** Source of time. @default systemClock */
  clock?: Clock;
};

/**
 * The inbox in PostgreSQL or SQLite through Kysely, in the table made by
 * {@link migrateWebhookTables}. `markIfNew` is one `INSERT ... ON CONFLICT` statement,
 * so concurrent workers agree on who saw a key first.
 *
 * @example
 * ```ts
 * const inbox = new KyselyInboxStore(db);
 * if (!(await inbox.markIfNew(`order:${id}`, 86_400))) return; // already handled
 * ```
 */
export class KyselyInboxStore implements InboxStore {
  #db: AnyKysely;
  #clock: Clock;

  constructor(db: AnyKysely, options: KyselyInboxStoreOptions = {}) {
    checkOptionKeys(options, OPTION_KEYS.kyselyInboxStore, "options", true);
    checkDialectOption(options.dialect);
    this.#db = db;
    this.#clock = options.clock ?? systemClock;
  }

  async markIfNew(key: string, ttlSeconds: number): Promise<boolean> {
    const args = inboxArgs(key, ttlSeconds);
    const now = this.#clock.now();
    // Inserts a new key, or takes over an expired one; a live mark returns no row.
    const row = await this.#db
      .insertInto(INBOX_TABLE)
      .values({ key: args.key, expires_at: now + args.ttlMs, created_at: now })
      .onConflict((oc) =>
        oc
          .column("key")
          .doUpdateSet((eb) => ({
            expires_at: eb.ref("excluded.expires_at"),
            created_at: eb.ref("excluded.created_at"),
          }))
          .where(`${INBOX_TABLE}.expires_at`, "<=", now),
      )
      .returning("key")
      .executeTakeFirst();
    return row !== undefined;
  }

  async isMarked(key: string): Promise<boolean> {
    const args = inboxArgs(key, 1);
    const row = await this.#db
      .selectFrom(INBOX_TABLE)
      .select("key")
      .where("key", "=", args.key)
      .where("expires_at", ">", this.#clock.now())
      .executeTakeFirst();
    return row !== undefined;
  }

  async mark(key: string, ttlSeconds: number = DEFAULT_INBOX_MARK_TTL_SECONDS): Promise<void> {
    const args = inboxArgs(key, ttlSeconds);
    const now = this.#clock.now();
    await this.#db
      .insertInto(INBOX_TABLE)
      .values({ key: args.key, expires_at: now + args.ttlMs, created_at: now })
      .onConflict((oc) =>
        oc.column("key").doUpdateSet((eb) => ({ expires_at: eb.ref("excluded.expires_at") })),
      )
      .execute();
  }

  async unmark(key: string): Promise<void> {
    const args = inboxArgs(key, 1);
    await this.#db.deleteFrom(INBOX_TABLE).where("key", "=", args.key).execute();
  }

  async purgeExpired(): Promise<number> {
    const result = await this.#db
      .deleteFrom(INBOX_TABLE)
      .where("expires_at", "<=", this.#clock.now())
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
