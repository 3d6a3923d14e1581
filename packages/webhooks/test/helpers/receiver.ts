import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type VerifiedWebhookRequest, verifyWebhookRequest } from "@svc-jobs/webhooks";
import { Webhook } from "standardwebhooks";

/** One request the receiver got. */
export interface ReceivedRequest {
  headers: IncomingMessage["headers"];
  body: string;
  /** What the receiver answered; `"hung"` when it never answered. */
  outcome: number | "hung";
  verified: VerifiedWebhookRequest | null;
  /** The reference Standard Webhooks library accepted the request too. */
  referenceVerified: boolean;
}

/**
 * A real webhook receiver on 127.0.0.1 that verifies every request (with this
 * package and with the reference `standardwebhooks` library) and fails on demand.
 */
export interface Receiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Requests answered 2xx, i.e. deliveries the receiver accepted. */
  accepted(): ReceivedRequest[];
  /** Answer the next `count` requests with `status`. */
  failNext(count: number, status: number): void;
  /** Never answer the next `count` requests (until close). */
  hangNext(count: number): void;
  /** TCP connections opened so far. */
  connections(): number;
  close(): Promise<void>;
}

export async function startReceiver(
  secret: string,
  options: { headerName?: string } = {},
): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const plan: (number | "hang")[] = [];
  const hung: IncomingMessage[] = [];
  let connections = 0;
  const reference = secret.startsWith("whsec_") ? new Webhook(secret) : null;
  const server: Server = createServer(async (req, res) => {
    let verified: VerifiedWebhookRequest | null = null;
    let body = "";
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      body = Buffer.concat(chunks).toString("utf8");
      verified = await verifyWebhookRequest(req, {
        secrets: [secret],
        body,
        scheme: "hmac",
        headerName: options.headerName,
      });
      await verifyWebhookRequest(req, { secrets: [secret], body, scheme: "standard" });
    } catch {
      verified = null;
    }
    let referenceVerified = false;
    if (reference) {
      try {
        reference.verify(body, req.headers as Record<string, string>);
        referenceVerified = true;
      } catch {
        referenceVerified = false;
      }
    }
    const step = plan.shift();
    const record: ReceivedRequest = {
      headers: req.headers,
      body,
      outcome: 0,
      verified,
      referenceVerified,
    };
    requests.push(record);
    if (step === "hang") {
      record.outcome = "hung";
      hung.push(req);
      return;
    }
    const status = verified ? (step ?? 204) : 401;
    record.outcome = status;
    res.writeHead(status).end();
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    port,
    requests,
    accepted: () =>
      requests.filter((r) => typeof r.outcome === "number" && r.outcome >= 200 && r.outcome < 300),
    failNext(count, status) {
      for (let i = 0; i < count; i++) plan.push(status);
    },
    hangNext(count) {
      for (let i = 0; i < count; i++) plan.push("hang");
    },
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const req of hung) req.socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
