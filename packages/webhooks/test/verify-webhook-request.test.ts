import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ManualClock } from "@svc-jobs/core";
import {
  sign,
  signStandardWebhook,
  type VerifyWebhookRequestOptions,
  verifyWebhookRequest,
  WebhookVerificationError,
} from "@svc-jobs/webhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const body = '{"a":2,"m":3,"z":1}';

function signedHeaders(payloadBody: string, at = Math.floor(Date.now() / 1000)) {
  return {
    "content-type": "application/json",
    "X-Signature": sign(SECRET, payloadBody),
    "X-Event-Id": "42",
    "X-Topic": "user.created",
    "X-Attempt": "3",
    ...signStandardWebhook(SECRET, { id: "msg_42", timestamp: at, body: payloadBody }),
  };
}

describe("verifyWebhookRequest with Node's http", () => {
  let server: Server;
  let url: string;
  let options: VerifyWebhookRequestOptions = { secrets: [SECRET] };

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      try {
        const verified = await verifyWebhookRequest(req, options);
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(verified));
      } catch (error) {
        const reason = error instanceof WebhookVerificationError ? error.reason : "other";
        res.writeHead(401).end(reason);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/in`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const post = async (headers: Record<string, string>, payloadBody: string) => {
    const res = await fetch(url, { method: "POST", headers, body: payloadBody });
    return { status: res.status, text: await res.text() };
  };

  it("verifies the Standard Webhooks headers when present and returns the event", async () => {
    options = { secrets: ["whsec_dGhlIG9sZCBzZWNyZXQgb2YgdGhpcyBlbmRwb2ludA==", SECRET] };
    const res = await post(signedHeaders(body), body);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({
      payload: { a: 2, m: 3, z: 1 },
      body,
      scheme: "standard",
      id: "msg_42",
      eventId: "42",
      topic: "user.created",
      attempt: 3,
    });
  });

  it("falls back to X-Signature, also for a Python sender's non-canonical body", async () => {
    options = { secrets: SECRET };
    const only = { "X-Signature": sign(SECRET, body), "X-Event-Id": "7" };
    const res = await post(only, body);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ scheme: "hmac", id: "7", timestamp: null });
    // httpx's json= posts '{"z": 1, "a": 2, "m": 3}' but signs the canonical form.
    const pythonBody = '{"z": 1, "a": 2, "m": 3}';
    const python = { "X-Signature": sign(SECRET, { z: 1, a: 2, m: 3 }) };
    expect((await post(python, pythonBody)).status).toBe(200);
  });

  it("refuses tampering, missing signatures, stale timestamps and oversized bodies", async () => {
    options = { secrets: [SECRET] };
    expect(await post(signedHeaders(body), body.replace("2", "9"))).toEqual({
      status: 401,
      text: "invalid_signature",
    });
    expect(await post({ "content-type": "application/json" }, body)).toEqual({
      status: 401,
      text: "missing_headers",
    });
    const old = signedHeaders(body, Math.floor(Date.now() / 1000) - 301);
    expect(await post(old, body)).toEqual({ status: 401, text: "timestamp_too_old" });
    options = { secrets: [SECRET], scheme: "hmac" }; // X-Signature carries no timestamp
    expect((await post(old, body)).status).toBe(200);
    options = { secrets: [SECRET], maxBodyBytes: 10 };
    const big = await fetch(url, { method: "POST", headers: signedHeaders(body), body }).then(
      (r) => r.status,
      () => "reset",
    );
    expect([401, "reset"]).toContain(big);
  });
});

describe("verifyWebhookRequest with a fetch Request", () => {
  it("verifies a Request object", async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const request = new Request("http://receiver.invalid/in", {
      method: "POST",
      headers: signedHeaders(body, 1_700_000_000),
      body,
    });
    const verified = await verifyWebhookRequest(request, { secrets: SECRET, clock });
    expect(verified).toMatchObject({ scheme: "standard", id: "msg_42", timestamp: 1_700_000_000 });

    const tampered = new Request("http://receiver.invalid/in", {
      method: "POST",
      headers: signedHeaders(body, 1_700_000_000),
      body: "{}",
    });
    await expect(verifyWebhookRequest(tampered, { secrets: SECRET, clock })).rejects.toMatchObject({
      reason: "invalid_signature",
      code: "ERR_WEBHOOK_VERIFICATION",
    });
  });
});
