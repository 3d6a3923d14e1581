import { createRequire } from "node:module";
import { ConfigError } from "@svc-jobs/core";
import { isPackageNotFound } from "@svc-jobs/core/backend";
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
      if (!isPackageNotFound(error, "prom-client")) {
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
