import { createRequire } from "node:module";
import type * as Pino from "pino";
import type { DestinationStream, Logger } from "pino";
import { checkOptionKeys, OPTION_KEYS } from "./option-keys.js";

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Minimum level. @default `LOG_LEVEL`, else `"info"` */
  level?: string;
  /** Where JSON lines go. @default stdout */
  destination?: DestinationStream;
}

/**
 * The worker's structured logger: pino, JSON lines on stdout, one line per job
 * outcome. Keys that commonly hold secrets are redacted in case a handler logs them.
 * pino is loaded on the first call, so importing `@svc-jobs/cli` for `easyJobs` does
 * not load it.
 *
 * @example
 * ```ts
 * const log = createLogger();
 * log.info({ jobId: "7" }, "job completed");
 * ```
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  checkOptionKeys(options, OPTION_KEYS.createLogger, "createLogger options");
  // pino is CommonJS: require loads it synchronously, on first use only.
  const { pino } = createRequire(import.meta.url)("pino") as typeof Pino;
  const level = options.level ?? process.env.LOG_LEVEL ?? "info";
  const config = {
    level,
    base: { service: "svc-jobs", pid: process.pid },
    redact: {
      paths: ["password", "secret", "token", "authorization", "*.password", "*.secret", "*.token"],
      censor: "[redacted]",
    },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}
