export { JobTimeoutError } from "@svc-jobs/core";
export { DuplicateHandlerError } from "./duplicate-handler-error.js";
export { InvalidJobResultError } from "./invalid-job-result-error.js";
export { JobFailedError } from "./job-failed-error.js";
export {
  DEFAULT_DURATION_BUCKETS_SECONDS,
  type JobMetricStatus,
  JobMetrics,
  type JobMetricsOptions,
  type TrackQueueOptions,
} from "./job-metrics.js";
export {
  type AsHandlerOptions,
  DEFAULT_DISPATCH_TIMEOUT_SECONDS,
  type DispatchOptions,
  JobRegistry,
  type JobRegistryOptions,
  type RegisterOptions,
} from "./job-registry.js";
export type { JobResult } from "./job-result.js";
export type { MetricsRegistry } from "./metrics-registry.js";
export type { RegistryHandler } from "./registry-handler.js";
export type { StatsSource } from "./stats-source.js";
export { UnknownJobError } from "./unknown-job-error.js";
