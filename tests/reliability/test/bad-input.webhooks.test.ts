import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { InMemoryJobQueue, type Job, ManualClock } from "@svc-jobs/core";
import {
  assertPublicDestination,
  type HostLookup,
  InMemoryInboxStore,
  InMemoryOutboxStore,
  makeWebhookHandler,
  sign,
  signStandardWebhook,
  verifyWebhookRequest,
  WebhookDestinationError,
  WebhookVerificationError,
} from "@svc-jobs/webhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

// Webhooks under attack or misconfiguration, against a real HTTP server on 127.0.0.1:
// a tampered body, a signature replayed outside the tolerance window and a destination
// that is (or resolves to) a private address are refused with a clear error, and no
// effect is applied or recorded. No real DNS: host names go through an injected lookup.

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);

interface Receiver {
  url: string;
  /** Requests that reached the server at all. */
  hits: number;
  /** Effects applied: one per distinct verified message id. */
  effects: unknown[];
  inbox: InMemoryInboxStore;
  /** Refusal reasons answered with 401. */
  refused: string[];
  clock: ManualClock;
  close(): Promise<void>;
}

/** A receiver done right: verify, then apply each message id once through the inbox. */
async function startReceiver(): Promise<Receiver> {
  const clock = new ManualClock(NOW);
  const inbox = new InMemoryInboxStore({ clock });
  const r = { hits: 0, effects: [] as unknown[], refused: [] as string[] };
  const server: Server = createServer(async (req, res) => {
    r.hits++;
    try {
      const { id, payload } = await verifyWebhookRequest(req, { secrets: [SECRET], clock });
      if (id && (await inbox.markIfNew(`in:${id}`, 86_400))) r.effects.push(payload);
      res.writeHead(204).end();
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      r.refused.push(error.reason);
      res.writeHead(401, { "content-type": "text/plain" }).end(error.reason);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(r, {
    url: `http://127.0.0.1:${port}/hook`,
    inbox,
    clock,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver.close());
beforeEach(() => {
  receiver.hits = 0;
  receiver.effects.length = 0;
  receiver.refused.length = 0;
});

async function post(body: string, headers: Record<string, string>) {
  const res = await fetch(receiver.url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  return { status: res.status, reason: await res.text() };
}

function standardHeaders(id: string, timestampSeconds: number, body: string) {
  return { ...signStandardWebhook(SECRET, { id, timestamp: timestampSeconds, body }) };
}

describe("a receiver verifying webhooks", () => {
  const body = '{"amount":100,"user":"u1"}';
  const nowSeconds = Math.floor(NOW / 1000);

  it("refuses a tampered body signed with X-Signature; nothing applied", async () => {
    const signature = sign(SECRET, body);
    const tampered = '{"amount":1000000,"user":"u1"}';
    expect(await post(tampered, { "X-Signature": signature, "X-Event-Id": "t1" })).toEqual({
      status: 401,
      reason: "invalid_signature",
    });
    expect(receiver.effects).toEqual([]);
    expect(await receiver.inbox.isMarked("in:t1")).toBe(false);
    // The untampered request passes: the refusal above was about the body.
    expect((await post(body, { "X-Signature": signature, "X-Event-Id": "t1" })).status).toBe(204);
    expect(receiver.effects).toEqual([{ amount: 100, user: "u1" }]);
  });

  it("refuses a tampered body or id under Standard Webhooks; nothing applied", async () => {
    const headers = standardHeaders("msg_t2", nowSeconds, body);
    expect(await post(body.replace("100", "101"), headers)).toEqual({
      status: 401,
      reason: "invalid_signature",
    });
    expect(await post(body, { ...headers, "webhook-id": "msg_other" })).toEqual({
      status: 401,
      reason: "invalid_signature",
    });
    expect(await post(body, { ...headers, "webhook-signature": "v1,AAAA" })).toEqual({
      status: 401,
      reason: "invalid_signature",
    });
    expect(receiver.effects).toEqual([]);
    expect(await receiver.inbox.isMarked("in:msg_t2")).toBe(false);
  });

  it("refuses a signature replayed outside the 300 s tolerance, either way; nothing applied", async () => {
    const old = standardHeaders("msg_r1", nowSeconds - 301, body);
    expect(await post(body, old)).toEqual({ status: 401, reason: "timestamp_too_old" });
    const future = standardHeaders("msg_r2", nowSeconds + 301, body);
    expect(await post(body, future)).toEqual({ status: 401, reason: "timestamp_too_new" });
    expect(receiver.effects).toEqual([]);
    // Just inside the window the same message is accepted: the window is what refused it.
    expect((await post(body, standardHeaders("msg_r1", nowSeconds - 299, body))).status).toBe(204);
    expect(receiver.effects).toHaveLength(1);
  });

  it("a replay inside the window is verified but applied once (the inbox)", async () => {
    const headers = standardHeaders("msg_once", nowSeconds, body);
    for (let i = 0; i < 3; i++) expect((await post(body, headers)).status).toBe(204);
    expect(receiver.hits).toBe(3);
    expect(receiver.effects).toHaveLength(1);
  });

  it("refuses missing or malformed signature headers", async () => {
    expect(await post(body, {})).toEqual({ status: 401, reason: "missing_headers" });
    const headers = standardHeaders("msg_ts", nowSeconds, body);
    expect(await post(body, { ...headers, "webhook-timestamp": "soon" })).toEqual({
      status: 401,
      reason: "invalid_timestamp",
    });
    expect(receiver.effects).toEqual([]);
  });
});

describe("a sender delivering to a private address", () => {
  async function setup(
    options: { lookup?: HostLookup; allowPrivateNetworks?: boolean },
    url: string,
  ) {
    const outbox = new InMemoryOutboxStore();
    const inbox = new InMemoryInboxStore();
    const queue = new InMemoryJobQueue();
    const message = await outbox.enqueue("user.created", { user_id: 7 });
    await queue.enqueue("outbox.user.created", {
      outbox_id: message.id,
      topic: "user.created",
      payload: message.payload,
    });
    const job = (await queue.reserveNext()) as Job;
    const handler = makeWebhookHandler({
      outbox,
      inbox,
      getWebhookUrlForTopic: () => url,
      getSecretForTopic: () => SECRET,
      timeoutSeconds: 5,
      // The sender's clock is the receiver's, so webhook-timestamp is inside its window.
      clock: receiver.clock,
      ...options,
    });
    const run = async (): Promise<void> => {
      await handler(job, { signal: new AbortController().signal, progress: async () => {} });
    };
    return { outbox, inbox, message, run, close: () => handler.close() };
  }

  // A lookup that answers like a DNS server an attacker controls (no real DNS).
  const lookupTo =
    (...addresses: string[]): HostLookup =>
    async () =>
      addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));

  const refusals: [string, string, HostLookup | undefined][] = [
    ["the loopback receiver itself", "RECEIVER", undefined],
    ["a private IPv4 literal", "http://10.0.0.5/hook", undefined],
    ["the cloud metadata address", "http://169.254.169.254/latest/meta-data", undefined],
    ["an IPv6 loopback literal", "http://[::1]:8080/hook", undefined],
    ["an IPv4-mapped IPv6 loopback", "http://[::ffff:127.0.0.1]:8080/hook", undefined],
    ["a name resolving to 192.168.x", "http://hooks.customer.test/in", lookupTo("192.168.1.20")],
    [
      "a name resolving to public and private",
      "http://mixed.customer.test/in",
      lookupTo("93.184.216.34", "10.1.2.3"),
    ],
    ["a name resolving to 127.0.0.1 (rebinding)", "RECEIVER_BY_NAME", lookupTo("127.0.0.1")],
  ];

  it.each(refusals)(
    "refuses %s: no request sent, nothing marked delivered",
    async (_what, target, lookup) => {
      const port = new URL(receiver.url).port;
      const url =
        target === "RECEIVER"
          ? receiver.url
          : target === "RECEIVER_BY_NAME"
            ? `http://receiver.customer.test:${port}/hook`
            : target;
      const s = await setup(lookup ? { lookup } : {}, url);
      const error = await s.run().then(
        () => undefined,
        (e: unknown) => e,
      );
      await s.close();
      expect(error).toBeInstanceOf(WebhookDestinationError);
      expect((error as WebhookDestinationError).code).toBe("ERR_WEBHOOK_DESTINATION");
      expect((error as Error).message).toMatch(/private|loopback|link-local|not public|refus/i);
      expect(receiver.hits).toBe(0);
      expect(await s.inbox.isMarked(`webhook:${s.message.id}`)).toBe(false);
      const row = await s.outbox.get(s.message.id);
      expect(row?.status).toBe("pending");
      expect(row?.completedAt).toBeNull();
    },
  );

  it("the same delivery to the loopback receiver goes through once allowed, and only once", async () => {
    const s = await setup({ allowPrivateNetworks: true }, receiver.url);
    await s.run();
    await s.run(); // the job ran again, as after a worker crash before its ack
    await s.close();
    expect(receiver.hits).toBe(1);
    expect(receiver.effects).toEqual([{ user_id: 7 }]);
    expect((await s.outbox.get(s.message.id))?.status).toBe("processed");
  });

  it("assertPublicDestination refuses other schemes and private names before connecting", async () => {
    await expect(assertPublicDestination("ftp://files.example.test/x")).rejects.toThrow(
      WebhookDestinationError,
    );
    await expect(
      assertPublicDestination("http://intranet.test/", { lookup: lookupTo("172.16.0.9") }),
    ).rejects.toThrow(WebhookDestinationError);
    const ok = await assertPublicDestination("https://hooks.example.test/in", {
      lookup: lookupTo("93.184.216.34"),
    });
    expect(ok.addresses).toEqual([{ address: "93.184.216.34", family: 4 }]);
  });
});
