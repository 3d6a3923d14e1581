// `@svc-jobs/cli/command`: everything of the main entry, plus the parts of the command
// that load commander, pino and prom-client when imported (for tools that embed it).
import type { JobQueue, JobSettledEvent } from "@svc-jobs/core";
import { JobMetrics } from "@svc-jobs/registry";
import type { Registry } from "prom-client";
import { checkOptionKeys, OPTION_KEYS } from "./option-keys.js";

export * from "./index.js";
export { runCli } from "./run-cli.js";
export { JOBS_SCHEDULE_ENV, runWorker } from "./run-worker.js";

/**
 * Options of {@link workerMetrics}.
 * @deprecated Use `JobMetricsOptions` of `@svc-jobs/registry`.
 */
export interface WorkerMetricsOptions {
  /** Metric name prefix, matching the registry's `metricPrefix`. @default "jobs" */
  metricPrefix?: string;
  /** The `queue` label of `{prefix}_queue_size`. @default "default" */
  queueName?: string;
}

/**
 * What {@link workerMetrics} returns.
 * @deprecated Use `JobMetrics` of `@svc-jobs/registry`.
 */
export interface WorkerMetrics {
  /** Feed each settled job from the WorkerRunner. */
  onJobSettled(event: JobSettledEvent): void;
}

/**
 * The job metrics for a worker, in `registry`, with the queue's sizes.
 *
 * @deprecated Use `JobMetrics` of `@svc-jobs/registry`, which this now is:
 * `const metrics = new JobMetrics({ registry }); metrics.trackQueue(queue, { name });`
 * then `new WorkerRunner(queue, handler, { onJobSettled: metrics.onJobSettled })`.
 */
export function workerMetrics(
  registry: Registry,
  queue: JobQueue,
  options: WorkerMetricsOptions = {},
): WorkerMetrics {
  checkOptionKeys(options, OPTION_KEYS.workerMetrics, "workerMetrics options");
  const metrics = new JobMetrics({
    registry,
    ...(options.metricPrefix === undefined ? {} : { metricPrefix: options.metricPrefix }),
  });
  metrics.trackQueue(queue, { name: options.queueName ?? "default" });
  return { onJobSettled: metrics.onJobSettled };
}
