// The svc-jobs "features" row with OpenTelemetry tracing on (docs/tracing.md): an SDK
// registered as an application registers one (a BasicTracerProvider with the AlwaysOn
// sampler, an AsyncLocalStorage context manager, and the BatchSpanProcessor a production
// setup uses), whose exporter drops every batch: what is measured is svc-jobs making and
// recording its spans and the SDK batching them, not an exporter's work. A second span
// processor counts the ended spans, for the row's check.
let started: Promise<void> | undefined;
let ended = 0;

/** Registers the SDK once per process (the fill's and the worker's). */
export function startTracing(): Promise<void> {
  started ??= (async () => {
    const { context, trace } = await import("@opentelemetry/api");
    const { AsyncLocalStorageContextManager } = await import("@opentelemetry/context-async-hooks");
    const { BasicTracerProvider, BatchSpanProcessor } = await import(
      "@opentelemetry/sdk-trace-base"
    );
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({
        spanProcessors: [
          new BatchSpanProcessor({
            // The no-op exporter: every batch "succeeds" at once.
            export: (_spans, done) => done({ code: 0 }),
            shutdown: async () => {},
          }),
          {
            onStart() {},
            onEnd() {
              ended++;
            },
            forceFlush: async () => {},
            shutdown: async () => {},
          },
        ],
      }),
    );
  })();
  return started;
}

/** Spans ended in this process so far (0 without tracing). */
export function spansEnded(): number {
  return ended;
}
