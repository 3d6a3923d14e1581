import type { LookupAddress, LookupOptions } from "node:dns";
import { isIP } from "node:net";
import {
  type Clock,
  errorMessage,
  type HandlerContext,
  type Job,
  type JobHandler,
  JobValidationError,
  type JsonObject,
  systemClock,
} from "@svc-jobs/core";
import { validateSeconds } from "@svc-jobs/core/backend";
import { Agent, request } from "undici";
import { canonicalJson } from "./canonical-json.js";
import { traceDelivery } from "./delivery-span.js";
import {
  checkAddresses,
  type HostLookup,
  parseDestination,
  redact,
  resolve,
  systemLookup,
} from "./destination-guard.js";
import { WebhookDeliveryError, WebhookDestinationError } from "./errors.js";
import type { InboxStore } from "./inbox-store.js";
import { checkOptionKeys, OPTION_KEYS } from "./option-keys.js";
import type { OutboxStore } from "./outbox-store.js";
import { assertSecret } from "./secret.js";
import { sign } from "./sign.js";
import { signStandardWebhook } from "./sign-standard-webhook.js";
import { outboxId as checkOutboxId } from "./store-validation.js";

/** Options of {@link makeWebhookHandler}. */
export type WebhookHandlerOptions = {
  /** Marked `processed` after a 2xx, `failed` when the last attempt fails. */
  outbox: OutboxStore;
  /** Remembers delivered events (`webhook:{outbox_id}`) so a duplicate job sends nothing. */
  inbox: InboxStore;
  /** The destination URL of a topic (http or https). */
  getWebhookUrlForTopic: (topic: string) => string | URL | Promise<string | URL>;
  /** The shared secret of a topic. A `whsec_` secret also works with Standard Webhooks libraries. */
  getSecretForTopic: (topic: string) => string | Promise<string>;
  /** Header that carries the svc-infra hex signature. @default "X-Signature" */
  headerName?: string;
  /** Seconds to wait for the receiver's response, connection included. @default 10 */
  timeoutSeconds?: number;
  /**
   * Allow destinations that resolve to loopback, private, link-local or other
   * non-public addresses. Off by default so a misconfigured or attacker-chosen URL
   * cannot reach internal services (SSRF).
   * @default false
   */
  allowPrivateNetworks?: boolean;
  /** How long a delivered event stays in the inbox, in seconds. @default 604800 (7 days) */
  inboxTtlSeconds?: number;
  /** How host names are resolved; the connection uses exactly the addresses checked. @default systemLookup */
  lookup?: HostLookup;
  /** `User-Agent` of the requests. @default "svc-jobs-webhooks" */
  userAgent?: string;
  /** Source of time for `webhook-timestamp`. @default systemClock */
  clock?: Clock;
};

/** A webhook delivery job handler. Call `close()` on shutdown to drop idle connections. */
export interface WebhookHandler extends JobHandler {
  close(): Promise<void>;
}

/** The payload of a delivery job, as {@link makeOutboxTick} writes it. */
export interface WebhookJobPayload extends JsonObject {
  outbox_id: string | number;
  topic: string;
  payload: JsonObject;
}

/** Default of `inboxTtlSeconds`: how long a delivered event's inbox mark lives (7 days). */
const DEFAULT_DELIVERY_MARK_TTL_SECONDS = 7 * 24 * 60 * 60;

/**
 * Makes the job handler that delivers outbox events as signed HTTP POSTs.
 *
 * Per job (`{ outbox_id, topic, payload }`): if `webhook:{outbox_id}` is in the inbox
 * nothing is sent. Otherwise the canonical JSON of `payload` is POSTed with
 * `X-Signature` (hex HMAC-SHA256), `X-Event-Id`, `X-Topic`, `X-Attempt`,
 * `X-Signature-Alg: hmac-sha256`, `X-Signature-Version: v1` and the Standard Webhooks
 * headers (`webhook-id` is `msg_{outbox_id}` on every attempt). A 2xx marks the inbox
 * and the outbox row `processed`. Anything else (another status, a timeout, a network
 * error, a refused destination) records the attempt and throws, so the queue retries
 * with backoff; when that was the job's last attempt the row is marked `failed`
 * before the job goes to the dead letter queue.
 *
 * @example
 * ```ts
 * const handler = makeWebhookHandler({
 *   outbox, inbox,
 *   getWebhookUrlForTopic: (topic) => config[topic].url,
 *   getSecretForTopic: (topic) => config[topic].secret,
 * });
 * const runner = new WorkerRunner(queue, handler);
 * ```
 */
export function makeWebhookHandler(options: WebhookHandlerOptions): WebhookHandler {
  checkOptionKeys(options, OPTION_KEYS.webhookHandler, "options");
  const { outbox, inbox, getWebhookUrlForTopic, getSecretForTopic } = options;
  if (!outbox || typeof outbox.markProcessed !== "function") {
    throw new JobValidationError(
      "outbox",
      "outbox must be an OutboxStore (e.g. new KyselyOutboxStore(db))",
    );
  }
  if (!inbox || typeof inbox.isMarked !== "function") {
    throw new JobValidationError(
      "inbox",
      "inbox must be an InboxStore (e.g. new KyselyInboxStore(db))",
    );
  }
  if (typeof getWebhookUrlForTopic !== "function" || typeof getSecretForTopic !== "function") {
    throw new JobValidationError(
      "getWebhookUrlForTopic",
      "getWebhookUrlForTopic and getSecretForTopic must be functions of the topic",
    );
  }
  const headerName = options.headerName ?? "X-Signature";
  if (typeof headerName !== "string" || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(headerName)) {
    throw new JobValidationError(
      "headerName",
      `headerName must be an HTTP header name, got ${JSON.stringify(headerName)}`,
    );
  }
  const timeoutMs = validateSeconds("timeoutSeconds", options.timeoutSeconds ?? 10, 0.001) * 1000;
  const inboxTtlSeconds = validateSeconds(
    "inboxTtlSeconds",
    options.inboxTtlSeconds ?? DEFAULT_DELIVERY_MARK_TTL_SECONDS,
    1,
  );
  const allowPrivate = options.allowPrivateNetworks === true;
  const hostLookup = options.lookup ?? systemLookup;
  const clock = options.clock ?? systemClock;
  const userAgent = options.userAgent ?? "svc-jobs-webhooks";

  // The check runs inside the socket's own lookup, so the address connected to is the
  // address checked: a DNS answer cannot change between check and connect (rebinding).
  const agent = new Agent({
    connect: {
      lookup: (hostname: string, opts: LookupOptions, callback: LookupCallback) => {
        resolve(hostLookup, hostname, hostname).then(
          (addresses) => {
            try {
              if (!allowPrivate) checkAddresses(hostname, hostname, addresses);
              const wanted = opts.family === 4 || opts.family === 6 ? opts.family : 0;
              const usable = wanted ? addresses.filter((a) => a.family === wanted) : addresses;
              if (opts.all) callback(null, usable);
              else if (usable[0]) callback(null, usable[0].address, usable[0].family);
              else callback(new Error(`${hostname} has no IPv${wanted} address`), "", 0);
            } catch (error) {
              callback(error as Error, "", 0);
            }
          },
          (error: Error) => callback(error, "", 0),
        );
      },
    },
  });

  const deliver = async (job: Job, signal: AbortSignal) => {
    const { id, topic, payload } = parsePayload(job.payload);
    const key = `webhook:${id}`;
    if (await inbox.isMarked(key)) {
      // Delivered before (a duplicate job, or a crash after the POST): settle the row only.
      await outbox.markProcessed(id);
      return;
    }
    try {
      await post(job, id, topic, payload, signal);
    } catch (error) {
      const message = errorMessage(error);
      await outbox.recordAttempt(id, message);
      if (job.attempts >= job.maxAttempts) await outbox.markFailed(id, message);
      throw error;
    }
    await inbox.mark(key, inboxTtlSeconds);
    await outbox.markProcessed(id);
  };

  const post = async (
    job: Job,
    id: string,
    topic: string,
    payload: JsonObject,
    jobSignal: AbortSignal,
  ) => {
    const url = parseDestination(await getWebhookUrlForTopic(topic));
    const destination = redact(url);
    const host = url.hostname.replace(/^\[|\]$/g, "");
    // Literal IPs never reach the lookup above, so they are checked here.
    const family = isIP(host);
    if (family && !allowPrivate) checkAddresses(destination, host, [{ address: host, family }]);
    const secret = await getSecretForTopic(topic);
    assertSecret(secret, `getSecretForTopic("${topic}")`);

    const body = canonicalJson(payload);
    return traceDelivery(
      { url, destination, topic, eventId: id, attempt: Math.max(1, job.attempts) },
      (traceHeaders) =>
        send(url, destination, host, topic, id, secret, body, traceHeaders, job, jobSignal),
    );
  };

  const send = async (
    url: URL,
    destination: string,
    host: string,
    topic: string,
    id: string,
    secret: string,
    body: string,
    traceHeaders: Record<string, string>,
    job: Job,
    jobSignal: AbortSignal,
  ): Promise<number> => {
    const headers: Record<string, string> = {
      ...traceHeaders,
      "content-type": "application/json",
      "user-agent": userAgent,
      [headerName]: sign(secret, body),
      "X-Event-Id": id,
      "X-Topic": topic,
      "X-Attempt": String(Math.max(1, job.attempts)),
      "X-Signature-Alg": "hmac-sha256",
      "X-Signature-Version": "v1",
      ...signStandardWebhook(secret, {
        id: `msg_${id}`,
        timestamp: Math.floor(clock.now() / 1000),
        body,
      }),
    };

    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([jobSignal, timeout]);
    let status: number;
    try {
      const response = await request(url, {
        method: "POST",
        headers,
        body,
        signal,
        dispatcher: agent,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      status = response.statusCode;
      await response.body.dump({ limit: 64 * 1024, signal });
    } catch (error) {
      const refused = findCause(error, WebhookDestinationError);
      if (refused) {
        // Re-raise with the full destination (the lookup only knew the host name).
        if (refused.address)
          checkAddresses(destination, host, [{ address: refused.address, family: 0 }]);
        throw new WebhookDestinationError(destination, refused.message, { cause: error });
      }
      if (timeout.aborted) {
        throw new WebhookDeliveryError(
          destination,
          null,
          `webhook ${topic} #${id} to ${destination} timed out after ${timeoutMs / 1000}s: the receiver should answer 2xx quickly and do slow work later, or raise timeoutSeconds`,
          { code: "ERR_WEBHOOK_TIMEOUT", cause: error },
        );
      }
      if (jobSignal.aborted) throw jobSignal.reason ?? error;
      throw new WebhookDeliveryError(
        destination,
        null,
        `webhook ${topic} #${id} to ${destination} failed: ${networkMessage(error)}`,
        { cause: error },
      );
    }
    if (status < 200 || status > 299) {
      throw new WebhookDeliveryError(
        destination,
        status,
        `webhook ${topic} #${id} to ${destination} answered HTTP ${status}; it will be retried`,
      );
    }
    return status;
  };

  const handler = ((job: Job, context: HandlerContext) =>
    deliver(job, context.signal)) as WebhookHandler;
  handler.close = () => agent.close();
  return handler;
}

type LookupCallback = (
  error: Error | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

function parsePayload(payload: JsonObject): { id: string; topic: string; payload: JsonObject } {
  const { outbox_id, topic, payload: body } = payload as Partial<WebhookJobPayload>;
  const id = checkOutboxId(outbox_id);
  if (typeof topic !== "string" || topic.length === 0) {
    throw new JobValidationError(
      "payload.topic",
      "webhook job payload.topic must be a non-empty string: enqueue { outbox_id, topic, payload }",
    );
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new JobValidationError(
      "payload.payload",
      "webhook job payload.payload must be a JSON object: enqueue { outbox_id, topic, payload }",
    );
  }
  return { id, topic, payload: body };
}

function findCause<T extends Error>(
  error: unknown,
  type: new (...args: never[]) => T,
): T | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof type) return e;
  }
  return undefined;
}

function networkMessage(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  const message = errorMessage(error);
  return typeof code === "string" && !message.includes(code) ? `${code} ${message}` : message;
}
