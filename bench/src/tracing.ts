// The svc-jobs "features" row with OpenTelemetry tracing on (docs/tracing.md): an SDK
// registered as an application registers one (a BasicTracerProvider with the AlwaysOn
// sampler and an AsyncLocalStorage context manager), whose span processor counts the
// ended spans and drops them: what is measured is svc-jobs making and recording its spans,
// not an exporter's work.
let started: Promise<void> | undefined;
let ended = 0;

/** Registers the SDK once per process (the fill's and the worker's). */
export function startTracing(): Promise<void> {
  started ??= (async () => {
    const { context, trace } = await import("@opentelemetry/api");
    const { AsyncLocalStorageContextManager } = await import("@opentelemetry/context-async-hooks");
    const { BasicTracerProvider } = await import("@opentelemetry/sdk-trace-base");
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({
        spanProcessors: [
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
