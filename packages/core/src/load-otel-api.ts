// Aliased: an ESM bundle's common banner declares its own `createRequire`.
import { createRequire as createRequireOf } from "node:module";
import type * as OtelApi from "@opentelemetry/api";
import { isPackageNotFound } from "./is-package-not-found.js";

/** The `@opentelemetry/api` module. Internal. */
export type OtelApiModule = typeof OtelApi;

// undefined: not tried yet; null: not installed (or not loadable).
let cached: OtelApiModule | null | undefined;

/**
 * Loads `@opentelemetry/api` (an optional peer dependency) once, synchronously, on the
 * first enqueue or job that could be traced (docs/tracing.md). Returns `undefined` when it
 * is not installed: svc-jobs then creates no spans and records no trace context. A copy
 * that is installed but fails to load disables tracing too, with one process warning: a
 * broken telemetry install must never stop jobs from being enqueued or run. Internal.
 */
export function loadOtelApi(): OtelApiModule | undefined {
  if (cached === undefined) {
    try {
      // The API ships CommonJS beside ESM; require keeps the first enqueue synchronous and
      // gives the same copy (and so the same global tracer provider) the application uses.
      cached = nodeRequire()("@opentelemetry/api") as OtelApiModule;
    } catch (error) {
      cached = null;
      if (!isPackageNotFound(error, "@opentelemetry/api")) {
        process.emitWarning(
          `@opentelemetry/api is installed but failed to load, so svc-jobs traces nothing: reinstall it (a 1.x version). ${error instanceof Error ? error.message : String(error)}`,
          { code: "SVC_JOBS_OTEL_API", type: "SvcJobsWarning" },
        );
      }
    }
  }
  return cached ?? undefined;
}

/**
 * A `require` that resolves from where this code runs: from this module (ESM), or, in a
 * CommonJS bundle (no `import.meta.url`), the bundle's own `require`.
 */
function nodeRequire(): NodeJS.Require {
  try {
    return createRequireOf(import.meta.url);
  } catch (error) {
    // A CommonJS bundle: import.meta is empty, and the bundle has a require of its own.
    if (typeof require === "function") return require;
    throw error;
  }
}
