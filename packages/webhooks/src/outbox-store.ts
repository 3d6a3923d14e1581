import type { JobTraceContext, JsonObject } from "@svc-jobs/core";

/**
 * Where an outbox message is: `pending` (written, not yet in the queue), `dispatched`
 * (a delivery job exists), then `processed` (delivered) or `failed` (its job used up
 * its attempts and went to the dead letter queue).
 */
export type OutboxStatus = "pending" | "dispatched" | "processed" | "failed";

/** One event written to the outbox. */
export type OutboxMessage = {
  /** Assigned by the store: `"1"`, `"2"`, ... */
  id: string;
  topic: string;
  payload: JsonObject;
  status: OutboxStatus;
  /** Failed delivery attempts recorded so far. */
  attempts: number;
  /** The last delivery error, or `null`. */
  lastError: string | null;
  createdAt: Date;
  /** When it moved into the queue. */
  dispatchedAt: Date | null;
  /** When it became `processed` or `failed`. */
  completedAt: Date | null;
  /**
   * The W3C trace context that was active when the message was written (with
   * `@opentelemetry/api` installed), or `null`. The relay records it on the delivery job,
   * so the webhook joins the trace of the transaction that wrote the row (docs/tracing.md).
   * Optional for stores written before it existed.
   */
  traceContext?: JobTraceContext | null;
};

/** Options of {@link OutboxStore.enqueue}. */
export type OutboxEnqueueOptions = {
  /**
   * The caller's open transaction (a Kysely `Transaction`): the event is written in
   * it, so it commits or rolls back with the business change. The in-memory store
   * has no transactions and ignores it.
   */
  trx?: unknown;
  /**
   * Writes the message already `dispatched` (its `dispatchedAt` now): for a caller that
   * enqueued the message's job itself in the same transaction, because the queue lives in
   * the same database (see "The outbox and a queue in the same database" in the package
   * README), so the relay must not move it again. Delivery handlers then mark it
   * `processed` or `failed` as usual. @default false
   */
  dispatched?: boolean;
};

/** Options of {@link OutboxStore.dispatchPending}. */
export type DispatchPendingOptions = {
  /** Most messages taken in one call. @default 100 */
  limit?: number;
  /** Only these topics. @default every topic */
  topics?: readonly string[];
};

/**
 * A transactional outbox: services write events with their business change; a relay
 * ({@link makeOutboxTick}) moves them into the job queue.
 */
export interface OutboxStore {
  /**
   * Writes a pending message (inside `opts.trx` when given), with the active trace context.
   * Validates topic and payload first.
   */
  enqueue(topic: string, payload: JsonObject, opts?: OutboxEnqueueOptions): Promise<OutboxMessage>;

  /**
   * Claims up to `limit` pending messages (oldest first), hands them to `send`, and
   * marks them `dispatched` only if `send` resolves; if it throws, or the process
   * dies, they stay `pending`. Claims are exclusive: several relays at once never
   * receive the same message (PostgreSQL: `FOR UPDATE SKIP LOCKED`). Returns the
   * dispatched messages.
   */
  dispatchPending(
    opts: DispatchPendingOptions,
    send: (messages: OutboxMessage[]) => Promise<void>,
  ): Promise<OutboxMessage[]>;

  /** The message with this id, or `null`. */
  get(id: string): Promise<OutboxMessage | null>;

  /** Marks a message delivered (from any status; a late success wins over `failed`). */
  markProcessed(id: string): Promise<void>;

  /** Records a failed delivery attempt: `attempts + 1` and `lastError`; the status is kept. */
  recordAttempt(id: string, error: string): Promise<void>;

  /** Marks a `pending` or `dispatched` message `failed` with its last error; `processed` and `failed` stay. */
  markFailed(id: string, error: string): Promise<void>;

  /** Counts of messages by status. */
  stats(): Promise<Record<OutboxStatus, number>>;
}
