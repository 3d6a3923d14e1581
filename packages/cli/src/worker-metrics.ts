import type { JobOutcome, JobQueue } from "@svc-jobs/core";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** Options of {@link workerMetrics}. */
export interface WorkerMetricsOptions {
  /** Metric name prefix, matching the registry's `metricPrefix`. @default "jobs" */
  metricPrefix?: string;
  /** The `queue` label of `{prefix}_queue_size`. @default "default" */
  queueName?: string;
}

/** What {@link workerMetrics} returns. */
export interface WorkerMetrics {
  /** Feed each job outcome from the WorkerRunner. */
  onJobSettled(outcome: JobOutcome): void;
}

/**
 * Metrics for a worker whose handler is a bare function (a `JobRegistry` records
 * its own): the same names and labels as `@svc-jobs/registry`, so one dashboard fits
 * both. `{prefix}_queue_size{queue,state}` (read from `queue.stats()` at scrape
 * time), `{prefix}_processed_total{job_name,status}` (status `success`, `error` or
 * `timeout`), `{prefix}_duration_seconds{job_name}` and
 * `{prefix}_failures_total{job_name,error_type}`.
 *
 * @example
 * ```ts
 * const metrics = workerMetrics(new Registry(), queue);
 * new WorkerRunner(queue, handler, { onJobSettled: metrics.onJobSettled });
 * ```
 */
export function workerMetrics(
  registry: Registry,
  queue: JobQueue,
  options: WorkerMetricsOptions = {},
): WorkerMetrics {
  const prefix = options.metricPrefix ?? "jobs";
  const queueName = options.queueName ?? "default";
  new Gauge({
    name: `${prefix}_queue_size`,
    help: "Jobs in the queue by state (ready, delayed, processing, dlq)",
    labelNames: ["queue", "state"],
    registers: [registry],
    async collect() {
      const stats = await queue.stats();
      for (const state of ["ready", "delayed", "processing", "dlq"] as const) {
        this.set({ queue: queueName, state }, stats[state]);
      }
    },
  });
  const processed = new Counter({
    name: `${prefix}_processed_total`,
    help: "Jobs processed, by job name and status",
    labelNames: ["job_name", "status"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: `${prefix}_duration_seconds`,
    help: "Job handler duration in seconds",
    labelNames: ["job_name"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers: [registry],
  });
  const failures = new Counter({
    name: `${prefix}_failures_total`,
    help: "Job failures, by job name and error type",
    labelNames: ["job_name", "error_type"],
    registers: [registry],
  });
  return {
    onJobSettled({ job, status, durationMs, error }) {
      if (status === "released") return;
      const ok = status === "completed";
      const label = status === "timeout" ? "timeout" : "error";
      processed.inc({ job_name: job.name, status: ok ? "success" : label });
      duration.observe({ job_name: job.name }, durationMs / 1000);
      if (!ok) {
        const errorType =
          error instanceof Error ? error.name || "Error" : error === null ? "null" : typeof error;
        failures.inc({ job_name: job.name, error_type: errorType });
      }
    },
  };
}
