export type { Clock } from "./clock.js";
export { systemClock } from "./clock.js";
export {
  type AckOptions,
  type CancelOptions,
  type EventsOptions,
  JOB_EVENT_TYPES,
  JOB_STATES,
  JobCancelledError,
  type JobEvent,
  type JobEventType,
  type JobInfo,
  type JobPage,
  type JobState,
  type ListJobsOptions,
  type ReservationCheck,
  type RetentionOption,
} from "./control.js";
export {
  defaultTimeoutSeconds,
  JOB_DEFAULT_TIMEOUT_ENV,
  resolveTimeoutSeconds,
} from "./default-timeout.js";
export {
  errorMessage,
  MAX_ERROR_MESSAGE_LENGTH,
  /** @deprecated Import from `@svc-jobs/core/backend`. */
  visibilityExpiredMessage,
} from "./error-message.js";
export {
  BackendError,
  ConfigError,
  JobsError,
  JobTimeoutError,
  JobValidationError,
  PayloadTooLargeError,
  QueueClosedError,
  WorkerStoppedError,
} from "./errors.js";
export {
  type FlowLimits,
  type GroupLimits,
  isRateLimitError,
  MAX_GROUP_LENGTH,
  type RateLimit,
  RateLimitError,
  type RateLimitErrorOptions,
  type RateLimitScope,
  type ReleaseOptions,
  type SetGroupLimitsOptions,
} from "./flow-control.js";
export type { HandlerContext, JobHandler } from "./handler.js";
export { InMemoryJobQueue, type InMemoryJobQueueOptions } from "./in-memory-job-queue.js";
export {
  DEDUPE_TTL_SECONDS,
  DEFAULT_BACKOFF_SECONDS,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_VISIBILITY_TIMEOUT_SECONDS,
  type Job,
  type JobRef,
  MAX_JOB_NAME_LENGTH,
} from "./job.js";
export type {
  DeadLetterQueue,
  DlqListOptions,
  EnqueueItem,
  EnqueueOptions,
  JobQueue,
  QueueStats,
  ReserveOptions,
} from "./job-queue.js";
export type { JobTraceContext } from "./job-trace-context.js";
export type { JsonCompatible, JsonObject, JsonPayload, JsonValue } from "./json.js";
export type { Leader } from "./leader.js";
export {
  type ImportedModule,
  importModule,
  type LoadedModuleExport,
  loadModuleExport,
  type ModuleExportSpecifier,
  parseModuleExport,
} from "./load-module-export.js";
export { ManualClock } from "./manual-clock.js";
export { ModuleLoadError } from "./module-load-error.js";
export {
  /** @deprecated Import from `@svc-jobs/core/backend`. */
  type EnqueueLimits,
  /** @deprecated Import from `@svc-jobs/core/backend`. */
  type PreparedEnqueue,
  /** @deprecated Import from `@svc-jobs/core/backend`. */
  prepareEnqueue,
  /** @deprecated Import from `@svc-jobs/core/backend`. */
  prepareEnqueueMany,
} from "./prepare-enqueue.js";
export { type ProcessOneOptions, processOne } from "./process-one.js";
export {
  type QueueOptions,
  /** @deprecated Import from `@svc-jobs/core/backend`. */
  resolveQueueOptions,
} from "./queue-options.js";
export { ReservationLostError } from "./reservation-lost-error.js";
export {
  isPathLike,
  type ModuleResolveOptions,
  resolveModuleUrl,
} from "./resolve-module-url.js";
export {
  type ExponentialRetryStrategy,
  exponentialRetry,
  type LinearRetryStrategy,
  linearRetry,
  type RetryStrategy,
  retryDelaySeconds,
  /** @deprecated Import from `@svc-jobs/core/backend`. */
  validateRetryStrategy,
} from "./retry.js";
export type {
  JobOutcome,
  JobSettledEvent,
  JobSettledHook,
  JobSettledOutcome,
} from "./run-job.js";
export {
  /** @deprecated Import from `@svc-jobs/core/backend`. */
  serializePayload,
} from "./serialize-payload.js";
export {
  /** @deprecated Import from `@svc-jobs/core/backend`. */
  jobIdOf,
  /** @deprecated Import from `@svc-jobs/core/backend`. */
  validateInteger,
  /** @deprecated Import from `@svc-jobs/core/backend`. */
  validateJobName,
  /** @deprecated Import from `@svc-jobs/core/backend`. */
  validateSeconds,
} from "./validate.js";
export {
  /** @deprecated Import from `@svc-jobs/core/backend`. */
  validateEnqueueOptions,
} from "./validate-enqueue-options.js";
export { type StopOptions, WorkerRunner, type WorkerRunnerOptions } from "./worker-runner.js";
