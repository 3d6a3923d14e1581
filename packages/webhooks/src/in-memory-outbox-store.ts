import { type Clock, type JsonObject, systemClock } from "@svc-jobs/core";
import { activeTraceContext } from "@svc-jobs/core/backend";
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

/** Options of {@link InMemoryOutboxStore}. */
export type InMemoryOutboxStoreOptions = {
  /** Source of time. @default systemClock */
  clock?: Clock;
};

interface Row {
  message: OutboxMessage;
  payloadJson: string;
  /** Held by a dispatchPending call that has not finished. */
  claimed: boolean;
}

/**
 * An outbox in process memory, for tests and development. It has no transactions
 * (`trx` is ignored) and does not survive a restart.
 *
 * @example
 * ```ts
 * const outbox = new InMemoryOutboxStore();
 * await outbox.enqueue("user.created", { user_id: 1 });
 * ```
 */
export class InMemoryOutboxStore implements OutboxStore {
  #clock: Clock;
  #seq = 0;
  #rows = new Map<string, Row>();

  constructor(options: InMemoryOutboxStoreOptions = {}) {
    checkOptionKeys(options, OPTION_KEYS.inMemoryOutboxStore, "options");
    this.#clock = options.clock ?? systemClock;
  }

  async enqueue(
    topic: string,
    payload: JsonObject,
    opts?: OutboxEnqueueOptions,
  ): Promise<OutboxMessage> {
    // Same keys as the Kysely store, so code tested here runs there; trx itself is ignored.
    const dispatched = outboxEnqueueDispatched(opts);
    const payloadJson = prepareOutboxMessage(topic, payload);
    const id = String(++this.#seq);
    const now = new Date(this.#clock.now());
    const message: OutboxMessage = {
      id,
      topic,
      payload: JSON.parse(payloadJson),
      status: dispatched ? "dispatched" : "pending",
      attempts: 0,
      lastError: null,
      createdAt: now,
      dispatchedAt: dispatched ? now : null,
      completedAt: null,
      traceContext: activeTraceContext() ?? null,
    };
    this.#rows.set(id, { message, payloadJson, claimed: false });
    return copy(message);
  }

  async dispatchPending(
    opts: DispatchPendingOptions,
    send: (messages: OutboxMessage[]) => Promise<void>,
  ): Promise<OutboxMessage[]> {
    const { limit, topics } = dispatchOptions(opts);
    const claimed: Row[] = [];
    for (const row of this.#rows.values()) {
      if (claimed.length >= limit) break;
      if (row.claimed || row.message.status !== "pending") continue;
      if (topics && !topics.includes(row.message.topic)) continue;
      row.claimed = true;
      claimed.push(row);
    }
    if (claimed.length === 0) return [];
    try {
      await send(claimed.map((r) => copy(r.message)));
    } finally {
      for (const row of claimed) row.claimed = false;
    }
    const now = new Date(this.#clock.now());
    for (const row of claimed) {
      if (row.message.status === "pending") {
        row.message.status = "dispatched";
        row.message.dispatchedAt = now;
      }
    }
    return claimed.map((r) => copy(r.message));
  }

  async get(id: string): Promise<OutboxMessage | null> {
    const row = this.#rows.get(outboxId(id));
    return row ? copy(row.message) : null;
  }

  async markProcessed(id: string): Promise<void> {
    const row = this.#rows.get(outboxId(id));
    if (!row || row.message.status === "processed") return;
    row.message.status = "processed";
    row.message.completedAt = new Date(this.#clock.now());
  }

  async recordAttempt(id: string, error: string): Promise<void> {
    const row = this.#rows.get(outboxId(id));
    if (!row) return;
    row.message.attempts++;
    row.message.lastError = error;
  }

  async markFailed(id: string, error: string): Promise<void> {
    const row = this.#rows.get(outboxId(id));
    if (!row || row.message.status === "processed" || row.message.status === "failed") return;
    row.message.status = "failed";
    row.message.lastError = error;
    row.message.completedAt = new Date(this.#clock.now());
  }

  async stats(): Promise<Record<OutboxStatus, number>> {
    const counts = { pending: 0, dispatched: 0, processed: 0, failed: 0 };
    for (const row of this.#rows.values()) counts[row.message.status]++;
    return counts;
  }
}

function copy(message: OutboxMessage): OutboxMessage {
  return { ...message, payload: structuredClone(message.payload) };
}
