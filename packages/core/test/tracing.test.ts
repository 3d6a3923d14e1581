import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import {
  InMemoryJobQueue,
  type Job,
  type JobQueue,
  processOne,
  RateLimitError,
  WorkerRunner,
} from "@svc-jobs/core";
import { describe, expect, it } from "vitest";
import { parentOf, useInMemorySpans } from "./helpers/otel.js";
import { until } from "./helpers/wait.js";

const otel = useInMemorySpans();
const tracer = trace.getTracer("test");

function byName(name: string) {
  return otel.spans().filter((s) => s.name === name);
}

/** Runs a worker until `count` jobs settled. */
async function work(queue: JobQueue, handler: (job: Job) => unknown, count: number) {
  let settled = 0;
  const runner = new WorkerRunner(queue, handler, {
    pollIntervalSeconds: 0.01,
    onJobSettled: () => {
      settled++;
    },
  });
  const done = runner.start();
  await until(() => settled >= count);
  await runner.stop();
  await done;
}

describe("tracing with @opentelemetry/api and an SDK", () => {
  it("enqueue makes a PRODUCER span in the active trace and records its context on the job", async () => {
    const queue = new InMemoryJobQueue();
    const job = await tracer.startActiveSpan("POST /orders", async (request) => {
      try {
        return await queue.enqueue("send-email", { to: "a@example.com" });
      } finally {
        request.end();
      }
    });
    const [producer] = byName("enqueue memory");
    const [request] = byName("POST /orders");
    expect(producer?.kind).toBe(SpanKind.PRODUCER);
    expect(producer?.spanContext().traceId).toBe(request?.spanContext().traceId);
    expect(parentOf(producer!)).toBe(request?.spanContext().spanId);
    expect(producer?.attributes).toEqual({
      "messaging.system": "svc-jobs",
      "messaging.operation.type": "send",
      "messaging.operation.name": "enqueue",
      "messaging.destination.name": "memory",
      "messaging.svc_jobs.job.name": "send-email",
      "messaging.message.id": job.id,
    });
    const { traceId, spanId } = producer!.spanContext();
    expect(job.traceContext).toEqual({ traceparent: `00-${traceId}-${spanId}-01` });
  });

  it("the handler runs in a CONSUMER span, child of and linked to the producer, in the same trace", async () => {
    const queue = new InMemoryJobQueue();
    const job = await queue.enqueue("send-email", {});
    let activeInHandler: string | undefined;
    await work(
      queue,
      () => {
        activeInHandler = trace.getActiveSpan()?.spanContext().spanId;
      },
      1,
    );
    const [producer] = byName("enqueue memory");
    const [consumer] = byName("process memory");
    expect(consumer?.kind).toBe(SpanKind.CONSUMER);
    expect(consumer?.spanContext().traceId).toBe(producer?.spanContext().traceId);
    expect(parentOf(consumer!)).toBe(producer?.spanContext().spanId);
    expect(consumer?.links.map((l) => l.context.spanId)).toEqual([producer?.spanContext().spanId]);
    expect(activeInHandler).toBe(consumer?.spanContext().spanId);
    expect(consumer?.attributes).toMatchObject({
      "messaging.system": "svc-jobs",
      "messaging.operation.type": "process",
      "messaging.destination.name": "memory",
      "messaging.message.id": job.id,
      "messaging.svc_jobs.job.name": "send-email",
      "messaging.svc_jobs.attempt": 1,
      "messaging.svc_jobs.outcome": "completed",
    });
    expect(consumer?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("each retry is its own CONSUMER span of the same trace; errors are recorded on the span", async () => {
    const queue = new InMemoryJobQueue();
    await queue.enqueue("flaky", {}, { backoffSeconds: 0.01, maxAttempts: 3 });
    await work(
      queue,
      (job) => {
        if (job.attempts < 3) throw new TypeError(`attempt ${job.attempts} failed`);
      },
      3,
    );
    const [producer] = byName("enqueue memory");
    const runs = byName("process memory");
    expect(runs.map((s) => s.attributes["messaging.svc_jobs.attempt"])).toEqual([1, 2, 3]);
    expect(runs.map((s) => s.attributes["messaging.svc_jobs.outcome"])).toEqual([
      "failed",
      "failed",
      "completed",
    ]);
    for (const run of runs) {
      expect(run.spanContext().traceId).toBe(producer?.spanContext().traceId);
      expect(parentOf(run)).toBe(producer?.spanContext().spanId);
    }
    const first = runs[0]!;
    expect(first.status).toEqual({ code: SpanStatusCode.ERROR, message: "attempt 1 failed" });
    expect(first.attributes["error.type"]).toBe("TypeError");
    expect(first.events[0]?.name).toBe("exception");
    expect(first.events[0]?.attributes?.["exception.message"]).toBe("attempt 1 failed");
    expect(runs[2]?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("a timeout is an error; rate_limited and cancelled are outcomes, not errors", async () => {
    const queue = new InMemoryJobQueue();
    await queue.enqueue("slow", {}, { maxAttempts: 1 });
    await processOne(
      queue,
      (_job, { signal }) => new Promise((r) => signal.addEventListener("abort", r)),
      {
        timeoutSeconds: 0.02,
      },
    );
    const [timedOut] = byName("process memory");
    expect(timedOut?.attributes["messaging.svc_jobs.outcome"]).toBe("timeout");
    expect(timedOut?.attributes["error.type"]).toBe("ERR_JOB_TIMEOUT");
    expect(timedOut?.status.code).toBe(SpanStatusCode.ERROR);

    otel.spans().length = 0;
    await queue.enqueue("limited", {});
    await processOne(queue, () => {
      throw new RateLimitError({ retryAfterSeconds: 5 });
    });
    const limited = byName("process memory").at(-1);
    expect(limited?.attributes["messaging.svc_jobs.outcome"]).toBe("rate_limited");
    expect(limited?.attributes["messaging.svc_jobs.retry_after_seconds"]).toBe(5);
    expect(limited?.status.code).toBe(SpanStatusCode.UNSET);

    const cancelled = await queue.enqueue("long", {});
    await processOne(
      queue,
      async (_job, { signal }) => {
        await queue.cancel(cancelled.id, { reason: "user asked" });
        await new Promise((r) => signal.addEventListener("abort", r));
      },
      { cancelCheckSeconds: 0.01 },
    );
    const span = byName("process memory").at(-1);
    expect(span?.attributes["messaging.svc_jobs.outcome"]).toBe("cancelled");
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("a job enqueued by a handler joins the handler's trace", async () => {
    const queue = new InMemoryJobQueue();
    await queue.enqueue("order.placed", {});
    await work(
      queue,
      async (job) => {
        if (job.name === "order.placed") await queue.enqueue("send-receipt", {});
      },
      2,
    );
    const runs = byName("process memory");
    const enqueues = byName("enqueue memory");
    expect(new Set([...runs, ...enqueues].map((s) => s.spanContext().traceId)).size).toBe(1);
    const placed = runs.find((s) => s.attributes["messaging.svc_jobs.job.name"] === "order.placed");
    const second = enqueues.find(
      (s) => s.attributes["messaging.svc_jobs.job.name"] === "send-receipt",
    );
    expect(parentOf(second!)).toBe(placed?.spanContext().spanId);
  });

  it("a job without a context (a Python svc-infra producer's) gets a new root span", async () => {
    const queue = new InMemoryJobQueue();
    await queue.enqueue("from-python", {});
    // What a job svc-infra wrote looks like once reserved: no traceContext.
    const bare = new Proxy(queue, {
      get(target, key) {
        if (key === "reserveNext") {
          return async () => {
            const job = await target.reserveNext();
            return job && { ...job, traceContext: undefined };
          };
        }
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as JobQueue;
    otel.spans().length = 0;
    expect(await processOne(bare, () => "ok")).toBe(true);
    const [run] = byName("process memory");
    expect(parentOf(run!)).toBeUndefined();
    expect(run?.links).toEqual([]);
    expect(run?.attributes["messaging.svc_jobs.outcome"]).toBe("completed");
  });

  it("enqueueMany is one PRODUCER span; a traceContext given in the options is kept and linked", async () => {
    const queue = new InMemoryJobQueue();
    const given = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" };
    const jobs = await queue.enqueueMany([
      { name: "a", payload: {} },
      { name: "b", payload: {}, opts: { traceContext: given } },
    ]);
    const [producer] = byName("enqueue memory");
    expect(producer?.attributes["messaging.batch.message_count"]).toBe(2);
    expect(producer?.links.map((l) => l.context.spanId)).toEqual(["b7ad6b7169203331"]);
    expect(jobs[0]?.traceContext?.traceparent).toContain(producer?.spanContext().spanId);
    expect(jobs[1]?.traceContext).toEqual(given);
  });
});
