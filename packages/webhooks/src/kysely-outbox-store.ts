import { type Clock, JobValidationError, type JsonObject, systemClock } from "@svc-jobs/core";
import { activeTraceContext, toJobTraceContext } from "@svc-jobs/core/backend";
import { checkOptionKeys, OPTION_KEYS } from "./option-keys.js";
import type {
  DispatchPendingOptions,
  OutboxEnqueueOptions,
  OutboxMessage,
  OutboxStatus,
  OutboxStore,
} from "./outbox-store.js";
import {
  dispatchOptions,
  outboxEnqueueDispatched,
  outboxId,
  prepareOutboxMessage,
} from "./store-validation.js";
import {
  type AnyKysely,
  OUTBOX_TABLE,
  resolveDialect,
  type WebhookDialect,
} from "./webhook-tables.js";

/** Options of {@link KyselyOutboxStore}. */
export type KyselyOutboxStoreOptions = {
  /**
   * The database behind `db`. Wins over detection; pass it when the Kysely dialect is
   * neither Kysely's own PostgreSQL or SQLite dialect nor built on their adapters.
   * @default detected from the Kysely instance's adapter
   */
  dialect?: WebhookDialect;
  /** Source of time. @default systemClock */
  clock?: Clock;
};

interface OutboxRow {
  id: number | string;
  topic: string;
  payload: string;
  status: OutboxStatus;
  attempts: number;
  last_error: string | null;
  created_at: number | string;
  dispatched_at: number | string | null;
  completed_at: number | string | null;
  /** Added by migration 0002; absent on a table not migrated yet. */
  traceparent?: string | null;
  tracestate?: string | null;
}

/**
 * The outbox in PostgreSQL or SQLite through Kysely, in the table made by
 * {@link migrateWebhookTables}. Write events in the same transaction as the business
 * change with `{ trx }`.
 *
 * @example
 * ```ts
 * const outbox = new KyselyOutboxStore(db);
 * await db.transaction().execute(async (trx) => {
 *   await trx.insertInto("users").values(user).execute();
 *   await outbox.enqueue("user.created", { user_id: user.id }, { trx });
 * });
 * ```
 */
export class KyselyOutboxStore implements OutboxStore {
  #db: AnyKysely;
  #dialect: WebhookDialect;
  #clock: Clock;

  constructor(db: AnyKysely, options: KyselyOutboxStoreOptions = {}) {
    checkOptionKeys(options, OPTION_KEYS.kyselyOutboxStore, "options", true);
    this.#db = db;
    this.#dialect = resolveDialect(db, options.dialect);
    this.#clock = options.clock ?? systemClock;
  }

  async enqueue(
    topic: string,
    payload: JsonObject,
    opts: OutboxEnqueueOptions = {},
  ): Promise<OutboxMessage> {
    const dispatched = outboxEnqueueDispatched(opts);
    const payloadJson = prepareOutboxMessage(topic, payload);
    const db = this.#executor(opts.trx);
    const trace = activeTraceContext();
    const now = this.#clock.now();
    const row = await db
      .insertInto(OUTBOX_TABLE)
      .values({
        topic,
        payload: payloadJson,
        status: dispatched ? "dispatched" : "pending",
        attempts: 0,
        created_at: now,
        ...(dispatched && { dispatched_at: now }),
        // Written only with a trace, so an app that traces nothing needs no new columns.
        ...(trace && { traceparent: trace.traceparent, tracestate: trace.tracestate ?? null }),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toMessage(row as OutboxRow);
  }

  async dispatchPending(
    opts: DispatchPendingOptions,
    send: (messages: OutboxMessage[]) => Promise<void>,
  ): Promise<OutboxMessage[]> {
    const { limit, topics } = dispatchOptions(opts);
    if (topics?.length === 0) return [];
    // One transaction: the claim (status -> dispatched) commits only after `send`
    // resolved. A throw or a crash rolls it back and the rows are pending again; the
    // queue's dedupe key makes the re-send create no second job.
    return this.#db.transaction().execute(async (trx) => {
      let pending = trx
        .selectFrom(OUTBOX_TABLE)
        .select("id")
        .where("status", "=", "pending")
        .orderBy("id")
        .limit(limit);
      if (topics) pending = pending.where("topic", "in", topics);
      // Other relays skip the rows this one holds instead of waiting for them.
      if (this.#dialect === "postgres") pending = pending.forUpdate().skipLocked();
      const rows = (await trx
        .updateTable(OUTBOX_TABLE)
        .set({ status: "dispatched", dispatched_at: this.#clock.now() })
        .where("id", "in", pending)
        .where("status", "=", "pending")
        .returningAll()
        .execute()) as OutboxRow[];
      const messages = rows.map(toMessage).sort((a, b) => Number(a.id) - Number(b.id));
      if (messages.length > 0) await send(messages);
      return messages;
    });
  }

  async get(id: string): Promise<OutboxMessage | null> {
    const row = await this.#db
      .selectFrom(OUTBOX_TABLE)
      .selectAll()
      .where("id", "=", Number(outboxId(id)))
      .executeTakeFirst();
    return row ? toMessage(row as OutboxRow) : null;
  }

  async markProcessed(id: string): Promise<void> {
    await this.#db
      .updateTable(OUTBOX_TABLE)
      .set({ status: "processed", completed_at: this.#clock.now() })
      .where("id", "=", Number(outboxId(id)))
      .where("status", "!=", "processed")
      .execute();
  }

  async recordAttempt(id: string, error: string): Promise<void> {
    await this.#db
      .updateTable(OUTBOX_TABLE)
      .set((eb) => ({ attempts: eb("attempts", "+", 1), last_error: String(error) }))
      .where("id", "=", Number(outboxId(id)))
      .execute();
  }

  async markFailed(id: string, error: string): Promise<void> {
    await this.#db
      .updateTable(OUTBOX_TABLE)
      .set({ status: "failed", last_error: String(error), completed_at: this.#clock.now() })
      .where("id", "=", Number(outboxId(id)))
      .where("status", "in", ["pending", "dispatched"])
      .execute();
  }

  async stats(): Promise<Record<OutboxStatus, number>> {
    const rows = await this.#db
      .selectFrom(OUTBOX_TABLE)
      .select((eb) => ["status", eb.fn.countAll().as("n")])
      .groupBy("status")
      .execute();
    const counts = { pending: 0, dispatched: 0, processed: 0, failed: 0 };
    for (const row of rows as { status: OutboxStatus; n: number | string }[]) {
      if (row.status in counts) counts[row.status] = Number(row.n);
    }
    return counts;
  }

  #executor(trx: unknown): AnyKysely {
    if (trx === undefined || trx === null) return this.#db;
    if (typeof (trx as { insertInto?: unknown }).insertInto !== "function") {
      throw new JobValidationError(
        "opts.trx",
        "opts.trx must be the Kysely Transaction of your business change (the `trx` that db.transaction().execute(async (trx) => ...) passes you)",
      );
    }
    return trx as AnyKysely;
  }
}

function toMessage(row: OutboxRow): OutboxMessage {
  return {
    id: String(row.id),
    topic: row.topic,
    payload: JSON.parse(row.payload) as JsonObject,
    status: row.status,
    attempts: Number(row.attempts),
    lastError: row.last_error,
    createdAt: new Date(Number(row.created_at)),
    dispatchedAt: row.dispatched_at === null ? null : new Date(Number(row.dispatched_at)),
    completedAt: row.completed_at === null ? null : new Date(Number(row.completed_at)),
    traceContext: row.traceparent
      ? (toJobTraceContext(row.traceparent, row.tracestate) ?? null)
      : null,
  };
}
