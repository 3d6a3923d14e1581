import {
  InMemoryJobQueue,
  type Job,
  JobValidationError,
  ManualClock,
  processOne,
} from "@svc-jobs/core";
import { freePort } from "@svc-jobs/test-servers";
import {
  canonicalJson,
  InMemoryInboxStore,
  InMemoryOutboxStore,
  makeWebhookHandler,
  sign,
  WebhookDeliveryError,
  WebhookDestinationError,
  type WebhookHandler,
  type WebhookHandlerOptions,
} from "@svc-jobs/webhooks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Receiver, startReceiver } from "./helpers/receiver.js";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

describe("makeWebhookHandler", () => {
  let receiver: Receiver;
  let outbox: InMemoryOutboxStore;
  let inbox: InMemoryInboxStore;
  const handlers: WebhookHandler[] = [];

  const makeHandler = (overrides: Partial<WebhookHandlerOptions> = {}) => {
    const handler = makeWebhookHandler({
      outbox,
      inbox,
      getWebhookUrlForTopic: () => receiver.url,
      getSecretForTopic: () => SECRET,
      allowPrivateNetworks: true, // the receiver is on 127.0.0.1
      ...overrides,
    });
    handlers.push(handler);
    return handler;
  };

  const jobFor = (
    outboxId: string,
    topic: string,
    payload: Record<string, unknown>,
    attempts = 1,
  ): Job => ({
    id: "1",
    name: `outbox.${topic}`,
    payload: { outbox_id: outboxId, topic, payload } as Job["payload"],
    availableAt: new Date(),
    attempts,
    maxAttempts: 5,
    backoffSeconds: 60,
    lastError: null,
  });
  const ctx = () => ({ signal: new AbortController().signal, progress: async () => {} });

  beforeEach(async () => {
    receiver = await startReceiver(SECRET);
    outbox = new InMemoryOutboxStore();
    inbox = new InMemoryInboxStore();
  });
  afterEach(async () => {
    for (const h of handlers.splice(0)) await h.close();
    await receiver.close();
  });

  it("POSTs the canonical body with every signature header, then marks inbox and outbox", async () => {
    const m = await outbox.enqueue("user.created", { z: 1, a: "é", m: [3] });
    await makeHandler()(jobFor(m.id, m.topic, m.payload, 1), ctx());

    expect(receiver.requests).toHaveLength(1);
    const [req] = receiver.requests;
    expect(req?.outcome).toBe(204);
    expect(req?.body).toBe('{"a":"\\u00e9","m":[3],"z":1}');
    expect(req?.body).toBe(canonicalJson(m.payload));
    expect(req?.headers["x-signature"]).toBe(sign(SECRET, m.payload));
    expect(req?.headers).toMatchObject({
      "content-type": "application/json",
      "x-event-id": m.id,
      "x-topic": "user.created",
      "x-attempt": "1",
      "x-signature-alg": "hmac-sha256",
      "x-signature-version": "v1",
      "webhook-id": `msg_${m.id}`,
    });
    expect(req?.verified?.scheme).toBe("hmac");
    expect(req?.referenceVerified).toBe(true); // the standardwebhooks library agrees
    expect(await inbox.isMarked(`webhook:${m.id}`)).toBe(true);
    expect((await outbox.get(m.id))?.status).toBe("processed");
  });

  it("honours a custom signature header name", async () => {
    const custom = await startReceiver(SECRET, { headerName: "X-Hub-Sig" });
    try {
      const m = await outbox.enqueue("t", { n: 1 });
      const handler = makeHandler({
        headerName: "X-Hub-Sig",
        getWebhookUrlForTopic: () => custom.url,
      });
      await handler(jobFor(m.id, m.topic, m.payload), ctx());
      expect(custom.accepted()).toHaveLength(1);
      expect(custom.requests[0]?.headers["x-hub-sig"]).toBe(sign(SECRET, { n: 1 }));
      expect(custom.requests[0]?.headers["x-signature"]).toBeUndefined();
    } finally {
      await custom.close();
    }
  });

  it("a non-2xx answer throws and records the attempt; the retry keeps webhook-id", async () => {
    const m = await outbox.enqueue("t", { n: 1 });
    const handler = makeHandler();
    receiver.failNext(1, 500);
    const error = await Promise.resolve(handler(jobFor(m.id, m.topic, m.payload, 1), ctx())).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WebhookDeliveryError);
    expect((error as WebhookDeliveryError).status).toBe(500);
    expect(await outbox.get(m.id)).toMatchObject({ status: "pending", attempts: 1 });
    expect((await outbox.get(m.id))?.lastError).toMatch(/HTTP 500/);
    expect(await inbox.isMarked(`webhook:${m.id}`)).toBe(false);

    await handler(jobFor(m.id, m.topic, m.payload, 2), ctx());
    const [first, second] = receiver.requests;
    expect(first?.headers["webhook-id"]).toBe(second?.headers["webhook-id"]);
    expect([first?.headers["x-attempt"], second?.headers["x-attempt"]]).toEqual(["1", "2"]);
    expect((await outbox.get(m.id))?.status).toBe("processed");
  });

  it("a 3xx is a failure (redirects are not followed)", async () => {
    const m = await outbox.enqueue("t", { n: 1 });
    receiver.failNext(1, 302);
    await expect(
      Promise.resolve(makeHandler()(jobFor(m.id, m.topic, m.payload), ctx())),
    ).rejects.toMatchObject({
      status: 302,
    });
  });

  it("a receiver that does not answer in timeoutSeconds is a timeout failure", async () => {
    const m = await outbox.enqueue("t", { n: 1 });
    receiver.hangNext(1);
    const error = await Promise.resolve(
      makeHandler({ timeoutSeconds: 0.3 })(jobFor(m.id, m.topic, m.payload), ctx()),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookDeliveryError);
    expect((error as WebhookDeliveryError).code).toBe("ERR_WEBHOOK_TIMEOUT");
    expect((error as WebhookDeliveryError).status).toBeNull();
    expect(receiver.requests).toHaveLength(1);
    expect(await outbox.get(m.id)).toMatchObject({ attempts: 1 });
  });

  it("a refused connection is a network failure", async () => {
    const port = await freePort(); // nothing listens there
    const m = await outbox.enqueue("t", { n: 1 });
    const handler = makeHandler({ getWebhookUrlForTopic: () => `http://127.0.0.1:${port}/x` });
    const error = await Promise.resolve(handler(jobFor(m.id, m.topic, m.payload), ctx())).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WebhookDeliveryError);
    expect((error as WebhookDeliveryError).status).toBeNull();
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
  });

  it("the job's AbortSignal stops the request", async () => {
    const m = await outbox.enqueue("t", { n: 1 });
    receiver.hangNext(1);
    const controller = new AbortController();
    const running = Promise.resolve(
      makeHandler()(jobFor(m.id, m.topic, m.payload), {
        signal: controller.signal,
        progress: async () => {},
      }),
    );
    while (receiver.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    const reason = new Error("worker stopping");
    controller.abort(reason);
    await expect(running).rejects.toBe(reason);
  });

  it("a delivery already in the inbox sends nothing", async () => {
    const m = await outbox.enqueue("t", { n: 1 });
    await inbox.mark(`webhook:${m.id}`);
    await makeHandler()(jobFor(m.id, m.topic, m.payload), ctx());
    expect(receiver.requests).toHaveLength(0);
    expect((await outbox.get(m.id))?.status).toBe("processed");
  });

  it("a failure on the last attempt marks the row failed and the job dead-letters", async () => {
    const clock = new ManualClock();
    const queue = new InMemoryJobQueue({ clock });
    const m = await outbox.enqueue("t", { n: 1 });
    await queue.enqueue(
      "outbox.t",
      { outbox_id: m.id, topic: "t", payload: m.payload },
      { maxAttempts: 2 },
    );
    receiver.failNext(2, 503);
    const handler = makeHandler();
    expect(await processOne(queue, handler)).toBe(true);
    expect((await outbox.get(m.id))?.status).toBe("pending");
    clock.advance(60);
    expect(await processOne(queue, handler)).toBe(true);
    expect(await outbox.get(m.id)).toMatchObject({ status: "failed", attempts: 2 });
    const [dead] = await queue.dlq.list();
    expect(dead?.lastError).toMatch(/HTTP 503/);
    // Replayed from the DLQ and delivered: processed wins.
    await queue.dlq.requeue(dead!.id);
    expect(await processOne(queue, handler)).toBe(true);
    expect((await outbox.get(m.id))?.status).toBe("processed");
  });

  it("refuses private destinations by default, before any connection", async () => {
    const m = await outbox.enqueue("t", { n: 1 });
    const strict = makeHandler({ allowPrivateNetworks: false });
    await expect(
      Promise.resolve(strict(jobFor(m.id, m.topic, m.payload), ctx())),
    ).rejects.toBeInstanceOf(WebhookDestinationError);
    // A public-looking name whose DNS answer is private (rebinding, internal records).
    const sneaky = makeHandler({
      allowPrivateNetworks: false,
      getWebhookUrlForTopic: () => `http://hooks.example.test:${receiver.port}/hooks?token=t0k3n`,
      lookup: async () => [{ address: "127.0.0.1", family: 4 }],
    });
    const error = await Promise.resolve(sneaky(jobFor(m.id, m.topic, m.payload), ctx())).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WebhookDestinationError);
    expect((error as WebhookDestinationError).address).toBe("127.0.0.1");
    expect((error as Error).message).toContain(`http://hooks.example.test:${receiver.port}/hooks`);
    expect((error as Error).message).not.toContain("t0k3n");
    for (const url of ["http://10.0.0.1/x", "http://[::ffff:10.0.0.1]/x", "file:///etc/passwd"]) {
      const h = makeHandler({ allowPrivateNetworks: false, getWebhookUrlForTopic: () => url });
      await expect(
        Promise.resolve(h(jobFor(m.id, m.topic, m.payload), ctx())),
        url,
      ).rejects.toBeInstanceOf(WebhookDestinationError);
    }
    expect(receiver.connections()).toBe(0);
    expect(await outbox.get(m.id)).toMatchObject({ status: "pending", attempts: 5 });
  });

  it("connects to exactly the address its lookup checked", async () => {
    const m = await outbox.enqueue("t", { n: 1 });
    const seen: string[] = [];
    const handler = makeHandler({
      getWebhookUrlForTopic: () => `http://hooks.example.test:${receiver.port}/hooks`,
      lookup: async (host) => {
        seen.push(host);
        return [{ address: "127.0.0.1", family: 4 }];
      },
    });
    await handler(jobFor(m.id, m.topic, m.payload), ctx());
    expect(seen).toEqual(["hooks.example.test"]);
    expect(receiver.accepted()).toHaveLength(1);
  });

  it("rejects a malformed job payload and bad options", async () => {
    const handler = makeHandler();
    const bad = { ...jobFor("1", "t", {}), payload: { topic: "t", payload: {} } };
    await expect(Promise.resolve(handler(bad as Job, ctx()))).rejects.toBeInstanceOf(
      JobValidationError,
    );
    expect(() => makeHandler({ timeoutSeconds: 0 })).toThrow(JobValidationError);
    expect(() => makeHandler({ headerName: "bad header" })).toThrow(JobValidationError);
    expect(receiver.requests).toHaveLength(0);
  });
});
