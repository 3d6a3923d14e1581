import type { JobQueue, JsonObject } from "@svc-jobs/core";
import { JobRegistry } from "@svc-jobs/registry";
import type { SqlJobQueue } from "@svc-jobs/sql";
import {
  type InboxStore,
  makeOutboxTick,
  makeWebhookHandler,
  markDeadLetters,
  type OutboxMessage,
  type OutboxStore,
  type WebhookJobPayload,
} from "@svc-jobs/webhooks";
import type { Kysely, Transaction } from "kysely";
import type { ExampleConfig } from "./config.js";
import type { AppTables } from "./database.js";
import { CONFIRMATION_TOPIC, ORDER_CREATED_TOPIC } from "./orders.js";
import type { StepListener } from "./steps.js";

/** The outbox relay's job name prefix: jobs are `outbox.order.created`, ... */
export const OUTBOX_JOB_PREFIX = "outbox";

/** What the job handlers need. */
export interface HandlerDeps {
  db: Kysely<AppTables>;
  outbox: OutboxStore;
  inbox: InboxStore;
  config: Pick<ExampleConfig, "webhookSecret">;
  /** Where order webhooks go. */
  webhookUrl: string;
  onStep?: StepListener;
}

/** The registry and what it holds open. */
export interface AppRegistry {
  registry: JobRegistry;
  close(): Promise<void>;
}

/**
 * The app's job handlers: the confirmation email and the signed webhook of each
 * new order, both fed by the outbox relay.
 */
export function createRegistry(deps: HandlerDeps): AppRegistry {
  const { db, outbox, inbox } = deps;
  const step = deps.onStep ?? (() => {});
  const registry = new JobRegistry();
  const deliver = makeWebhookHandler({
    outbox,
    inbox,
    getWebhookUrlForTopic: () => deps.webhookUrl,
    getSecretForTopic: () => deps.config.webhookSecret,
    // The demo's receiver runs on loopback; real receivers are public and stay guarded.
    allowPrivateNetworks: isLoopback(deps.webhookUrl),
    timeoutSeconds: 5,
  });

  registry.register(`${OUTBOX_JOB_PREFIX}.${ORDER_CREATED_TOPIC}`, async (job, context) => {
    const orderId = Number((job.payload.payload as JsonObject | undefined)?.order_id);
    try {
      await deliver(job, context);
    } catch (error) {
      step({
        kind: "webhook.attempt_failed",
        orderId,
        message: `webhook for order ${orderId} failed on attempt ${job.attempts}/${job.maxAttempts}: ${error instanceof Error ? error.message : String(error)}`,
      });
      throw error;
    }
    step({
      kind: "webhook.delivered",
      orderId,
      attempts: job.attempts,
      message: `webhook for order ${orderId} delivered on attempt ${job.attempts}`,
    });
    return { success: true, message: `delivered order ${orderId}` };
  });

  registry.register(`${OUTBOX_JOB_PREFIX}.${CONFIRMATION_TOPIC}`, async (job) => {
    const { outbox_id: outboxId, payload } = job.payload as {
      outbox_id: string;
      payload: { order_id: number; to: string };
    };
    // The row is the idempotency key: a retried job never sends a second email.
    const inserted = await db
      .insertInto("order_confirmations")
      .values({ order_id: payload.order_id, sent_at: new Date().toISOString() })
      .onConflict((oc) => oc.column("order_id").doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) {
      // A real app calls its mail provider here.
      step({
        kind: "confirmation.sent",
        orderId: payload.order_id,
        message: `confirmation email for order ${payload.order_id} sent to ${payload.to}`,
      });
    }
    await outbox.markProcessed(String(outboxId));
    return { success: true, message: `confirmed order ${payload.order_id}` };
  });

  return { registry, close: () => deliver.close() };
}

/** Attempts of a delivery job (the webhook and the confirmation email). */
export const DELIVERY_MAX_ATTEMPTS = 5;

/**
 * With the queue in the app's database: enqueues the delivery jobs of `messages` (outbox
 * rows the caller wrote with `dispatched: true`) in the caller's transaction, so the rows,
 * the jobs and the order commit together (or none of them does) and no relay is needed.
 * The jobs are the relay's own (same names, payloads and dedupe keys), so the handlers
 * are the same.
 */
export async function enqueueDeliveries(
  trx: Transaction<AppTables>,
  queue: SqlJobQueue,
  messages: OutboxMessage[],
  backoffSeconds: number,
): Promise<void> {
  if (messages.length === 0) return;
  await queue.enqueueMany(
    messages.map((m) => ({
      name: `${OUTBOX_JOB_PREFIX}.${m.topic}`,
      payload: { outbox_id: m.id, topic: m.topic, payload: m.payload } satisfies WebhookJobPayload,
      opts: {
        maxAttempts: DELIVERY_MAX_ATTEMPTS,
        backoffSeconds,
        dedupeKey: `${OUTBOX_JOB_PREFIX}:${m.id}`,
      },
    })),
    { trx },
  );
}

/** The relay task: pending outbox rows become jobs, each exactly once. */
export function createOutboxTick(
  outbox: OutboxStore,
  queue: JobQueue,
  backoffSeconds: number,
  onStep?: StepListener,
): () => Promise<number> {
  const tick = makeOutboxTick({
    outbox,
    queue,
    topics: [ORDER_CREATED_TOPIC, CONFIRMATION_TOPIC],
    jobNamePrefix: OUTBOX_JOB_PREFIX,
    jobOptions: { maxAttempts: DELIVERY_MAX_ATTEMPTS, backoffSeconds },
  });
  return async () => {
    const moved = await tick();
    if (moved > 0) {
      onStep?.({
        kind: "outbox.relayed",
        moved,
        message: `outbox relay moved ${moved} event(s) into the queue`,
      });
    }
    return moved;
  };
}

/** The periodic cleanup: expired inbox marks go, dead deliveries are marked failed. */
export function createCleanup(
  outbox: OutboxStore,
  inbox: InboxStore,
  queue: JobQueue,
  onStep?: StepListener,
): () => Promise<void> {
  return async () => {
    const purged = await inbox.purgeExpired();
    const dead = await markDeadLetters({ outbox, queue, jobNamePrefix: OUTBOX_JOB_PREFIX });
    onStep?.({
      kind: "cleanup.ran",
      purged,
      dead,
      message: `cleanup: ${purged} expired inbox mark(s) purged, ${dead} dead delivery job(s) checked`,
    });
  };
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === "localhost" || host === "127.0.0.1" || host === "[::1]" || host === "::1";
}
