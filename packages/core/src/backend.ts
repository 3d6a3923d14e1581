/**
 * `@svc-jobs/core/backend`: what a queue backend (and a package built on the contract)
 * needs beyond the contract itself, so every backend accepts, refuses and reports the
 * same things the same way. Applications do not need it: they import from
 * `@svc-jobs/core`, which also holds the contract a backend implements (`JobQueue`,
 * `Job`, `QueueOptions`, the errors, the defaults, `errorMessage`, `retryDelaySeconds`).
 * docs/architecture.md ("Adding a backend") walks through writing one.
 *
 * @example
 * ```ts
 * import type { Job, JobQueue, JobRef, QueueOptions } from "@svc-jobs/core";
 * import { createJob, jobIdOf, prepareEnqueue, resolveQueueOptions } from "@svc-jobs/core/backend";
 *
 * class MyQueue implements JobQueue {
 *   constructor(options: QueueOptions = {}) {
 *     const { visibilityTimeoutSeconds, clock, retry, maxPayloadBytes } = resolveQueueOptions(options);
 *     // ...
 *   }
 *   async enqueue(name, payload, opts) {
 *     const prepared = prepareEnqueue(name, payload, opts, { maxPayloadBytes: this.#maxPayloadBytes });
 *     const id = await this.#store(prepared);
 *     return createJob({ id, name: prepared.name, payload: prepared.payload, availableAt: now });
 *   }
 *   // ...
 * }
 * ```
 *
 * @packageDocumentation
 */
export {
  DEFAULT_LIST_LIMIT,
  decodeCursorOf,
  encodeCursor,
  MAX_LIST_LIMIT,
  type ResolvedListJobsOptions,
  validateAckOptions,
  validateCancelOptions,
  validateEventsOptions,
  validateJobState,
  validateJsonValue,
  validateListJobsOptions,
} from "./control-options.js";
export { createJob, type JobInit } from "./create-job.js";
export { describeValue } from "./describe-value.js";
export { visibilityExpiredMessage } from "./error-message.js";
export {
  type ResolvedReleaseOptions,
  rateWindowGuardSeconds,
  validateGroup,
  validateGroupLimits,
  validateRateLimit,
  validateRateLimitScope,
  validateReleaseOptions,
  validateSetGroupLimitsOptions,
} from "./flow-control.js";
export { isPackageNotFound } from "./is-package-not-found.js";
export { toJobTraceContext } from "./job-trace-context.js";
export {
  activeTraceContext,
  flushTraces,
  spanTraceContext,
  traceEnqueue,
} from "./job-tracing.js";
export { compareCodePoints } from "./memory-flow.js";
export { DLQ_LIST_OPTIONS, RESERVE_OPTIONS } from "./option-keys.js";
export {
  type EnqueueLimits,
  type PreparedEnqueue,
  prepareEnqueue,
  prepareEnqueueMany,
} from "./prepare-enqueue.js";
export { QUEUE_OPTION_KEYS, resolveQueueOptions } from "./queue-options.js";
export { type KnownKeys, rejectUnknownKeys } from "./reject-unknown-keys.js";
export { validateRetryStrategy } from "./retry.js";
export { serializePayload } from "./serialize-payload.js";
export { jobIdOf, validateInteger, validateJobName, validateSeconds } from "./validate.js";
export {
  type ResolvedEnqueueOptions,
  validateEnqueueOptions,
} from "./validate-enqueue-options.js";
