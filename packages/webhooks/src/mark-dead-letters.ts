import { type JobQueue, JobValidationError } from "@svc-jobs/core";
import { validateJobName } from "@svc-jobs/core/backend";
import { checkOptionKeys, OPTION_KEYS } from "./option-keys.js";
import type { OutboxStore } from "./outbox-store.js";

/** Options of {@link markDeadLetters}. */
export type MarkDeadLettersOptions = {
  outbox: OutboxStore;
  queue: JobQueue;
  /** The tick's `jobNamePrefix`. @default "outbox" */
  jobNamePrefix?: string;
  /** Dead jobs read per page. @default 500 */
  pageSize?: number;
};

/**
 * Marks `failed` the outbox rows whose delivery job is in the dead letter queue.
 *
 * The webhook handler already does this when a delivery fails on its last attempt.
 * This catches the case it cannot see: a worker that crashed or hung during the last
 * attempt, so the visibility timeout moved the job to the DLQ without the handler
 * finishing. Rows already `processed` or `failed` are left alone. Returns how many
 * dead jobs it looked at.
 *
 * @example
 * ```ts
 * scheduler.addTask("outbox_dead_letters", 300, () => markDeadLetters({ outbox, queue }));
 * ```
 */
export async function markDeadLetters(options: MarkDeadLettersOptions): Promise<number> {
  checkOptionKeys(options, OPTION_KEYS.markDeadLetters, "options");
  const { outbox, queue } = options;
  if (!outbox || typeof outbox.markFailed !== "function") {
    throw new JobValidationError("outbox", "outbox must be an OutboxStore");
  }
  if (!queue?.dlq) throw new JobValidationError("queue", "queue must be a JobQueue");
  const prefix = `${validateJobName(options.jobNamePrefix ?? "outbox", "jobNamePrefix")}.`;
  const pageSize = options.pageSize ?? 500;
  let seen = 0;
  for (let offset = 0; ; offset += pageSize) {
    const page = await queue.dlq.list({ limit: pageSize, offset });
    for (const job of page) {
      const id = job.payload.outbox_id;
      if (!job.name.startsWith(prefix) || !/^\d{1,18}$/.test(String(id))) continue;
      seen++;
      await outbox.markFailed(String(id), job.lastError ?? "dead-lettered");
    }
    if (page.length < pageSize) return seen;
  }
}
