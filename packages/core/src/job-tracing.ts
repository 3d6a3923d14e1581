import type {
  Attributes,
  Context,
  Link,
  Span,
  SpanContext,
  Tracer,
  TracerProvider,
} from "@opentelemetry/api";
import type { Job } from "./job.js";
import { formatTraceparent, type JobTraceContext, parseTraceparent } from "./job-trace-context.js";
import { loadOtelApi, type OtelApiModule } from "./load-otel-api.js";
import type { PreparedEnqueue } from "./prepare-enqueue.js";
import type { JobSettledOutcome } from "./run-job.js";

/**
 * How svc-jobs traces jobs with OpenTelemetry (docs/tracing.md): a PRODUCER span per
 * enqueue call whose context each job records, and a CONSUMER span per attempt to run a
 * job, a child of the recorded context (and linked to it), following the messaging
 * semantic conventions. Everything here is a no-op when `@opentelemetry/api` is not
 * installed, and close to one when it is but no SDK registered a tracer provider: the
 * context is passed on, no span is made.
 */

/** `messaging.system` of every svc-jobs span. */
export const MESSAGING_SYSTEM = "svc-jobs";
/** The instrumentation scope of the queue and worker spans. */
const TRACER_NAME = "@svc-jobs/core";
/** `messaging.destination.name` of a queue that has no `name`. */
const DEFAULT_DESTINATION = "default";

/** The attribute names svc-jobs sets (docs/tracing.md lists them). */
export const TRACE_ATTRIBUTES = Object.freeze({
  system: "messaging.system",
  operationType: "messaging.operation.type",
  operationName: "messaging.operation.name",
  destination: "messaging.destination.name",
  messageId: "messaging.message.id",
  batchCount: "messaging.batch.message_count",
  errorType: "error.type",
  jobName: "messaging.svc_jobs.job.name",
  attempt: "messaging.svc_jobs.attempt",
  maxAttempts: "messaging.svc_jobs.max_attempts",
  outcome: "messaging.svc_jobs.outcome",
  retryAfter: "messaging.svc_jobs.retry_after_seconds",
});

/** The global tracer provider the cached tracer came from, and that tracer. */
let tracerCache: { provider: TracerProvider; tracer: Tracer } | undefined;

/**
 * The svc-jobs tracer of the registered SDK, or `undefined` when no SDK registered a tracer
 * provider (every span would be a non-recording one: svc-jobs then makes none and only
 * passes the context on). Looked up once per registration, not per job: the API's global
 * provider is a proxy object that is replaced only when the registration is (`trace.disable()`).
 */
function sdkTracer(api: OtelApiModule): Tracer | undefined {
  const provider = api.trace.getTracerProvider();
  if (tracerCache?.provider === provider) return tracerCache.tracer;
  const proxy = provider as { getDelegateTracer?: (name: string) => Tracer | undefined };
  // Not the API's proxy (never the case with api 1.x): ask the provider itself.
  const tracer =
    typeof proxy.getDelegateTracer === "function"
      ? proxy.getDelegateTracer(TRACER_NAME)
      : provider.getTracer(TRACER_NAME);
  if (tracer !== undefined) tracerCache = { provider, tracer };
  return tracer;
}

/**
 * Runs a backend's write of newly prepared jobs inside a PRODUCER span
 * (`enqueue {destination}`), and records the span's context on every prepared job that has
 * no `traceContext` of its own (one given in the enqueue options is kept, and the span
 * links to it). The span is a child of the active context, so an enqueue made while an
 * HTTP request is handled joins the request's trace. Without `@opentelemetry/api` it only
 * calls `write`; with the API but no SDK, it records the active context (if any) and
 * calls `write`.
 *
 * Every backend calls it from `enqueue` and `enqueueMany`, after validating and before
 * writing, and stores each `prepared[i].traceContext` with the job (docs/tracing.md).
 *
 * @param destination the queue's name (`queue.name`): `messaging.destination.name`
 *
 * @example
 * ```ts
 * const prepared = prepareEnqueue(name, payload, opts);
 * const [job] = await traceEnqueue(this.name, [prepared], () => this.#write([prepared]));
 * ```
 */
export function traceEnqueue<T extends { readonly id: string }>(
  destination: string | undefined,
  prepared: readonly PreparedEnqueue[],
  write: () => Promise<T[]>,
): Promise<T[]> {
  const api = loadOtelApi();
  if (api === undefined || prepared.length === 0) return write();
  const active = api.context.active();
  const tracer = sdkTracer(api);
  if (tracer === undefined) {
    // No SDK: no span to make; the active trace's context, if any, is what the jobs record.
    const spanContext = api.trace.getSpanContext(active);
    if (spanContext !== undefined && api.isSpanContextValid(spanContext)) {
      recordOn(prepared, traceContextOf(spanContext));
    }
    return write();
  }
  const queue = destination ?? DEFAULT_DESTINATION;
  const attributes: Attributes = {
    [TRACE_ATTRIBUTES.system]: MESSAGING_SYSTEM,
    [TRACE_ATTRIBUTES.operationType]: "send",
    [TRACE_ATTRIBUTES.operationName]: "enqueue",
    [TRACE_ATTRIBUTES.destination]: queue,
  };
  if (prepared.length > 1) attributes[TRACE_ATTRIBUTES.batchCount] = prepared.length;
  else attributes[TRACE_ATTRIBUTES.jobName] = (prepared[0] as PreparedEnqueue).name;
  const span = tracer.startSpan(
    `enqueue ${queue}`,
    { kind: api.SpanKind.PRODUCER, attributes, links: givenLinks(api, prepared) },
    active,
  );
  const spanContext = span.spanContext();
  if (api.isSpanContextValid(spanContext)) recordOn(prepared, traceContextOf(spanContext));
  if (!span.isRecording()) {
    // Sampled out: the context is recorded (unsampled, so the consumer's parent-based
    // sampler drops its span too); nothing to time.
    span.end();
    return write();
  }
  return api.context.with(api.trace.setSpan(active, span), write).then(
    (jobs) => {
      if (jobs.length === 1) span.setAttribute(TRACE_ATTRIBUTES.messageId, (jobs[0] as T).id);
      span.end();
      return jobs;
    },
    (error: unknown) => {
      recordError(api, span, error);
      span.end();
      throw error;
    },
  );
}

/** Sets `context` on every prepared job without a context of its own (one frozen object). */
function recordOn(prepared: readonly PreparedEnqueue[], context: JobTraceContext): void {
  Object.freeze(context);
  for (const p of prepared) p.traceContext ??= context;
}

/**
 * The producer span's links: one per distinct context given in the enqueue options (a
 * relay's batch often holds several messages written by one request); `undefined` when
 * none was given, the usual case.
 */
function givenLinks(api: OtelApiModule, prepared: readonly PreparedEnqueue[]): Link[] | undefined {
  let links: Link[] | undefined;
  let linked: Set<string> | undefined;
  for (const p of prepared) {
    const given = p.traceContext;
    if (given === undefined || linked?.has(given.traceparent)) continue;
    const context = remoteSpanContext(api, given);
    if (context === undefined) continue;
    links ??= [];
    linked ??= new Set();
    links.push({ context });
    linked.add(given.traceparent);
  }
  return links;
}

/** Internal: the CONSUMER span of one attempt to run a job, from {@link startProcessSpan}. */
export interface ProcessSpan {
  /** Calls `fn` with the span as the active context (what the handler runs in). */
  run<T>(fn: () => T): T;
  /** Records how the attempt ended and ends the span; later calls do nothing. */
  end(outcome: JobSettledOutcome, error?: unknown): void;
  /** Records that telling the queue failed (the ack or fail was lost) and ends the span. */
  settleFailed(outcome: JobSettledOutcome, error: unknown): void;
}

/**
 * Internal: starts the CONSUMER span (`process {destination}`) of one attempt to run `job`:
 * a child of the context the job recorded at enqueue, with a link to it, or a new root
 * span for a job without one (a Python svc-infra producer's). Every attempt gets its own
 * span in the same trace. `undefined` without `@opentelemetry/api`. With the API and no
 * SDK there is no span: the handler runs in the recorded context (so the jobs it enqueues
 * record it in turn), or in the root context for a job without one.
 */
export function startProcessSpan(
  job: Job,
  destination: string | undefined,
): ProcessSpan | undefined {
  const api = loadOtelApi();
  if (api === undefined) return undefined;
  const producer = job.traceContext ? remoteSpanContext(api, job.traceContext) : undefined;
  // Never the worker loop's own context: each job belongs to the trace that enqueued it.
  const parent = producer ? api.trace.setSpanContext(api.ROOT_CONTEXT, producer) : api.ROOT_CONTEXT;
  const tracer = sdkTracer(api);
  if (tracer === undefined) {
    if (producer) return new PassOn(api, parent);
    rootPassOn ??= new PassOn(api, api.ROOT_CONTEXT);
    return rootPassOn;
  }
  const queue = destination ?? DEFAULT_DESTINATION;
  const span = tracer.startSpan(
    `process ${queue}`,
    {
      kind: api.SpanKind.CONSUMER,
      attributes: {
        [TRACE_ATTRIBUTES.system]: MESSAGING_SYSTEM,
        [TRACE_ATTRIBUTES.operationType]: "process",
        [TRACE_ATTRIBUTES.operationName]: "process",
        [TRACE_ATTRIBUTES.destination]: queue,
        [TRACE_ATTRIBUTES.messageId]: job.id,
        [TRACE_ATTRIBUTES.jobName]: job.name,
        [TRACE_ATTRIBUTES.attempt]: job.attempts,
        [TRACE_ATTRIBUTES.maxAttempts]: job.maxAttempts,
      },
      links: producer ? [{ context: producer }] : undefined,
    },
    parent,
  );
  return new ConsumerSpan(api, span, api.trace.setSpan(parent, span));
}

/** The {@link PassOn} of every job without a context (it holds nothing else). */
let rootPassOn: PassOn | undefined;

/** No SDK: no span, only the context the handler runs in. */
class PassOn implements ProcessSpan {
  readonly #api: OtelApiModule;
  readonly #context: Context;
  constructor(api: OtelApiModule, context: Context) {
    this.#api = api;
    this.#context = context;
  }
  run<T>(fn: () => T): T {
    return this.#api.context.with(this.#context, fn);
  }
  end(): void {}
  settleFailed(): void {}
}

/** One object per attempt (its methods on the prototype, not closures per job). */
class ConsumerSpan implements ProcessSpan {
  readonly #api: OtelApiModule;
  readonly #span: Span;
  readonly #context: Context;
  #ended = false;
  constructor(api: OtelApiModule, span: Span, context: Context) {
    this.#api = api;
    this.#span = span;
    this.#context = context;
  }
  run<T>(fn: () => T): T {
    return this.#api.context.with(this.#context, fn);
  }
  end(outcome: JobSettledOutcome, error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    const span = this.#span;
    if (span.isRecording()) {
      span.setAttribute(TRACE_ATTRIBUTES.outcome, outcome);
      if (outcome === "failed" || outcome === "timeout") recordError(this.#api, span, error);
      else if (outcome === "rate_limited") {
        const retryAfter = (error as { retryAfterSeconds?: unknown } | undefined)
          ?.retryAfterSeconds;
        if (typeof retryAfter === "number") {
          span.setAttribute(TRACE_ATTRIBUTES.retryAfter, retryAfter);
        }
      }
    }
    span.end();
  }
  settleFailed(outcome: JobSettledOutcome, error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    const span = this.#span;
    if (span.isRecording()) {
      span.setAttribute(TRACE_ATTRIBUTES.outcome, outcome);
      recordError(this.#api, span, error, "telling the queue how the job ended failed");
    }
    span.end();
  }
}

/**
 * Internal: the active context's span as a {@link JobTraceContext}, or `undefined` when
 * there is no valid one (or no `@opentelemetry/api`). What the outbox records.
 */
export function activeTraceContext(): JobTraceContext | undefined {
  const api = loadOtelApi();
  if (api === undefined) return undefined;
  return spanTraceContext(api.trace.getSpanContext(api.context.active()));
}

/**
 * Internal: a span context as a {@link JobTraceContext} (W3C `traceparent` and
 * `tracestate`, formatted directly: no propagator, no carrier object), or `undefined`
 * when it is missing or invalid (or there is no `@opentelemetry/api`). What a webhook
 * delivery sends as headers.
 */
export function spanTraceContext(
  spanContext: SpanContext | undefined,
): JobTraceContext | undefined {
  if (spanContext === undefined) return undefined;
  const api = loadOtelApi();
  return api?.isSpanContextValid(spanContext) ? traceContextOf(spanContext) : undefined;
}

/** A span context as W3C `traceparent` / `tracestate`. */
function traceContextOf(spanContext: SpanContext): JobTraceContext {
  const context: JobTraceContext = {
    traceparent: formatTraceparent(spanContext.traceId, spanContext.spanId, spanContext.traceFlags),
  };
  const state = spanContext.traceState?.serialize();
  if (state) context.tracestate = state;
  return context;
}

/** Internal: a recorded context as the remote span context it came from, if valid. */
function remoteSpanContext(
  api: OtelApiModule,
  traceContext: JobTraceContext,
): SpanContext | undefined {
  const parsed = parseTraceparent(traceContext.traceparent);
  if (parsed === undefined) return undefined;
  const spanContext: SpanContext = {
    traceId: parsed.traceId,
    spanId: parsed.spanId,
    traceFlags: parsed.traceFlags & api.TraceFlags.SAMPLED,
    isRemote: true,
  };
  if (traceContext.tracestate && typeof api.createTraceState === "function") {
    spanContext.traceState = api.createTraceState(traceContext.tracestate);
  }
  return spanContext;
}

/** Records `error` on `span` as an exception event, `error.type` and status ERROR. */
function recordError(api: OtelApiModule, span: Span, error: unknown, message?: string): void {
  if (!span.isRecording()) return;
  const err = error instanceof Error ? error : undefined;
  span.recordException(err ?? String(error));
  span.setAttribute(TRACE_ATTRIBUTES.errorType, errorType(error));
  span.setStatus({
    code: api.SpanStatusCode.ERROR,
    message: message ?? (err ? err.message : String(error)),
  });
}

/** `error.type`: the error's stable code when it has one, else its class name. */
function errorType(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code !== "") return code;
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === "string" && name !== "" ? name : "_OTHER";
}

/** Longest wait for {@link flushTraces}, in ms: an exporter that hangs must not keep a worker from exiting. */
const FLUSH_TIMEOUT_MS = 5000;

/**
 * Internal: exports the spans the registered SDK still holds (`forceFlush` of the global
 * tracer provider), waiting at most 5 s; resolves at once without `@opentelemetry/api` or
 * an SDK, and never rejects. `svc-jobs run` calls it before its process exits, so a
 * batching span processor does not lose the last jobs' spans (docs/tracing.md).
 */
export async function flushTraces(): Promise<void> {
  const api = loadOtelApi();
  if (api === undefined) return;
  const provider = api.trace.getTracerProvider() as {
    getDelegate?: () => unknown;
    forceFlush?: () => Promise<unknown>;
  };
  const sdk = (typeof provider.getDelegate === "function" ? provider.getDelegate() : provider) as {
    forceFlush?: () => Promise<unknown>;
  };
  if (typeof sdk?.forceFlush !== "function") return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      sdk.forceFlush(),
      new Promise((resolve) => {
        timer = setTimeout(resolve, FLUSH_TIMEOUT_MS);
        timer.unref();
      }),
    ]);
  } catch {
    // The exporter reports its own failures (OpenTelemetry's diag logger); the worker still exits.
  } finally {
    clearTimeout(timer);
  }
}
