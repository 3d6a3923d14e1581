import type { IncomingMessage } from "node:http";
import type { Clock, JsonValue } from "@svc-jobs/core";
import { validateInteger } from "@svc-jobs/core/backend";
import { canonicalJsonFromText } from "./canonical-json.js";
import { WebhookVerificationError } from "./errors.js";
import { checkOptionKeys, OPTION_KEYS } from "./option-keys.js";
import { secretList } from "./secret.js";
import { headerValue } from "./standard-webhook-key.js";
import { signedByAny } from "./verify.js";
import { verifyStandardWebhook } from "./verify-standard-webhook.js";

/** A fetch-style request (`Request` of undici, Deno, Bun, Hono, Next.js, ...). */
export interface FetchLikeRequest {
  headers: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** Options of {@link verifyWebhookRequest}. */
export type VerifyWebhookRequestOptions = {
  /** The topic's secret, or several during a rotation. */
  secrets: string | readonly string[];
  /**
   * Which signature to require. `"auto"` checks the Standard Webhooks headers when
   * present (they carry a timestamp, so replays are refused) and `X-Signature` otherwise.
   * @default "auto"
   */
  scheme?: "auto" | "standard" | "hmac";
  /** Header of the svc-infra hex signature. @default "X-Signature" */
  headerName?: string;
  /** Standard Webhooks timestamp tolerance, in seconds. @default 300 */
  toleranceSeconds?: number;
  /** Source of time. @default systemClock */
  clock?: Clock;
  /** Largest body read, in bytes. @default 1048576 */
  maxBodyBytes?: number;
  /** The raw body when a framework already read it (e.g. `express.raw()`). */
  body?: string | Uint8Array;
};

/** A request that passed {@link verifyWebhookRequest}. */
export type VerifiedWebhookRequest = {
  /** The parsed JSON body. */
  payload: JsonValue;
  /** The raw body as received. */
  body: string;
  /** Which signature was checked. */
  scheme: "standard" | "hmac";
  /** `webhook-id` (Standard Webhooks) or `X-Event-Id`: deduplicate on it. */
  id: string | null;
  /** `X-Event-Id`: the sender's outbox id. */
  eventId: string | null;
  /** `X-Topic`. */
  topic: string | null;
  /** `X-Attempt`, 1 on the first delivery. */
  attempt: number | null;
  /** `webhook-timestamp` in epoch seconds (Standard Webhooks only). */
  timestamp: number | null;
};

/**
 * Reads and verifies a webhook request on the receiving side, from Node's `http`
 * (`IncomingMessage`) or a fetch-style `Request`. Verifies the Standard Webhooks
 * headers (with replay tolerance) or the svc-infra `X-Signature`. For the latter the
 * body verifies when its exact bytes were signed or when its canonical form was, computed
 * from the raw text with every number kept as written ({@link canonicalJsonFromText}):
 * svc-infra signs `json.dumps(payload, sort_keys=True, separators=(",", ":"))` and may
 * post the payload with other spacing, key order or escapes, and floats such as `10.0` or
 * `1e+16` must reach the HMAC as the sender wrote them. Deduplicate on `id`: a retry
 * after a lost response carries the same one.
 *
 * `payload` is the body parsed with `JSON.parse`, so integers beyond 2^53 lose precision
 * there; `body` holds them exactly.
 *
 * @throws WebhookVerificationError when the request is not authentic (`reason`
 * `"invalid_body"` when the body is not JSON: trailing text, a syntax error, a key
 * repeated in one object when only the canonical form matches)
 *
 * @example
 * ```ts
 * http.createServer(async (req, res) => {
 *   try {
 *     const { id, topic, payload } = await verifyWebhookRequest(req, { secrets: [secret] });
 *     if (await inbox.markIfNew(`in:${id}`, 86_400)) await handle(topic, payload);
 *     res.writeHead(204).end();
 *   } catch { res.writeHead(401).end(); }
 * });
 * ```
 */
export async function verifyWebhookRequest(
  request: IncomingMessage | FetchLikeRequest,
  options: VerifyWebhookRequestOptions,
): Promise<VerifiedWebhookRequest> {
  checkOptionKeys(options, OPTION_KEYS.verifyRequest, "options");
  const secrets = secretList(options.secrets, "secrets");
  const scheme = options.scheme ?? "auto";
  const headerName = options.headerName ?? "X-Signature";
  const maxBodyBytes = validateInteger("maxBodyBytes", options.maxBodyBytes ?? 1024 * 1024, 1);
  const headers = request.headers;
  const raw =
    options.body !== undefined ? toBuffer(options.body) : await readBody(request, maxBodyBytes);
  if (raw.length > maxBodyBytes) {
    throw new WebhookVerificationError(
      "body_too_large",
      `request body is over ${maxBodyBytes} bytes`,
    );
  }
  const body = raw.toString("utf8");

  const hasStandard = headerValue(headers, "webhook-signature") !== undefined;
  let timestamp: number | null = null;
  let id: string | null = null;
  let used: "standard" | "hmac";
  if (scheme === "standard" || (scheme === "auto" && hasStandard)) {
    const verified = verifyStandardWebhook(raw, headers, {
      secrets,
      toleranceSeconds: options.toleranceSeconds,
      clock: options.clock,
    });
    timestamp = verified.timestamp;
    id = verified.id;
    used = "standard";
  } else {
    const signature = headerValue(headers, headerName);
    if (!signature) {
      throw new WebhookVerificationError(
        "missing_headers",
        `missing ${headerName} header (and no Standard Webhooks headers): the request is not signed`,
      );
    }
    if (!signedByAny(secrets, raw, signature)) {
      let canonical: string;
      try {
        canonical = canonicalJsonFromText(raw);
      } catch (error) {
        throw new WebhookVerificationError(
          "invalid_body",
          `${headerName} does not match the exact body, which has no canonical form to check instead: ${(error as Error).message}`,
        );
      }
      if (!signedByAny(secrets, Buffer.from(canonical, "utf8"), signature)) {
        throw new WebhookVerificationError(
          "invalid_signature",
          `${headerName} does not match: the body was changed, or it was signed with a secret you did not pass`,
        );
      }
    }
    used = "hmac";
  }

  let payload: JsonValue;
  try {
    payload = JSON.parse(body) as JsonValue;
  } catch (error) {
    throw new WebhookVerificationError(
      "invalid_body",
      `the signed body is not JSON: ${(error as Error).message}`,
    );
  }
  const eventId = headerValue(headers, "x-event-id") ?? null;
  const attemptText = headerValue(headers, "x-attempt");
  const attempt = attemptText && /^\d+$/.test(attemptText) ? Number(attemptText) : null;
  return {
    payload,
    body,
    scheme: used,
    id: id ?? eventId,
    eventId,
    topic: headerValue(headers, "x-topic") ?? null,
    attempt,
    timestamp,
  };
}

function isFetchLike(request: unknown): request is FetchLikeRequest {
  return (
    typeof (request as FetchLikeRequest).arrayBuffer === "function" &&
    typeof (request as FetchLikeRequest).headers?.get === "function"
  );
}

function toBuffer(body: string | Uint8Array): Buffer {
  return typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body);
}

async function readBody(
  request: IncomingMessage | FetchLikeRequest,
  limit: number,
): Promise<Buffer> {
  if (isFetchLike(request)) return Buffer.from(await request.arrayBuffer());
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > limit) {
      throw new WebhookVerificationError("body_too_large", `request body is over ${limit} bytes`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}
