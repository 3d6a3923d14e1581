import { ConfigError } from "@svc-jobs/core";
import { type KnownKeys, rejectUnknownKeys } from "@svc-jobs/core/backend";

const REDIS_HINTS = {
  sqliteFile: "sqlitePath",
  file: "sqlitePath",
  path: "sqlitePath",
  postgresUrl: "databaseUrl",
  pgUrl: "databaseUrl",
  connectionString: "databaseUrl",
  url: "redisUrl",
  redis: "redisUrl",
  nodes: "clusterNodes",
  cluster: "clusterNodes",
};
const TIMEOUT_HINTS = { timeout: "timeoutSeconds", timeoutMs: "timeoutSeconds (in seconds)" };

/** Internal: the keys of this package's options objects, for {@link checkOptionKeys}. */
export const OPTION_KEYS = {
  easyJobs: {
    keys: [
      "driver",
      "redisUrl",
      "clusterNodes",
      "prefix",
      "visibilityTimeoutSeconds",
      "tickIntervalSeconds",
      "schedulerLogger",
      "redisOptions",
      "sqlitePath",
      "databaseUrl",
      "env",
    ],
    hints: {
      ...REDIS_HINTS,
      visibilityTimeout: "visibilityTimeoutSeconds",
      tickInterval: "tickIntervalSeconds",
      logger: "schedulerLogger",
    },
    noun: "easyJobs option",
  },
  connectRedis: {
    keys: ["url", "clusterNodes", "timeoutSeconds"],
    hints: { ...TIMEOUT_HINTS, redisUrl: "url", nodes: "clusterNodes" },
    noun: "connectRedis option",
  },
  createLogger: {
    keys: ["level", "destination"],
    hints: { logLevel: "level", stream: "destination", dest: "destination" },
    noun: "createLogger option",
  },
  metricsServer: {
    keys: ["port", "host", "registries", "isReady"],
    hints: { registry: "registries", ready: "isReady", hostname: "host" },
    noun: "startMetricsServer option",
  },
  runWorker: {
    keys: [
      "handlers",
      "concurrency",
      "pollIntervalSeconds",
      "maxJobs",
      "metricsPort",
      "graceSeconds",
      "timeoutSeconds",
      "visibilityTimeoutSeconds",
      "driver",
      "redisUrl",
      "clusterNodes",
      "sqlitePath",
      "databaseUrl",
      "prefix",
      "cwd",
      "logger",
      "env",
    ],
    hints: {
      ...REDIS_HINTS,
      ...TIMEOUT_HINTS,
      handler: "handlers",
      module: "handlers",
      pollInterval: "pollIntervalSeconds",
      grace: "graceSeconds",
      visibilityTimeout: "visibilityTimeoutSeconds",
      port: "metricsPort",
    },
    noun: "runWorker option",
  },
  loadHandler: {
    keys: ["cwd"],
    hints: { dir: "cwd", baseDir: "cwd", root: "cwd" },
    noun: "loadHandler option",
  },
  workerMetrics: {
    keys: ["metricPrefix", "queueName"],
    hints: { prefix: "metricPrefix", name: "queueName", queue: "queueName" },
    noun: "workerMetrics option",
  },
  runCli: {
    keys: ["err", "version"],
    hints: { stderr: "err", stream: "err" },
    noun: "runCli option",
  },
} as const satisfies Record<string, KnownKeys>;

/**
 * Internal: throws a `ConfigError` naming the key, what was probably meant and every
 * key allowed when an options object has a key `known` does not list; anything that is
 * not an object is left to the caller's own checks.
 */
export function checkOptionKeys(options: unknown, known: KnownKeys, where: string): void {
  if (options === null || typeof options !== "object") return;
  rejectUnknownKeys(options, known, where, (_key, message) => new ConfigError(message));
}
