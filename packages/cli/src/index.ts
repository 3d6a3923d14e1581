export { CliError, EXIT_RUNTIME, EXIT_USAGE } from "./cli-error.js";
export { type ConnectRedisOptions, connectRedis } from "./connect-redis.js";
export { type CreateLoggerOptions, createLogger } from "./create-logger.js";
export {
  createClient,
  type EasyJobs,
  type EasyJobsOptions,
  easyJobs,
  type JobsDriver,
  resolveDriver,
  resolveVisibilityTimeout,
} from "./easy-jobs.js";
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
export { type RunCliOptions, runCli } from "./run-cli.js";
export { JOBS_SCHEDULE_ENV, type RunWorkerOptions, runWorker } from "./run-worker.js";
export {
  type WorkerMetrics,
  type WorkerMetricsOptions,
  workerMetrics,
} from "./worker-metrics.js";
