import { createRequire } from "node:module";
import { ConfigError } from "@svc-jobs/core";
import { isPackageNotFound } from "@svc-jobs/core/backend";
import type * as IORedis from "ioredis";

/** The ioredis module. Internal. */
export type IORedisModule = typeof IORedis;

let cached: IORedisModule | undefined;

/**
 * Loads ioredis (an optional peer dependency, needed only by the redis driver) on first
 * use, synchronously, so `easyJobs()` stays synchronous and the memory driver runs
 * without it. A missing ioredis is a `ConfigError` that says to install it. Internal.
 *
 * @param require where to resolve ioredis from (tests); defaults to this package
 */
export function loadIoredis(require?: (id: string) => unknown): IORedisModule {
  if (cached && !require) return cached;
  let loaded: IORedisModule;
  try {
    // ioredis 5 and 6 are CommonJS: require keeps loading synchronous.
    loaded = (require ?? createRequire(import.meta.url))("ioredis") as IORedisModule;
  } catch (error) {
    if (isPackageNotFound(error, "ioredis")) {
      throw new ConfigError(
        'the redis driver needs the ioredis package, which is not installed: install ioredis to use JOBS_DRIVER=redis ("npm install ioredis", version ^5.4.0 or ^6.0.0), or set JOBS_DRIVER=memory',
        { code: "ERR_IOREDIS_MISSING", cause: error },
      );
    }
    throw new ConfigError(
      "ioredis is installed but failed to load: reinstall it (version ^5.4.0 or ^6.0.0)",
      { code: "ERR_IOREDIS_BROKEN", cause: error },
    );
  }
  if (!require) cached = loaded;
  return loaded;
}
