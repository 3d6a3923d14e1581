import type { IncomingMessage, ServerResponse } from "node:http";
import { type InboxStore, verifyWebhookRequest } from "@svc-jobs/webhooks";
import type { StepListener } from "./steps.js";
import { recordStatus } from "./tracing.js";

/** Options of {@link createWebhookReceiver}. */
export interface WebhookReceiverOptions {
  secret: string;
  /** Remembers event ids, so a redelivered event is acknowledged but not handled twice. */
  inbox: InboxStore;
  onStep?: StepListener;
}

/**
 * A local receiver for the order webhooks, as a customer's service would run it:
 * verifies the signature (constant time), deduplicates on the event id, answers
 * 204. It honours the demo knob `demo_fail_webhook_times` by answering the first N
 * attempts with 503, after verifying them, to show the sender's retries.
 */
export function createWebhookReceiver(options: WebhookReceiverOptions) {
  const step = options.onStep ?? (() => {});
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let verified: Awaited<ReturnType<typeof verifyWebhookRequest>>;
    try {
      verified = await verifyWebhookRequest(req, { secrets: [options.secret] });
    } catch (error) {
      step({
        kind: "receiver.rejected",
        message: `receiver rejected a request: ${error instanceof Error ? error.message : String(error)}`,
      });
      recordStatus(401);
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "invalid signature" }));
      return;
    }
    const payload = (verified.payload ?? {}) as {
      order_id?: number;
      demo_fail_webhook_times?: number;
    };
    const attempt = verified.attempt ?? 1;
    const failTimes = payload.demo_fail_webhook_times ?? 0;
    if (attempt <= failTimes) {
      step({
        kind: "receiver.simulated_failure",
        orderId: payload.order_id,
        message: `receiver verified the signature of order ${payload.order_id}'s webhook (attempt ${attempt}) and answers 503 on purpose`,
      });
      recordStatus(503);
      res.writeHead(503, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "simulated outage" }));
      return;
    }
    const isNew = await options.inbox.markIfNew(
      `received:${verified.id ?? verified.eventId}`,
      86_400,
    );
    if (isNew) {
      step({
        kind: "receiver.verified",
        orderId: payload.order_id,
        topic: verified.topic,
        scheme: verified.scheme,
        attempt,
        message: `receiver verified webhook ${verified.topic} for order ${payload.order_id} (${verified.scheme} signature, attempt ${attempt})`,
      });
    }
    recordStatus(204);
    res.writeHead(204);
    res.end();
  };
}
