import { createHmac, timingSafeEqual } from "node:crypto";
import { type Clock, systemClock } from "@svc-jobs/core";
import { validateSeconds } from "@svc-jobs/core/backend";
import { WebhookVerificationError } from "./errors.js";
import { checkOptionKeys, OPTION_KEYS } from "./option-keys.js";
import { secretList } from "./secret.js";
import { type HeaderSource, headerValue, standardWebhookKey } from "./standard-webhook-key.js";

/** Options of {@link verifyStandardWebhook}. */
export type VerifyStandardWebhookOptions = {
  /** One secret, or several during a rotation (any of them may have signed). */
  secrets: string | readonly string[];
  /**
   * How far `webhook-timestamp` may be from now, either way, in seconds. Older
   * messages are refused as replays.
   * @default 300
   */
  toleranceSeconds?: number;
  /** Source of time. @default systemClock */
  clock?: Clock;
};

/** A verified Standard Webhooks message. */
export type VerifiedStandardWebhook = {
  /** The `webhook-id`: deduplicate on it. */
  id: string;
  /** The `webhook-timestamp`, in epoch seconds. */
  timestamp: number;
};

/**
 * Verifies the Standard Webhooks headers of a request against its exact body: the
 * timestamp must be within `toleranceSeconds` of now and one of the `v1` signatures
 * must match one of the secrets (compared in constant time).
 *
 * @throws WebhookVerificationError with `reason` saying what failed
 *
 * @example
 * ```ts
 * const { id } = verifyStandardWebhook(rawBody, req.headers, { secrets: [current, previous] });
 * ```
 */
export function verifyStandardWebhook(
  body: string | Uint8Array,
  headers: HeaderSource,
  options: VerifyStandardWebhookOptions,
): VerifiedStandardWebhook {
  checkOptionKeys(options, OPTION_KEYS.verifyStandard, "options");
  const keys = secretList(options.secrets, "secrets").map((s, i) =>
    standardWebhookKey(s, `secrets[${i}]`),
  );
  const toleranceSeconds = validateSeconds("toleranceSeconds", options.toleranceSeconds ?? 300, 0);
  const clock = options.clock ?? systemClock;

  const id = headerValue(headers, "webhook-id");
  const timestampText = headerValue(headers, "webhook-timestamp");
  const signatures = headerValue(headers, "webhook-signature");
  if (!id || !timestampText || !signatures) {
    throw new WebhookVerificationError(
      "missing_headers",
      "missing webhook-id, webhook-timestamp or webhook-signature header: the sender must sign with Standard Webhooks",
    );
  }
  if (!/^\d{1,15}$/.test(timestampText.trim())) {
    throw new WebhookVerificationError(
      "invalid_timestamp",
      "webhook-timestamp is not whole epoch seconds",
    );
  }
  const timestamp = Number(timestampText.trim());
  const nowSeconds = Math.floor(clock.now() / 1000);
  if (nowSeconds - timestamp > toleranceSeconds) {
    throw new WebhookVerificationError(
      "timestamp_too_old",
      `webhook-timestamp is ${nowSeconds - timestamp}s old, over the tolerance of ${toleranceSeconds}s: a replay, or the sender's clock is wrong`,
    );
  }
  if (timestamp - nowSeconds > toleranceSeconds) {
    throw new WebhookVerificationError(
      "timestamp_too_new",
      `webhook-timestamp is ${timestamp - nowSeconds}s in the future, over the tolerance of ${toleranceSeconds}s: check the sender's clock`,
    );
  }

  const given: Buffer[] = [];
  for (const part of signatures.split(" ")) {
    const [version, value] = part.split(",", 2);
    if (version === "v1" && value) given.push(Buffer.from(value, "base64"));
  }
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  let ok = false;
  for (const key of keys) {
    const expected = createHmac("sha256", key)
      .update(`${id}.${timestampText.trim()}.`)
      .update(bytes)
      .digest();
    for (const candidate of given) {
      if (candidate.length === expected.length) ok = timingSafeEqual(expected, candidate) || ok;
    }
  }
  if (!ok) {
    throw new WebhookVerificationError(
      "invalid_signature",
      "no webhook-signature matches: the body was changed, or it was signed with a secret you did not pass",
    );
  }
  return { id, timestamp };
}
