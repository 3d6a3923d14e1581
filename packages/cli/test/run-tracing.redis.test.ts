import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisJobQueue } from "@svc-jobs/redis";
import { uniquePrefix } from "@svc-jobs/test-servers";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { runBin } from "./helpers.js";

const redis = redisFixture(Redis);

const REGISTRY = "./test/fixtures/registry-handlers.mjs";
const PRELOAD = "./test/fixtures/otel-preload.mjs";
// The producer's context, as a web request's enqueue records it (docs/tracing.md).
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PRODUCER_SPAN = "00f067aa0ba902b7";
const TRACEPARENT = `00-${TRACE_ID}-${PRODUCER_SPAN}-01`;

interface ExportedSpan {
  name: string;
  kind: number;
  traceId: string;
  parentSpanId?: string;
  links: string[];
  attributes: Record<string, unknown>;
  status: { code: number };
}

describe("svc-jobs run with an OpenTelemetry SDK preloaded", () => {
  it("runs each job in a CONSUMER span of the producer's trace and exports the spans before it exits", async () => {
    const prefix = uniquePrefix("runtrace");
    const queue = new RedisJobQueue(redis.client, { prefix });
    try {
      // Fails both of its attempts: two CONSUMER spans of the producer's trace.
      await queue.enqueue(
        "work",
        { fail: "down" },
        { traceContext: { traceparent: TRACEPARENT }, maxAttempts: 2, backoffSeconds: 0 },
      );
      await queue.enqueue("work", {});
    } finally {
      await queue.close();
    }
    const spansFile = join(await mkdtemp(join(tmpdir(), "svc-jobs-spans-")), "spans.jsonl");
    const out = await runBin(["run", "--handlers", REGISTRY, "--max-jobs", "3"], {
      JOBS_DRIVER: "redis",
      REDIS_URL: redis.url,
      JOBS_PREFIX: prefix,
      NODE_OPTIONS: `--import ${PRELOAD}`,
      SPANS_FILE: spansFile,
    });
    expect(out.code, out.stderr).toBe(0);

    // The preload's batch processor waits a minute: these lines exist because the command
    // flushed the SDK on its way out.
    const spans = readFileSync(spansFile, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as ExportedSpan);
    const traced = spans.filter((s) => s.traceId === TRACE_ID);
    expect(traced).toHaveLength(2);
    for (const span of traced) {
      expect(span).toMatchObject({
        name: `process ${prefix}`,
        kind: 4, // CONSUMER
        parentSpanId: PRODUCER_SPAN,
        links: [PRODUCER_SPAN],
        attributes: {
          "messaging.system": "svc-jobs",
          "messaging.operation.type": "process",
          "messaging.destination.name": prefix,
          "messaging.svc_jobs.job.name": "work",
          "messaging.svc_jobs.outcome": "failed",
          "error.type": "Error",
        },
        status: { code: 2 },
      });
    }
    // Each attempt is a span of its own, side by side under the producer.
    expect(traced.map((s) => s.attributes["messaging.svc_jobs.attempt"]).sort()).toEqual([1, 2]);
    // The job enqueued without a context (as Python svc-infra enqueues) is a root span of its own.
    const root = spans.filter((s) => s.traceId !== TRACE_ID);
    expect(root).toHaveLength(1);
    expect(root[0]).toMatchObject({
      name: `process ${prefix}`,
      links: [],
      attributes: { "messaging.svc_jobs.outcome": "completed" },
      status: { code: 0 },
    });
    expect(root[0]?.parentSpanId).toBeUndefined();
  });
});
