import { context, ROOT_CONTEXT, type Span, TraceFlags, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { InMemoryJobQueue, type JobTraceContext, processOne } from "@svc-jobs/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// `@opentelemetry/api` installed (as it often is, through another library) and a context
// manager registered, but no SDK: svc-jobs makes no spans and passes the context on
// (docs/tracing.md).
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
afterAll(() => {
  context.disable();
});

const REQUEST = trace.wrapSpanContext({
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  spanId: "00f067aa0ba902b7",
  traceFlags: TraceFlags.SAMPLED,
  isRemote: true,
});
const REQUEST_TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

function inSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(ROOT_CONTEXT, span), fn);
}

describe("tracing with @opentelemetry/api but no SDK", () => {
  it("an enqueue records the active context; the handler runs in it, so its enqueues record it too", async () => {
    const queue = new InMemoryJobQueue();
    const job = await inSpan(REQUEST, () => queue.enqueue("parent", {}));
    expect(job.traceContext).toEqual({ traceparent: REQUEST_TRACEPARENT });
    let seen: JobTraceContext | undefined;
    expect(
      await processOne(queue, async () => {
        seen = (await queue.enqueue("child", {})).traceContext;
      }),
    ).toBe(true);
    expect(seen).toEqual({ traceparent: REQUEST_TRACEPARENT });
  });

  it("a job without a context runs in the root context, not the worker's", async () => {
    const queue = new InMemoryJobQueue();
    await queue.enqueue("plain", {});
    let active: unknown = "not run";
    // The worker itself runs inside a trace: the job must not join it.
    await inSpan(REQUEST, () =>
      processOne(queue, () => {
        active = trace.getSpanContext(context.active());
      }),
    );
    expect(active).toBeUndefined();
  });
});
