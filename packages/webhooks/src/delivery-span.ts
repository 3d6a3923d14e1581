// Aliased: an ESM bundle's common banner declares its own `createRequire`.
import { createRequire as createRequireOf } from "node:module";
import type * as OtelApi from "@opentelemetry/api";
import { isPackageNotFound, spanTraceContext } from "@svc-jobs/core/backend";

type OtelApiModule = typeof OtelApi;

// undefined: not tried yet; null: not installed (or not loadable).
let cached: OtelApiModule | null | undefined;

/**
 * Loads `@opentelemetry/api` (an optional peer dependency) once, on the first delivery.
 * `undefined` when it is not installed: deliveries then send no trace headers and make no
 * spans. A broken install disables tracing with one warning rather than failing
 * deliveries (docs/tracing.md).
 */
function loadOtelApi(): OtelApiModule | undefined {
  if (cached === undefined) {
    try {
      cached = nodeRequire()("@opentelemetry/api") as OtelApiModule;
    } catch (error) {
      cached = null;
      if (!isPackageNotFound(error, "@opentelemetry/api")) {
        process.emitWarning(
          `@opentelemetry/api is installed but failed to load, so webhook deliveries are not traced: reinstall it (a 1.x version). ${error instanceof Error ? error.message : String(error)}`,
          { code: "SVC_JOBS_OTEL_API", type: "SvcJobsWarning" },
        );
      }
    }
  }
  return cached ?? undefined;
}

/** A `require` from this module (ESM), or a CommonJS bundle's own (no `import.meta.url`). */
function nodeRequire(): NodeJS.Require {
  try {
    return createRequireOf(import.meta.url);
  } catch (error) {
    if (typeof require === "function") return require;
    throw error;
  }
}

/** The tracer, and the global tracer provider it came from (replaced only by `trace.disable()`). */
let tracerCache: { provider: OtelApi.TracerProvider; tracer: OtelApi.Tracer } | undefined;

/** The webhooks tracer, looked up once per tracer provider registration, not per delivery. */
function deliveryTracer(api: OtelApiModule): OtelApi.Tracer {
  const provider = api.trace.getTracerProvider();
  if (tracerCache?.provider !== provider) {
    tracerCache = { provider, tracer: provider.getTracer("@svc-jobs/webhooks") };
  }
  return tracerCache.tracer;
}

/** What a delivery span describes. */
export interface DeliveryInfo {
  url: URL;
  /** The URL without credentials or query string (`url.full`). */
  destination: string;
  topic: string;
  eventId: string;
  /** The job's attempt, from 1. */
  attempt: number;
}

/**
 * Runs one delivery attempt in an HTTP CLIENT span (`POST`, HTTP semantic conventions),
 * a child of the active context (the delivery job's CONSUMER span), and hands `send` the
 * W3C `traceparent` / `tracestate` headers of that span to add to the request, so the
 * receiver continues the trace. `send` resolves with the response status. Without
 * `@opentelemetry/api` it calls `send({})` (no headers, no span).
 */
export async function traceDelivery(
  info: DeliveryInfo,
  send: (traceHeaders: Record<string, string>) => Promise<number>,
): Promise<number> {
  const api = loadOtelApi();
  if (api === undefined) return send({});
  const port =
    info.url.port === "" ? (info.url.protocol === "https:" ? 443 : 80) : Number(info.url.port);
  const attributes: OtelApi.Attributes = {
    "http.request.method": "POST",
    "url.full": info.destination,
    "server.address": info.url.hostname.replace(/^\[|\]$/g, ""),
    "server.port": port,
    "svc_jobs.webhook.topic": info.topic,
    "svc_jobs.webhook.event_id": info.eventId,
  };
  if (info.attempt > 1) attributes["http.request.resend_count"] = info.attempt - 1;
  const span = deliveryTracer(api).startSpan("POST", { kind: api.SpanKind.CLIENT, attributes });
  const active = api.trace.setSpan(api.context.active(), span);
  const headers: Record<string, string> = {};
  // The span's own context as W3C headers, formatted directly (not through the registered
  // propagator: the receiver is promised W3C Trace Context, docs/tracing.md).
  const trace = spanTraceContext(span.spanContext());
  if (trace) {
    headers.traceparent = trace.traceparent;
    if (trace.tracestate) headers.tracestate = trace.tracestate;
  }
  try {
    const status = await api.context.with(active, () => send(headers));
    span.setAttribute("http.response.status_code", status);
    if (status >= 400) {
      span.setAttribute("error.type", String(status));
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: `HTTP ${status}` });
    }
    return status;
  } catch (error) {
    const status = (error as { status?: unknown } | null)?.status;
    if (typeof status === "number") span.setAttribute("http.response.status_code", status);
    const code = (error as { code?: unknown } | null)?.code;
    span.setAttribute(
      "error.type",
      typeof code === "string" ? code : error instanceof Error ? error.name : "_OTHER",
    );
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({
      code: api.SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    throw error;
  } finally {
    span.end();
  }
}
