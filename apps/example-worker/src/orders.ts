import { JobValidationError } from "@svc-jobs/core";
import type { SqlJobQueue } from "@svc-jobs/sql";
import type { OutboxStore } from "@svc-jobs/webhooks";
import type { Kysely } from "kysely";
import type { AppTables } from "./database.js";
import { enqueueDeliveries } from "./job-handlers.js";

/** Outbox topic of a new order: delivered as a signed webhook. */
export const ORDER_CREATED_TOPIC = "order.created";
/** Outbox topic of the confirmation email of a new order. */
export const CONFIRMATION_TOPIC = "email.order_confirmation";

/** The body of `POST /orders`. */
export interface OrderInput {
  customer: string;
  item: string;
  quantity: number;
  unit_price_cents: number;
  /**
   * Demo knob, honoured only by the app's own local receiver: answer the first N
   * deliveries of this order's webhook with 503, to show retries.
   */
  demo_fail_webhook_times?: number;
}

/** A stored order. */
export interface Order {
  id: number;
  customer: string;
  item: string;
  quantity: number;
  total_cents: number;
  created_at: string;
}

/** Checks a `POST /orders` body; throws `JobValidationError` naming the bad field. */
export function parseOrder(body: unknown): OrderInput {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new JobValidationError("body", "the body must be a JSON object");
  }
  const b = body as Record<string, unknown>;
  const text = (field: string) => {
    const v = b[field];
    if (typeof v !== "string" || v.trim() === "" || v.length > 200) {
      throw new JobValidationError(
        field,
        `${field} must be a non-empty string (at most 200 characters)`,
      );
    }
    return v.trim();
  };
  const int = (field: string, min: number, fallback?: number) => {
    const v = b[field] ?? fallback;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > 1_000_000_000) {
      throw new JobValidationError(field, `${field} must be a whole number >= ${min}`);
    }
    return v;
  };
  const input: OrderInput = {
    customer: text("customer"),
    item: text("item"),
    quantity: int("quantity", 1, 1),
    unit_price_cents: int("unit_price_cents", 0),
  };
  if (b.demo_fail_webhook_times !== undefined) {
    input.demo_fail_webhook_times = int("demo_fail_webhook_times", 0);
  }
  return input;
}

/**
 * With the queue in the app's database: the queue, and the backoff of the delivery jobs
 * that {@link placeOrder} enqueues in the order's transaction.
 */
export interface SameDatabaseJobs {
  queue: SqlJobQueue;
  backoffSeconds: number;
}

/**
 * Writes the order and its two outbox events in one transaction: either all three
 * rows exist or none does, so an order never misses its webhook or its email. With
 * `jobs` (the queue is in the same database), their delivery jobs are enqueued in that
 * transaction too: no relay has to move them later.
 */
export async function placeOrder(
  db: Kysely<AppTables>,
  outbox: OutboxStore,
  input: OrderInput,
  jobs?: SameDatabaseJobs,
): Promise<Order> {
  return db.transaction().execute(async (trx) => {
    const order = await trx
      .insertInto("orders")
      .values({
        customer: input.customer,
        item: input.item,
        quantity: input.quantity,
        total_cents: input.quantity * input.unit_price_cents,
        created_at: new Date().toISOString(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const event = {
      order_id: order.id,
      customer: order.customer,
      item: order.item,
      quantity: order.quantity,
      total_cents: order.total_cents,
      ...(input.demo_fail_webhook_times === undefined
        ? {}
        : { demo_fail_webhook_times: input.demo_fail_webhook_times }),
    };
    // With the queue in this database the rows are written `dispatched`: their jobs are
    // enqueued just below, in this transaction, so the relay must not move them again.
    const opts = { trx, dispatched: jobs !== undefined };
    const messages = [
      await outbox.enqueue(ORDER_CREATED_TOPIC, event, opts),
      await outbox.enqueue(CONFIRMATION_TOPIC, { order_id: order.id, to: order.customer }, opts),
    ];
    if (jobs) await enqueueDeliveries(trx, jobs.queue, messages, jobs.backoffSeconds);
    return order;
  });
}
