import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { InMemoryJobQueue, WorkerRunner } from "@svc-jobs/core";
import {
  InMemoryInboxStore,
  InMemoryOutboxStore,
  KyselyInboxStore,
  KyselyOutboxStore,
  makeOutboxTick,
  makeWebhookHandler,
  migrateWebhookTables,
  type OutboxStore,
} from "@svc-jobs/webhooks";
import { afterAll, beforeAll, beforeEach, expect } from "vitest";
import { createUsersTable, type TestDatabase } from "./databases.js";
import { startReceiver } from "./receiver.js";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/** Registers an SDK with an in-memory exporter for the test file. */
export function useSpans(): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    );
  });
  beforeEach(() => exporter.reset());
  afterAll(() => {
    trace.disable();
    context.disable();
  });
  return exporter;
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A request span writes a business row and an outbox message in one transaction (or to
 * the in-memory outbox); later, in another trace, the relay moves it into the queue and a
 * worker delivers it to a receiver on loopback that answers 500 once. The receiver must
 * see `traceparent`s of the request's trace, each naming the delivery's CLIENT span.
 */
export async function runTracedOutbox(
  exporter: InMemorySpanExporter,
  create: (() => Promise<TestDatabase>) | "memory",
): Promise<void> {
  const t = create === "memory" ? undefined : await create();
  const receiver = await startReceiver(SECRET);
  const queue = new InMemoryJobQueue();
  const outbox: OutboxStore = t ? new KyselyOutboxStore(t.db) : new InMemoryOutboxStore();
  const handler = makeWebhookHandler({
    outbox,
    inbox: t ? new KyselyInboxStore(t.db) : new InMemoryInboxStore(),
    getWebhookUrlForTopic: () => receiver.url,
    getSecretForTopic: () => SECRET,
    allowPrivateNetworks: true, // the receiver runs on 127.0.0.1
  });
  const runner = new WorkerRunner(queue, handler, { pollIntervalSeconds: 0.02 });
  const tracer = trace.getTracer("test");
  try {
    if (t) {
      await migrateWebhookTables(t.db);
      await createUsersTable(t.db);
    }
    const message = await tracer.startActiveSpan("POST /signup", async (request) => {
      try {
        if (!t) return await outbox.enqueue("user.created", { user_id: 1 });
        return await t.db.transaction().execute(async (trx) => {
          await trx.insertInto("users").values({ id: 1, email: "u1@example.com" }).execute();
          return outbox.enqueue("user.created", { user_id: 1 }, { trx });
        });
      } finally {
        request.end();
      }
    });
    const request = exporter.getFinishedSpans().find((s) => s.name === "POST /signup");
    const traceId = request?.spanContext().traceId as string;
    expect(message.traceContext?.traceparent).toBe(
      `00-${traceId}-${request?.spanContext().spanId}-01`,
    );
    expect((await outbox.get(message.id))?.traceContext).toEqual(message.traceContext);

    // The relay runs later, from a scheduler, in a trace of its own.
    const tick = makeOutboxTick({ outbox, queue, jobOptions: { backoffSeconds: 0.05 } });
    const moved = await tracer.startActiveSpan("outbox tick", async (span) => {
      try {
        return await tick();
      } finally {
        span.end();
      }
    });
    expect(moved).toBe(1);

    receiver.failNext(1, 500);
    const done = runner.start();
    await until("the webhook was delivered", () => receiver.accepted().length === 1);
    await until("the delivery job settled", () => runner.activeCount === 0);
    await runner.stop();
    await done;

    const spans = exporter.getFinishedSpans();
    const named = (name: string) => spans.filter((s) => s.name === name);
    const [tickSpan] = named("outbox tick");
    const [relay] = named("enqueue memory");
    // The relay's span belongs to the tick's trace and links to the row's context.
    expect(relay?.spanContext().traceId).toBe(tickSpan?.spanContext().traceId);
    expect(relay?.links.map((l) => l.context.spanId)).toEqual([request?.spanContext().spanId]);

    // Both attempts: CONSUMER spans in the request's trace, each with a CLIENT span.
    const runs = named("process memory");
    const posts = named("POST");
    expect(runs).toHaveLength(2);
    expect(posts).toHaveLength(2);
    for (const run of runs) {
      expect(run.kind).toBe(SpanKind.CONSUMER);
      expect(run.spanContext().traceId).toBe(traceId);
      expect(run.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);
    }
    const parentRun = (post: ReadableSpan) =>
      runs.find((r) => r.spanContext().spanId === post.parentSpanContext?.spanId);
    for (const post of posts) {
      expect(post.kind).toBe(SpanKind.CLIENT);
      expect(post.spanContext().traceId).toBe(traceId);
      expect(parentRun(post)).toBeDefined();
      expect(post.attributes).toMatchObject({
        "http.request.method": "POST",
        "url.full": receiver.url,
        "server.address": "127.0.0.1",
        "server.port": receiver.port,
        "svc_jobs.webhook.topic": "user.created",
        "svc_jobs.webhook.event_id": message.id,
      });
    }
    const [failed, delivered] = posts;
    expect(failed?.attributes["http.response.status_code"]).toBe(500);
    expect(failed?.attributes["error.type"]).toBe("ERR_WEBHOOK_DELIVERY");
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(delivered?.attributes["http.response.status_code"]).toBe(204);
    expect(delivered?.attributes["http.request.resend_count"]).toBe(1);
    expect(delivered?.status.code).toBe(SpanStatusCode.UNSET);

    // What the receiver saw: the trace of the request, the CLIENT span as parent.
    const seen = receiver.requests.map((r) => r.headers.traceparent);
    expect(seen).toEqual(posts.map((p) => `00-${traceId}-${p.spanContext().spanId}-01`));
    expect((await outbox.get(message.id))?.status).toBe("processed");
  } finally {
    await runner.stop();
    await handler.close();
    await receiver.close();
    await t?.destroy();
  }
}
