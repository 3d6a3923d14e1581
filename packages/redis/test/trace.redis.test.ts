import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { RedisJobQueue } from "@svc-jobs/redis";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { svcInfra } from "./interop/svc-infra.js";

// One trace from enqueue to ack across two OS processes (docs/tracing.md): this process
// enqueues inside a request span with its own SDK; a worker process with another SDK runs
// the jobs and reports its spans; the trace ids must join.
const redis = redisFixture(Redis);
const py = svcInfra(() => redis.url);
const exporter = new InMemorySpanExporter();

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
});
afterAll(() => {
  trace.disable();
  context.disable();
});

interface ExportedSpan {
  name: string;
  kind: SpanKind;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  links: string[];
  attributes: Record<string, unknown>;
  status: { code: SpanStatusCode; message?: string };
  events: string[];
}

const script = fileURLToPath(new URL("./fixtures/traced-worker-process.ts", import.meta.url));
const cwd = fileURLToPath(new URL("..", import.meta.url));

/** Runs the traced worker process until `count` jobs settled; resolves with its spans. */
function runWorker(prefix: string, count: number): Promise<ExportedSpan[]> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--conditions=@svc-jobs/source", "--import", "tsx", script],
    {
      cwd,
      env: { ...process.env, REDIS_URL: redis.url, PREFIX: prefix, COUNT: String(count) },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk) => {
    out += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    err += chunk;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`worker exited with ${code}: ${err}`));
      resolve(
        (JSON.parse(out.trim().split("\n").at(-1) as string) as { spans: ExportedSpan[] }).spans,
      );
    });
  });
}

describe("one trace across two processes on Redis", () => {
  it("enqueue in a request span here; each attempt is a CONSUMER span of the same trace in the worker process", async () => {
    exporter.reset();
    const prefix = redis.prefix("trace");
    const queue = new RedisJobQueue(redis.client, { prefix });
    const job = await trace.getTracer("test").startActiveSpan("POST /orders", async (request) => {
      try {
        return await queue.enqueue("flaky", { order: 42 }, { backoffSeconds: 0.05 });
      } finally {
        request.end();
      }
    });
    const request = exporter.getFinishedSpans().find((s) => s.name === "POST /orders");
    const producer = exporter.getFinishedSpans().find((s) => s.name === `enqueue ${prefix}`);
    const traceId = request?.spanContext().traceId;
    expect(producer?.kind).toBe(SpanKind.PRODUCER);
    expect(producer?.spanContext().traceId).toBe(traceId);
    expect(producer?.attributes["messaging.message.id"]).toBe(job.id);
    // The context is on the job's hash, where any process reads it.
    expect(await redis.client.hget(`${prefix}:job:${job.id}`, "svc_jobs_traceparent")).toBe(
      `00-${traceId}-${producer?.spanContext().spanId}-01`,
    );

    const spans = await runWorker(prefix, 2);
    const runs = spans.filter((s) => s.name === `process ${prefix}`);
    expect(runs).toHaveLength(2);
    for (const run of runs) {
      expect(run.kind).toBe(SpanKind.CONSUMER);
      expect(run.traceId).toBe(traceId);
      expect(run.parentSpanId).toBe(producer?.spanContext().spanId);
      expect(run.links).toEqual([producer?.spanContext().spanId]);
      expect(run.attributes).toMatchObject({
        "messaging.system": "svc-jobs",
        "messaging.destination.name": prefix,
        "messaging.message.id": job.id,
        "messaging.svc_jobs.job.name": "flaky",
      });
    }
    const [first, second] = runs;
    expect(first?.attributes["messaging.svc_jobs.attempt"]).toBe(1);
    expect(first?.attributes["messaging.svc_jobs.outcome"]).toBe("failed");
    expect(first?.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: "payment gateway timed out",
    });
    expect(first?.events).toEqual(["exception"]);
    expect(second?.attributes["messaging.svc_jobs.attempt"]).toBe(2);
    expect(second?.attributes["messaging.svc_jobs.outcome"]).toBe("completed");
    expect(second?.status.code).toBe(SpanStatusCode.UNSET);
    // Acked: the job is gone.
    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 0 });
    await queue.close();
  }, 60_000);

  it("a job a Python svc-infra producer enqueued (no context) runs in a new root span, without error", async () => {
    const prefix = redis.prefix("trace-py");
    await py(prefix, "enqueue", "from-python", JSON.stringify({ n: 1 }));
    const [run] = (await runWorker(prefix, 1)).filter((s) => s.name === `process ${prefix}`);
    expect(run?.parentSpanId).toBeNull();
    expect(run?.links).toEqual([]);
    expect(run?.attributes["messaging.svc_jobs.outcome"]).toBe("completed");
    expect(run?.status.code).toBe(SpanStatusCode.UNSET);
  }, 60_000);

  it("enqueueMany writes each job's context; a batch of traced jobs takes the general script path", async () => {
    const prefix = redis.prefix("trace-many");
    const queue = new RedisJobQueue(redis.client, { prefix });
    const given = {
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      tracestate: "vendor=x",
    };
    const jobs = await queue.enqueueMany([
      { name: "a", payload: {}, opts: { traceContext: given, delaySeconds: 60 } },
      { name: "b", payload: {} },
    ]);
    expect(
      await redis.client.hmget(
        `${prefix}:job:${jobs[0]?.id}`,
        "svc_jobs_traceparent",
        "svc_jobs_tracestate",
      ),
    ).toEqual([given.traceparent, given.tracestate]);
    expect((await queue.getJob(jobs[0]!.id))?.traceContext).toEqual(given);
    expect((await queue.reserveNext())?.traceContext?.traceparent).toMatch(
      /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/,
    );
    await queue.close();
  });
});
