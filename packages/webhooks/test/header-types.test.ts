// What signStandardWebhook() returns goes straight into fetch, node:http, undici and
// verifyStandardWebhook(), with no spread or cast. `pnpm typecheck` compiles this file,
// so the expectTypeOf lines fail the type check if a type loses that property; the
// tests then send real requests to a loopback server.
import http from "node:http";
import type { AddressInfo } from "node:net";
import {
  type DestinationOptions,
  type DispatchPendingOptions,
  type HeaderSource,
  type InMemoryInboxStoreOptions,
  type InMemoryOutboxStoreOptions,
  type KyselyInboxStoreOptions,
  type KyselyOutboxStoreOptions,
  type MarkDeadLettersOptions,
  type MigrateWebhookTablesOptions,
  type OutboxEnqueueOptions,
  type OutboxMessage,
  type OutboxTickOptions,
  type ResolvedAddress,
  type StandardWebhookHeaders,
  type StandardWebhookMessage,
  signStandardWebhook,
  type VerifiedStandardWebhook,
  type VerifiedWebhookRequest,
  type VerifyStandardWebhookOptions,
  type VerifyWebhookRequestOptions,
  verifyStandardWebhook,
  verifyWebhookRequest,
  type WebhookHandlerOptions,
  type WebhookJobPayload,
} from "@svc-jobs/webhooks";
import { type Dispatcher, request as undiciRequest } from "undici";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const body = JSON.stringify({ order_id: 42, total: "9.99" });

function sign(id: string): StandardWebhookHeaders {
  return signStandardWebhook(secret, { id, timestamp: new Date(), body });
}

describe("header and options types", () => {
  it("the signed headers are a plain record every HTTP client takes", () => {
    const headers = sign("msg_types");
    expectTypeOf(headers).toExtend<Record<string, string>>();
    expectTypeOf(headers).toExtend<NonNullable<RequestInit["headers"]>>();
    expectTypeOf(headers).toExtend<http.OutgoingHttpHeaders>();
    expectTypeOf(headers).toExtend<NonNullable<Dispatcher.DispatchOptions["headers"]>>();
    expectTypeOf(headers).toExtend<HeaderSource>();
    expectTypeOf<http.IncomingHttpHeaders>().toExtend<HeaderSource>();
    expectTypeOf<http.OutgoingHttpHeaders>().toExtend<HeaderSource>();
    expectTypeOf<Headers>().toExtend<HeaderSource>();
    expect(Object.keys(headers).sort()).toEqual([
      "webhook-id",
      "webhook-signature",
      "webhook-timestamp",
    ]);
  });

  it("every options and result type is a plain object type", () => {
    // Assignable to Record<string, unknown>: loggers, config loaders and spreads take them.
    expectTypeOf<StandardWebhookHeaders>().toExtend<Record<string, unknown>>();
    expectTypeOf<StandardWebhookMessage>().toExtend<Record<string, unknown>>();
    expectTypeOf<VerifyStandardWebhookOptions>().toExtend<Record<string, unknown>>();
    expectTypeOf<VerifiedStandardWebhook>().toExtend<Record<string, unknown>>();
    expectTypeOf<VerifyWebhookRequestOptions>().toExtend<Record<string, unknown>>();
    expectTypeOf<VerifiedWebhookRequest>().toExtend<Record<string, unknown>>();
    expectTypeOf<WebhookHandlerOptions>().toExtend<Record<string, unknown>>();
    expectTypeOf<WebhookJobPayload>().toExtend<Record<string, unknown>>();
    expectTypeOf<OutboxTickOptions>().toExtend<Record<string, unknown>>();
    expectTypeOf<MarkDeadLettersOptions>().toExtend<Record<string, unknown>>();
    expectTypeOf<OutboxMessage>().toExtend<Record<string, unknown>>();
    expectTypeOf<OutboxEnqueueOptions>().toExtend<Record<string, unknown>>();
    expectTypeOf<DispatchPendingOptions>().toExtend<Record<string, unknown>>();
    expectTypeOf<KyselyOutboxStoreOptions>().toExtend<Record<string, unknown>>();
    expectTypeOf<KyselyInboxStoreOptions>().toExtend<Record<string, unknown>>();
    expectTypeOf<InMemoryOutboxStoreOptions>().toExtend<Record<string, unknown>>();
    expectTypeOf<InMemoryInboxStoreOptions>().toExtend<Record<string, unknown>>();
    expectTypeOf<MigrateWebhookTablesOptions>().toExtend<Record<string, unknown>>();
    expectTypeOf<DestinationOptions>().toExtend<Record<string, unknown>>();
    expectTypeOf<ResolvedAddress>().toExtend<Record<string, unknown>>();
  });
});

describe("signed headers over real HTTP", () => {
  type Received = { ok: boolean; id?: string; scheme?: string; error?: string };
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    // Verifies each request twice: by hand from req.headers, then with verifyWebhookRequest.
    server = http.createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const raw = Buffer.concat(chunks);
      let reply: Received;
      try {
        const { id } = verifyStandardWebhook(raw, req.headers, { secrets: secret });
        const verified = await verifyWebhookRequest(req, { secrets: secret, body: raw });
        reply = { ok: verified.id === id, id, scheme: verified.scheme };
      } catch (error) {
        reply = { ok: false, error: String(error) };
      }
      res.writeHead(reply.ok ? 200 : 401, { "content-type": "application/json" });
      res.end(JSON.stringify(reply));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("fetch(url, { headers: signStandardWebhook(...) })", async () => {
    const response = await fetch(url, { method: "POST", headers: sign("msg_fetch"), body });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, id: "msg_fetch", scheme: "standard" });
  });

  it("new Headers(signStandardWebhook(...)) and new Request(url, { headers })", async () => {
    const response = await fetch(
      new Request(url, { method: "POST", headers: new Headers(sign("msg_request")), body }),
    );
    expect(await response.json()).toEqual({ ok: true, id: "msg_request", scheme: "standard" });
  });

  it("http.request({ headers: signStandardWebhook(...) })", async () => {
    const headers = sign("msg_http");
    const reply = await new Promise<{ status: number; body: Received }>((resolve, reject) => {
      const req = http.request(url, { method: "POST", headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Received,
          }),
        );
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(body);
    });
    expect(reply).toEqual({
      status: 200,
      body: { ok: true, id: "msg_http", scheme: "standard" },
    });
  });

  it("undici.request(url, { headers: signStandardWebhook(...) })", async () => {
    const response = await undiciRequest(url, {
      method: "POST",
      headers: sign("msg_undici"),
      body,
    });
    expect(response.statusCode).toBe(200);
    expect(await response.body.json()).toEqual({ ok: true, id: "msg_undici", scheme: "standard" });
  });

  it("a tampered body is refused, so the server really verifies", async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: sign("msg_tampered"),
      body: body.replace("9.99", "0.01"),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as Received).error).toMatch(/no webhook-signature matches/);
  });

  it("verifyStandardWebhook(body, signStandardWebhook(...)) and other header shapes", () => {
    const headers = sign("msg_direct");
    expect(verifyStandardWebhook(body, headers, { secrets: secret }).id).toBe("msg_direct");
    expect(verifyStandardWebhook(body, new Headers(headers), { secrets: secret }).id).toBe(
      "msg_direct",
    );
    const outgoing: http.OutgoingHttpHeaders = {
      ...headers,
      "content-length": Buffer.byteLength(body),
      "x-tags": ["a", "b"],
    };
    expect(verifyStandardWebhook(body, outgoing, { secrets: secret }).id).toBe("msg_direct");
    const upperCase = {
      "Webhook-Id": headers["webhook-id"],
      "Webhook-Timestamp": Number(headers["webhook-timestamp"]),
      "Webhook-Signature": [headers["webhook-signature"]],
    };
    expect(verifyStandardWebhook(body, upperCase, { secrets: secret }).id).toBe("msg_direct");
  });
});
