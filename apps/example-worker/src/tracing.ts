// OpenTelemetry for the example app (docs/tracing.md): OTEL_TRACES_EXPORTER=console prints
// every span to stdout with the SDK's ConsoleSpanExporter. The SDK is a development
// dependency of this app only, loaded when the variable asks for it: the svc-jobs packages
// need nothing but @opentelemetry/api, and a real service would use NodeSDK with an OTLP
// exporter and the HTTP auto-instrumentation instead of traceRequest below.
import type { IncomingMessage } from "node:http";
import type * as OtelApi from "@opentelemetry/api";

let api: typeof OtelApi | undefined;
let provider: { shutdown(): Promise<void> } | undefined;

/**
 * Registers a tracer provider that prints spans to the console when
 * `OTEL_TRACES_EXPORTER=console` (service name `OTEL_SERVICE_NAME`, default `example-worker`), with W3C Trace Context propagation and an
 * AsyncLocalStorage context manager. Any other value (or none) traces nothing.
 */
export async function startTracing(env: NodeJS.ProcessEnv): Promise<void> {
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (exporter !== "console" || api) return;
  const otel = await import("@opentelemetry/api");
  const { AsyncLocalStorageContextManager } = await import("@opentelemetry/context-async-hooks");
  const { W3CTraceContextPropagator } = await import("@opentelemetry/core");
  const { resourceFromAttributes } = await import("@opentelemetry/resources");
  const sdk = await import("@opentelemetry/sdk-trace-base");
  const tracerProvider = new sdk.BasicTracerProvider({
    resource: resourceFromAttributes({
      "service.name": env.OTEL_SERVICE_NAME?.trim() || "example-worker",
    }),
    spanProcessors: [new sdk.SimpleSpanProcessor(new sdk.ConsoleSpanExporter())],
  });
  otel.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  otel.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  otel.trace.setGlobalTracerProvider(tracerProvider);
  api = otel;
  provider = tracerProvider;
}

/** Flushes and stops the tracer provider, if one was started. */
export async function stopTracing(): Promise<void> {
  await provider?.shutdown();
}

/**
 * Runs an HTTP request's handling in a SERVER span named `{method} {route}`, continuing a
 * `traceparent` the request carries (the webhook deliveries send one). Without tracing it
 * only calls `fn`.
 */
export function traceRequest<T>(
  req: IncomingMessage,
  route: string,
  fn: () => Promise<T>,
): Promise<T> {
  const otel = api;
  if (!otel) return fn();
  const parent = otel.propagation.extract(otel.ROOT_CONTEXT, req.headers);
  const method = req.method ?? "GET";
  return otel.trace.getTracer("example-worker").startActiveSpan(
    `${method} ${route}`,
    {
      kind: otel.SpanKind.SERVER,
      attributes: { "http.request.method": method, "http.route": route },
    },
    parent,
    async (span) => {
      try {
        return await fn();
      } catch (error) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: otel.SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** Records the response status on the active span (a no-op without tracing). */
export function recordStatus(status: number): void {
  const span = api?.trace.getActiveSpan();
  span?.setAttribute("http.response.status_code", status);
  if (status >= 500) span?.setStatus({ code: 2 });
}
