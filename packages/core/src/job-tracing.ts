import type { Attributes, Context, Link, Span, SpanContext } from "@opentelemetry/api";
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
 * installed.
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

/**
 * Runs a backend's write of newly prepared jobs inside a PRODUCER span
 * (`enqueue {destination}`), and records the span's context on every prepared job that has
 * no `traceContext` of its own (one given in the enqueue options is kept, and the span
 * links to it). The span is a child of the active context, so an enqueue made while an
 * HTTP request is handled joins the request's trace. Without `@opentelemetry/api`, or
 * with no tracer provider and no active trace, it only calls `write`.
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
  // One link per distinct context given (a relay's batch often holds several messages
  // written by one request).
  const links: Link[] = [];
  const linked = new Set<string>();
  for (const p of prepared) {
    if (!p.traceContext || linked.has(p.traceContext.traceparent)) continue;
    const given = remoteSpanContext(api, p.traceContext);
    if (!given) continue;
    links.push({ context: given });
    linked.add(p.traceContext.traceparent);
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
  const span = api.trace
    .getTracer(TRACER_NAME)
    .startSpan(`enqueue ${queue}`, { kind: api.SpanKind.PRODUCER, attributes, links }, active);
  const spanContext = span.spanContext();
  if (api.isSpanContextValid(spanContext)) {
    const context = Object.freeze(traceContextOf(spanContext));
    for (const p of prepared) p.traceContext ??= context;
  }
  if (!span.isRecording()) {
    // No SDK: the context (the active trace's, if any) is recorded; nothing to time.
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
 * span in the same trace. `undefined` without `@opentelemetry/api`.
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
  const queue = destination ?? DEFAULT_DESTINATION;
  const span = api.trace.getTracer(TRACER_NAME).startSpan(
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
  const active: Context = api.trace.setSpan(parent, span);
  let ended = false;
  return {
    run: (fn) => api.context.with(active, fn),
    end(outcome, error) {
      if (ended) return;
      ended = true;
      if (span.isRecording()) {
        span.setAttribute(TRACE_ATTRIBUTES.outcome, outcome);
        if (outcome === "failed" || outcome === "timeout") recordError(api, span, error);
        const retryAfter = (error as { retryAfterSeconds?: unknown } | undefined)
          ?.retryAfterSeconds;
        if (outcome === "rate_limited" && typeof retryAfter === "number") {
          span.setAttribute(TRACE_ATTRIBUTES.retryAfter, retryAfter);
        }
      }
      span.end();
    },
    settleFailed(outcome, error) {
      if (ended) return;
      ended = true;
      if (span.isRecording()) {
        span.setAttribute(TRACE_ATTRIBUTES.outcome, outcome);
        recordError(api, span, error, "telling the queue how the job ended failed");
      }
      span.end();
    },
  };
}

/**
 * Internal: the active context's span as a {@link JobTraceContext}, or `undefined` when
 * there is no valid one (or no `@opentelemetry/api`). What the outbox records.
 */
export function activeTraceContext(): JobTraceContext | undefined {
  const api = loadOtelApi();
  if (api === undefined) return undefined;
  const spanContext = api.trace.getSpanContext(api.context.active());
  return spanContext && api.isSpanContextValid(spanContext)
    ? traceContextOf(spanContext)
    : undefined;
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
