import { createHmac } from "node:crypto";
import { JobValidationError } from "@svc-jobs/core";
import { standardWebhookKey } from "./standard-webhook-key.js";

/** What {@link signStandardWebhook} signs. */
export type StandardWebhookMessage = {
  /** The `webhook-id`: unique per message and the same on every retry of it. */
  id: string;
  /** The `webhook-timestamp`, in epoch seconds (a `Date` is converted). */
  timestamp: number | Date;
  /** The exact request body. */
  body: string | Uint8Array;
};

/** The three Standard Webhooks headers. */
export type StandardWebhookHeaders = {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
};

/**
 * Signs a message per the Standard Webhooks spec: `v1,<base64 HMAC-SHA256>` over
 * `{id}.{timestamp}.{body}`, and returns the three headers to send. Verifies with the
 * `standardwebhooks` libraries when the secret is a `whsec_` secret.
 *
 * @example
 * ```ts
 * const headers = signStandardWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", {
 *   id: "msg_1", timestamp: new Date(), body: '{"a":1}',
 * });
 * ```
 */
export function signStandardWebhook(
  secret: string,
  message: StandardWebhookMessage,
): StandardWebhookHeaders {
  const key = standardWebhookKey(secret, "secret");
  const { id, body } = message;
  if (typeof id !== "string" || id.length === 0 || /[\s,]/.test(id)) {
    throw new JobValidationError(
      "message.id",
      'message.id must be a non-empty string without spaces or commas, e.g. "msg_123"',
    );
  }
  const seconds =
    message.timestamp instanceof Date
      ? Math.floor(message.timestamp.getTime() / 1000)
      : message.timestamp;
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new JobValidationError(
      "message.timestamp",
      `message.timestamp must be whole epoch seconds or a Date, got ${String(message.timestamp)}`,
    );
  }
  const signature = createHmac("sha256", key)
    .update(`${id}.${seconds}.`)
    .update(typeof body === "string" ? Buffer.from(body, "utf8") : body)
    .digest("base64");
  return {
    "webhook-id": id,
    "webhook-timestamp": String(seconds),
    "webhook-signature": `v1,${signature}`,
  };
}
