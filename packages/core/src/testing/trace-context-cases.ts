import { AsyncLocalStorage } from "node:async_hooks";
import type { Context, ContextManager } from "@opentelemetry/api";
import { expect, it } from "vitest";
import { loadOtelApi, type OtelApiModule } from "../load-otel-api.js";
import type { SuiteContext } from "./context.js";

const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACE = { traceparent: TRACEPARENT, tracestate: "vendor=abc,other=1" };

/**
 * The trace context travels with the job (docs/tracing.md): what an enqueue records, every
 * reservation of the job returns, on every backend. The first cases need nothing but the
 * backend; the last needs `@opentelemetry/api` (registered only when it resolves).
 */
export function traceContextCases(ctx: SuiteContext): void {
  it("a job enqueued with a traceContext carries it through reserve, a retry and getJob", async () => {
    const { queue, clock } = await ctx.make();
    const job = await queue.enqueue("traced", { n: 1 }, { traceContext: TRACE, backoffSeconds: 1 });
    expect(job.traceContext).toEqual(TRACE);
    const first = await queue.reserveNext();
    expect(first?.traceContext).toEqual(TRACE);
    await queue.fail(first!, new Error("boom"));
    clock.advance(2);
    const second = await queue.reserveNext();
    expect(second?.attempts).toBe(2);
    expect(second?.traceContext).toEqual(TRACE);
    expect((await queue.getJob(job.id))?.traceContext).toEqual(TRACE);
  });

  it("the context survives the dead letter queue and a requeue from it", async () => {
    const { queue } = await ctx.make();
    const job = await queue.enqueue("doomed", {}, { traceContext: TRACE, maxAttempts: 1 });
    await queue.fail((await queue.reserveNext())!, new Error("fatal"));
    const [dead] = await queue.dlq.list();
    expect(dead?.traceContext).toEqual(TRACE);
    expect(await queue.dlq.requeue(job.id)).toBe(true);
    expect((await queue.reserveNext())?.traceContext).toEqual(TRACE);
  });

  it("enqueueMany keeps each job's own context; a job without one has none", async () => {
    const { queue } = await ctx.make();
    const other = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00" };
    await queue.enqueueMany([
      { name: "a", payload: {}, opts: { traceContext: TRACE } },
      { name: "b", payload: {} },
      { name: "c", payload: {}, opts: { traceContext: other } },
    ]);
    const jobs = [await queue.reserveNext(), await queue.reserveNext(), await queue.reserveNext()];
    const byName = Object.fromEntries(jobs.map((j) => [j?.name, j?.traceContext]));
    expect(byName.a).toEqual(TRACE);
    expect(byName.c).toEqual(other);
    // With @opentelemetry/api and no active trace nothing is recorded either.
    expect(byName.b).toBeUndefined();
  });

  it("a job enqueued outside any trace has no traceContext", async () => {
    const { queue } = await ctx.make();
    await queue.enqueue("plain", {});
    const job = await queue.reserveNext();
    expect(job?.traceContext).toBeUndefined();
  });

  it("a dedupe hit returns the stored job with its own context, never the caller's", async () => {
    const { queue } = await ctx.make();
    const other = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" };
    const first = await queue.enqueue("charge", {}, { dedupeKey: "k1", traceContext: TRACE });
    const again = await queue.enqueue("charge", {}, { dedupeKey: "k1", traceContext: other });
    expect(again.id).toBe(first.id);
    expect(again.traceContext).toEqual(TRACE);
    // A job enqueued without a context keeps having none.
    const untraced = await queue.enqueue("charge", {}, { dedupeKey: "k2" });
    const hit = await queue.enqueue("charge", {}, { dedupeKey: "k2", traceContext: other });
    expect(hit.id).toBe(untraced.id);
    expect(hit.traceContext).toBeUndefined();
    // enqueueMany: a hit on an earlier job, and one on a job of the same call.
    const [earlier, fresh, same] = await queue.enqueueMany([
      { name: "charge", payload: {}, opts: { dedupeKey: "k1", traceContext: other } },
      { name: "charge", payload: {}, opts: { dedupeKey: "k3", traceContext: TRACE } },
      { name: "charge", payload: {}, opts: { dedupeKey: "k3", traceContext: other } },
    ]);
    expect(earlier?.id).toBe(first.id);
    expect(earlier?.traceContext).toEqual(TRACE);
    expect(same?.id).toBe(fresh?.id);
    expect(fresh?.traceContext).toEqual(TRACE);
    expect(same?.traceContext).toEqual(TRACE);
    // What the queue holds is the first enqueue's context too.
    expect((await queue.getJob(first.id))?.traceContext).toEqual(TRACE);
    expect((await queue.getJob(untraced.id))?.traceContext).toBeUndefined();
  });

  it("a bad traceContext is refused before anything is written", async () => {
    const { queue } = await ctx.make();
    await expect(
      queue.enqueue("x", {}, { traceContext: { traceparent: "not-a-traceparent" } }),
    ).rejects.toMatchObject({ code: "ERR_JOB_VALIDATION", field: "opts.traceContext.traceparent" });
    expect((await queue.stats()).ready).toBe(0);
  });

  const api = loadOtelApi();
  // Registered only where the API resolves (CI refuses skipped tests).
  if (api === undefined) return;
  it("with @opentelemetry/api, an enqueue inside an active trace records that trace on the job", async () => {
    const otel = api as OtelApiModule;
    const { queue } = await ctx.make();
    const parent = otel.trace.setSpanContext(otel.ROOT_CONTEXT, {
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: otel.TraceFlags.SAMPLED,
      isRemote: true,
      traceState: otel.createTraceState("vendor=abc"),
    });
    await withActiveContext(otel, parent, () => queue.enqueue("traced", {}));
    const job = await queue.reserveNext();
    // The producer span's id when a tracer provider is registered, else the parent's.
    expect(job?.traceContext?.traceparent).toMatch(
      /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/,
    );
    expect(job?.traceContext?.tracestate).toBe("vendor=abc");
  });
}

/**
 * Runs `fn` with `active` as the active context: through the registered context manager,
 * or, when none is (a test process without an SDK), through one made for the call.
 */
async function withActiveContext<T>(
  api: OtelApiModule,
  active: Context,
  fn: () => Promise<T>,
): Promise<T> {
  const manager = new AsyncLocalContextManager(api.ROOT_CONTEXT);
  const registered = api.context.setGlobalContextManager(manager);
  try {
    return await api.context.with(active, fn);
  } finally {
    if (registered) api.context.disable();
  }
}

/** The smallest context manager that follows async calls (AsyncLocalStorage). */
class AsyncLocalContextManager implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Context>();
  readonly #root: Context;
  constructor(root: Context) {
    this.#root = root;
  }
  active(): Context {
    return this.#storage.getStore() ?? this.#root;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.#storage.run(context, () => fn.apply(thisArg, args));
  }
  bind<T>(_context: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#storage.disable();
    return this;
  }
}
