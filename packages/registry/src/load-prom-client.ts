import { createRequire } from "node:module";
import { ConfigError } from "@svc-jobs/core";
import type * as PromClient from "prom-client";

/** The prom-client module. Internal. */
export type PromClientModule = typeof PromClient;

// undefined: not tried yet; null: not installed.
let cached: PromClientModule | null | undefined;

/**
 * Loads prom-client (an optional peer dependency) once, synchronously, so metrics can be
 * created on first use. Returns `undefined` when it is not installed. A copy that is
 * installed but fails to load is a configuration problem worth surfacing, not hiding.
 * Internal.
 */
export function loadPromClient(): PromClientModule | undefined {
  if (cached === undefined) {
    try {
      // prom-client is CommonJS; require keeps loading synchronous and works without a bundler.
      cached = createRequire(import.meta.url)("prom-client") as PromClientModule;
    } catch (error) {
      if (!isNotFound(error)) {
        throw new ConfigError(
          "prom-client is installed but failed to load: reinstall it (a version >=14 <16), or pass { metrics: false } to JobRegistry",
          { cause: error },
        );
      }
      cached = null;
    }
  }
  return cached ?? undefined;
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = (error as { message?: unknown } | null)?.message;
  return (
    (code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND") &&
    typeof message === "string" &&
    // Only prom-client itself: a missing dependency of an installed prom-client names
    // prom-client in its require stack too, and that is a broken install to report.
    /Cannot find (module|package) 'prom-client'/.test(message)
  );
}
