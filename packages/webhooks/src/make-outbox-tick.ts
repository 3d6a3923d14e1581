import { type EnqueueOptions, type JobQueue, JobValidationError } from "@svc-jobs/core";
import { validateEnqueueOptions, validateInteger, validateJobName } from "@svc-jobs/core/backend";
import type { WebhookJobPayload } from "./make-webhook-handler.js";
import { checkOptionKeys, OPTION_KEYS } from "./option-keys.js";
import type { OutboxStore } from "./outbox-store.js";

/** Options of {@link makeOutboxTick}. */
export type OutboxTickOptions = {
  outbox: OutboxStore;
  queue: JobQueue;
  /** Only these topics. @default every topic */
  topics?: readonly string[];
  /**
   * Jobs are named `{jobNamePrefix}.{topic}`; their dedupe key is
   * `{jobNamePrefix}:{outbox id}`. Give each outbox its own prefix when several share
   * one queue, or their ids would collide in the dedupe.
   * @default "outbox"
   */
  jobNamePrefix?: string;
  /** Messages moved per tick. @default 100 */
  batchSize?: number;
  /** `maxAttempts` and `backoffSeconds` of the delivery jobs. @default the queue's defaults (5, 60) */
  jobOptions?: Pick<EnqueueOptions, "maxAttempts" | "backoffSeconds">;
};

/**
 * Makes the relay that moves pending outbox messages into the queue, one batch per
 * call, as jobs `{prefix}.{topic}` with payload `{ outbox_id, topic, payload }`.
 * Returns how many it moved. Run it from a scheduler every few seconds.
 *
 * Exactly one job per message, even across crashes: the batch is claimed in a
 * database transaction, enqueued with dedupe key `{prefix}:{id}`, and only then
 * marked `dispatched` (the commit). A crash after the enqueue but before the commit
 * leaves the rows pending; the next tick enqueues them again and the queue's dedupe
 * (24 h) returns the existing jobs instead of creating new ones.
 *
 * @example
 * ```ts
 * const tick = makeOutboxTick({ outbox, queue, topics: ["user.created"] });
 * scheduler.addTask("outbox_processor", 5, tick); // every 5 seconds
 * ```
 */
export function makeOutboxTick(options: OutboxTickOptions): () => Promise<number> {
  checkOptionKeys(options, OPTION_KEYS.outboxTick, "options");
  const { outbox, queue } = options;
  if (!outbox || typeof outbox.dispatchPending !== "function") {
    throw new JobValidationError(
      "outbox",
      "outbox must be an OutboxStore (e.g. new KyselyOutboxStore(db))",
    );
  }
  if (!queue || typeof queue.enqueueMany !== "function") {
    throw new JobValidationError("queue", "queue must be a JobQueue (e.g. new InMemoryJobQueue())");
  }
  const prefix = validateJobName(options.jobNamePrefix ?? "outbox", "jobNamePrefix");
  const batchSize = validateInteger("batchSize", options.batchSize ?? 100, 1);
  const topics = options.topics === undefined ? undefined : [...options.topics];
  topics?.forEach((t, i) => {
    validateJobName(t, `topics[${i}]`);
  });
  // Only these two are used: the tick sets the dedupe key and enqueues without delay.
  checkOptionKeys(options.jobOptions, OPTION_KEYS.outboxJobOptions, "jobOptions");
  const { maxAttempts, backoffSeconds } = validateEnqueueOptions(options.jobOptions, "jobOptions");

  return async () => {
    const moved = await outbox.dispatchPending({ limit: batchSize, topics }, async (messages) => {
      await queue.enqueueMany(
        messages.map((m) => ({
          name: `${prefix}.${m.topic}`,
          payload: {
            outbox_id: m.id,
            topic: m.topic,
            payload: m.payload,
          } satisfies WebhookJobPayload,
          // The job continues the trace of the transaction that wrote the row, not the tick's.
          opts: {
            maxAttempts,
            backoffSeconds,
            dedupeKey: `${prefix}:${m.id}`,
            traceContext: m.traceContext ?? undefined,
          },
        })),
      );
    });
    return moved.length;
  };
}
