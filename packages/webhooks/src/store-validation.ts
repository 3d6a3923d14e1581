import { JobValidationError, type JsonObject } from "@svc-jobs/core";
import {
  serializePayload,
  validateInteger,
  validateJobName,
  validateSeconds,
} from "@svc-jobs/core/backend";
import { checkOptionKeys, OPTION_KEYS } from "./option-keys.js";
import type { DispatchPendingOptions, OutboxEnqueueOptions } from "./outbox-store.js";

/** Internal: longest topic, so `{prefix}.{topic}` stays a valid job name. */
export const MAX_TOPIC_LENGTH = 255;

/** Internal: validates a topic and payload before anything is written; returns the payload JSON. */
export function prepareOutboxMessage(topic: unknown, payload: unknown): string {
  validateJobName(topic, "topic");
  if ((topic as string).length > MAX_TOPIC_LENGTH) {
    throw new JobValidationError(
      "topic",
      `topic is ${(topic as string).length} characters, over the limit of ${MAX_TOPIC_LENGTH}: use a short event name such as "user.created"`,
    );
  }
  if (!/^[\x21-\x7e]+$/.test(topic as string)) {
    throw new JobValidationError(
      "topic",
      `topic ${JSON.stringify(topic)} must be printable ASCII without spaces (it travels in the X-Topic header): e.g. "user.created"`,
    );
  }
  return serializePayload(payload as JsonObject);
}

/** Internal: checks the options of `outbox.enqueue`; returns whether to write it dispatched. */
export function outboxEnqueueDispatched(opts: OutboxEnqueueOptions | undefined): boolean {
  checkOptionKeys(opts, OPTION_KEYS.outboxEnqueue, "opts");
  const dispatched = opts?.dispatched === undefined ? false : opts.dispatched;
  if (typeof dispatched !== "boolean") {
    throw new JobValidationError(
      "dispatched",
      `dispatched must be true or false, got ${typeof dispatched}: pass true only when the message's job was enqueued in the same transaction`,
    );
  }
  return dispatched;
}

/** Internal: fills in and checks {@link DispatchPendingOptions}. */
export function dispatchOptions(opts: DispatchPendingOptions | undefined): {
  limit: number;
  topics: string[] | null;
} {
  checkOptionKeys(opts, OPTION_KEYS.dispatchPending, "opts");
  const limit = validateInteger("limit", opts?.limit ?? 100, 1);
  let topics: string[] | null = null;
  if (opts?.topics !== undefined) {
    if (!Array.isArray(opts.topics)) {
      throw new JobValidationError(
        "topics",
        `topics must be an array of topic names, got ${typeof opts.topics}`,
      );
    }
    topics = opts.topics.map((t, i) => validateJobName(t, `topics[${i}]`));
  }
  return { limit, topics };
}

/** Internal: checks an outbox id. */
export function outboxId(id: unknown): string {
  if (
    (typeof id === "string" && /^\d{1,18}$/.test(id)) ||
    (Number.isSafeInteger(id) && (id as number) > 0)
  ) {
    return String(id);
  }
  throw new JobValidationError(
    "id",
    `outbox id must be a positive integer or its decimal string, got ${JSON.stringify(id) ?? String(id)}`,
  );
}

/** Internal: checks an inbox key and TTL. */
export function inboxArgs(key: unknown, ttlSeconds: unknown): { key: string; ttlMs: number } {
  if (typeof key !== "string" || key.length === 0 || key.length > 512) {
    throw new JobValidationError(
      "key",
      `inbox key must be a non-empty string of at most 512 characters, got ${typeof key === "string" ? `${key.length} characters` : typeof key}: e.g. "webhook:42"`,
    );
  }
  return { key, ttlMs: Math.round(validateSeconds("ttlSeconds", ttlSeconds, 0.001) * 1000) };
}
