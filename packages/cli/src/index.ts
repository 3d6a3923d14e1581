// The main entry: easyJobs and the helpers around it. Nothing here loads commander,
// pino, prom-client or ioredis when imported; the command's entry points load what they
// need when called, and `@svc-jobs/cli/command` holds the rest of the command's API.
export { CliError, EXIT_RUNTIME, EXIT_USAGE } from "./cli-error.js";
/** @deprecated See `workerMetrics` in `@svc-jobs/cli/command`; use `JobMetrics` of `@svc-jobs/registry`. */
export type { WorkerMetrics, WorkerMetricsOptions } from "./command.js";
export { type ConnectRedisOptions, connectRedis } from "./connect-redis.js";
export { createClient } from "./create-client.js";
export { type CreateLoggerOptions, createLogger } from "./create-logger.js";
export {
  type EasyJobs,
  type EasyJobsOptions,
  easyJobs,
  type JobsDriver,
  type MemoryEasyJobs,
  type PostgresEasyJobs,
  type RedisEasyJobs,
  resolveVisibilityTimeout,
  type SqliteEasyJobs,
} from "./easy-jobs.js";
export { resolveDriver } from "./jobs-drivers.js";
export { JOBS_SCHEDULE_ENV, runCli, runWorker } from "./lazy-command.js";
export {
  JOBS_HANDLERS_ENV,
  type LoadedHandler,
  type LoadHandlerOptions,
  loadHandler,
  type RegistryLike,
} from "./load-handler.js";
export {
  type MetricsServer,
  type MetricsServerOptions,
  startMetricsServer,
} from "./metrics-server.js";
export {
  DEFAULT_REDIS_URL,
  parseClusterNodes,
  redactUrl,
  redisOptionsFromUrl,
} from "./redis-url.js";
export type { RunCliOptions } from "./run-cli.js";
export type { RunWorkerOptions } from "./run-worker.js";
