import {
  ConfigError,
  type JobSettledEvent,
  type JobSettledOutcome,
  JobValidationError,
} from "@svc-jobs/core";
import { type KnownKeys, rejectUnknownKeys } from "@svc-jobs/core/backend";
import type { Counter, Gauge, Histogram, Registry } from "prom-client";
import { loadPromClient, type PromClientModule } from "./load-prom-client.js";
import type { MetricsRegistry } from "./metrics-registry.js";
import type { StatsSource } from "./stats-source.js";

/**
 * The `status` label of `{prefix}_processed_total`: `success`, `failure` (a registry
 * handler returned `{ success: false }`), `timeout` (the job's timeout fired), `error`
 * (anything else that failed: a throw, an unknown job name, an invalid result),
 * `cancelled` (cancelled while it ran: not a failure, it is not retried) or `lost` (the
 * worker found its reservation expired: the backend counted a failed attempt and the
 * job runs again) or `rate_limited` (the handler threw a `RateLimitError`: the job runs
 * again later, its attempt not counted; not a failure).
 */
export type JobMetricStatus =
  | "success"
  | "failure"
  | "timeout"
  | "error"
  | "cancelled"
  | "lost"
  | "rate_limited";

/** Histogram buckets of `{prefix}_duration_seconds`, in seconds: jobs run from milliseconds to minutes. */
export const DEFAULT_DURATION_BUCKETS_SECONDS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
];

/** Options of {@link JobMetrics}. */
export interface JobMetricsOptions {
  /**
   * Prefix of the metric names (`{prefix}_processed_total`, ...). Letters, digits,
   * `_` and `:`, not starting with a digit.
   * @default "jobs"
   */
  metricPrefix?: string;
  /**
   * The prom-client `Registry` to create the metrics in. Two `JobMetrics` (or
   * `JobRegistry`s) with the same prefix and prom-client registry share one set of metrics.
   * @default prom-client's global `register`
   */
  registry?: MetricsRegistry;
  /** Set to `false` to record nothing even when prom-client is installed. @default true */
  enabled?: boolean;
  /** Buckets of the duration histogram, in seconds. @default DEFAULT_DURATION_BUCKETS_SECONDS */
  durationBuckets?: readonly number[];
}

/** Options of {@link JobMetrics.trackQueue}. */
export interface TrackQueueOptions {
  /** The `queue` label of `{prefix}_queue_size`; unique per tracked queue. @default "default" */
  name?: string;
}

const METRICS_OPTIONS: KnownKeys = {
  keys: ["metricPrefix", "registry", "enabled", "durationBuckets"],
  hints: { prefix: "metricPrefix", metrics: "enabled", buckets: "durationBuckets" },
  noun: "JobMetrics option",
};
const TRACK_QUEUE_OPTIONS: KnownKeys = {
  keys: ["name"],
  hints: { queue: "name", label: "name", queueName: "name" },
  noun: "trackQueue option",
};

const METRIC_PREFIX = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const STATES = ["ready", "delayed", "processing", "dlq"] as const;

// Kept on the gauge object itself (not in a module-level map) so everything sharing the
// gauge, even from two copies of this package, sees every tracked queue.
const TRACKED = Symbol.for("@svc-jobs/registry:tracked-queues");
// Set on a settled event once it has been counted in a set of metrics (keyed by its
// processed counter, which is shared per prom-client registry and prefix), so a worker's
// hook and a registry handler's hook feeding the same metrics count the job once.
const COUNTED_IN = Symbol.for("@svc-jobs/registry:counted-in");

type TrackedGauge = Gauge<"queue" | "state"> & { [TRACKED]?: Map<string, StatsSource> };
type CountedEvent = JobSettledEvent & { [COUNTED_IN]?: WeakSet<object> };

interface Metrics {
  processed: Counter<"job_name" | "status">;
  duration: Histogram<"job_name">;
  failures: Counter<"job_name" | "error_type">;
}

/**
 * The job metrics of svc-jobs, in one place: `{prefix}_processed_total{job_name,status}`,
 * `{prefix}_duration_seconds{job_name}`, `{prefix}_failures_total{job_name,error_type}`
 * and `{prefix}_queue_size{queue,state}`, created in prom-client (an optional peer
 * dependency; without it nothing is recorded) on first use.
 *
 * Feed it the worker's hook: `onJobSettled` counts each job once, whatever its handler.
 * A `JobRegistry` owns one (`registry.jobMetrics`): its `asHandler()` feeds it through
 * the worker, and a direct `dispatch` records into it too. Labels are derived by one
 * rule, {@link jobMetricLabels}.
 *
 * @example
 * ```ts
 * const metrics = new JobMetrics({ metricPrefix: "myapp_jobs" });
 * metrics.trackQueue(queue, { name: "emails" });
 * await new WorkerRunner(queue, sendEmail, { onJobSettled: metrics.onJobSettled }).start();
 * ```
 */
export class JobMetrics {
  /** The prefix of the metric names. */
  readonly metricPrefix: string;
  /**
   * Records a settled job (bound: pass it as a worker's `onJobSettled`). An event is
   * counted once per set of metrics however many hooks hand it over; `released` jobs
   * are not counted (they run again); `cancelled` and `lost` ones are, with those
   * statuses.
   */
  readonly onJobSettled: (event: JobSettledEvent) => void;

  readonly #promRegistry: MetricsRegistry | undefined;
  readonly #wanted: boolean;
  readonly #buckets: readonly number[];
  // undefined: not created yet; null: disabled or prom-client not installed.
  #metrics: Metrics | null | undefined;
  #prom: PromClientModule | undefined;
  #queueSize: TrackedGauge | undefined;

  constructor(options: JobMetricsOptions = {}) {
    rejectUnknownKeys(
      options,
      METRICS_OPTIONS,
      "options",
      (_key, message) => new ConfigError(message),
    );
    const prefix = options.metricPrefix ?? "jobs";
    if (typeof prefix !== "string" || !METRIC_PREFIX.test(prefix)) {
      throw new ConfigError(
        `metricPrefix must be a Prometheus metric name prefix (letters, digits, "_" and ":", not starting with a digit), got ${JSON.stringify(prefix)}: use e.g. "myapp_jobs"`,
      );
    }
    const buckets = options.durationBuckets ?? DEFAULT_DURATION_BUCKETS_SECONDS;
    if (
      !Array.isArray(buckets) ||
      buckets.length === 0 ||
      buckets.some((b, i) => !Number.isFinite(b) || b <= 0 || (i > 0 && b <= buckets[i - 1]!))
    ) {
      throw new ConfigError(
        `durationBuckets must be a non-empty array of increasing positive numbers of seconds, got ${JSON.stringify(buckets)}`,
      );
    }
    this.metricPrefix = prefix;
    this.#promRegistry = options.registry;
    this.#wanted = options.enabled ?? true;
    this.#buckets = [...buckets];
    this.onJobSettled = (event) => this.#onJobSettled(event);
  }

  /**
   * Whether metrics are recorded: prom-client is installed and `enabled` was not
   * `false`. Reading it creates the metrics (a `ConfigError` `ERR_METRIC_CONFLICT` when
   * a metric of the same name but another shape exists).
   */
  get enabled(): boolean {
    return this.#get() !== null;
  }

  /**
   * Records one job outcome. `durationSeconds` is observed unless no handler ran (an
   * unknown job name). Used by a registry's direct `dispatch`; workers go through
   * {@link JobMetrics.onJobSettled}.
   */
  record(
    jobName: string,
    outcome: Exclude<JobSettledOutcome, "released">,
    durationSeconds: number,
    error?: unknown,
  ): void {
    const metrics = this.#get();
    if (metrics) write(metrics, jobName, outcome, durationSeconds, error);
  }

  /**
   * Reports `queue.stats()` as `{prefix}_queue_size{queue,state}` (states ready,
   * delayed, processing, dlq), read on every scrape. A queue whose `stats()` fails is
   * left out of that scrape. Does nothing without metrics. Returns a function that
   * stops tracking it.
   */
  trackQueue(queue: StatsSource, options: TrackQueueOptions = {}): () => void {
    if (queue === null || typeof queue !== "object" || typeof queue.stats !== "function") {
      throw new JobValidationError(
        "queue",
        "trackQueue needs a queue with a stats() method, e.g. an InMemoryJobQueue or RedisJobQueue",
      );
    }
    rejectUnknownKeys(options, TRACK_QUEUE_OPTIONS, "options");
    const name = options.name ?? "default";
    if (typeof name !== "string" || name.length === 0) {
      throw new JobValidationError(
        "options.name",
        `trackQueue's name must be a non-empty string, got ${JSON.stringify(name)}`,
      );
    }
    if (!this.#get()) return () => {};
    const gauge = this.#gauge();
    let tracked = gauge[TRACKED];
    if (!tracked) {
      throw new ConfigError(
        `the metric ${this.metricPrefix}_queue_size was registered by something other than @svc-jobs/registry, so queues cannot be tracked in it: choose another metricPrefix`,
        { code: "ERR_METRIC_CONFLICT" },
      );
    }
    const existing = tracked.get(name);
    if (existing !== undefined && existing !== queue) {
      throw new ConfigError(
        `a different queue is already tracked as "${name}" in ${this.metricPrefix}_queue_size: pass trackQueue(queue, { name: "..." }) with a unique name per queue`,
        { code: "ERR_QUEUE_ALREADY_TRACKED" },
      );
    }
    tracked.set(name, queue);
    return () => {
      tracked = gauge[TRACKED];
      if (tracked?.get(name) === queue) tracked.delete(name);
    };
  }

  #onJobSettled(event: JobSettledEvent): void {
    if (event.outcome === "released") return;
    const metrics = this.#get();
    if (!metrics) return;
    const counted = event as CountedEvent;
    let seen = counted[COUNTED_IN];
    if (seen?.has(metrics.processed)) return;
    if (!seen) {
      seen = new WeakSet();
      try {
        Object.defineProperty(event, COUNTED_IN, { value: seen });
      } catch {
        // A frozen event cannot carry the mark; it is still counted here.
      }
    }
    seen.add(metrics.processed);
    write(metrics, event.job.name, event.outcome, event.durationSeconds, event.error);
  }

  #get(): Metrics | null {
    if (this.#metrics === undefined) {
      const prom = this.#wanted ? loadPromClient() : undefined;
      this.#prom = prom;
      this.#metrics = prom ? this.#create(prom) : null;
    }
    return this.#metrics;
  }

  #create(prom: PromClientModule): Metrics {
    const prefix = this.metricPrefix;
    const registry = this.#registry(prom);
    return {
      processed: getOrCreate(
        registry,
        `${prefix}_processed_total`,
        "counter",
        ["job_name", "status"],
        () =>
          new prom.Counter({
            name: `${prefix}_processed_total`,
            help: "Jobs processed, by job name and status (success, failure, timeout, error, cancelled, lost)",
            labelNames: ["job_name", "status"],
            registers: [registry],
          }),
      ),
      duration: getOrCreate(
        registry,
        `${prefix}_duration_seconds`,
        "histogram",
        ["job_name"],
        () =>
          new prom.Histogram({
            name: `${prefix}_duration_seconds`,
            help: "Handler run time of processed jobs in seconds",
            labelNames: ["job_name"],
            buckets: [...this.#buckets],
            registers: [registry],
          }),
      ),
      failures: getOrCreate(
        registry,
        `${prefix}_failures_total`,
        "counter",
        ["job_name", "error_type"],
        () =>
          new prom.Counter({
            name: `${prefix}_failures_total`,
            help: "Jobs that did not succeed, by job name and error type",
            labelNames: ["job_name", "error_type"],
            registers: [registry],
          }),
      ),
    };
  }

  #registry(prom: PromClientModule): Registry {
    return (this.#promRegistry ?? prom.register) as unknown as Registry;
  }

  #gauge(): TrackedGauge {
    if (!this.#queueSize) {
      const prom = this.#prom as PromClientModule;
      const registry = this.#registry(prom);
      const name = `${this.metricPrefix}_queue_size`;
      this.#queueSize = getOrCreate(registry, name, "gauge", ["queue", "state"], () => {
        const gauge: TrackedGauge = new prom.Gauge({
          name,
          help: "Jobs in each queue by state (ready, delayed, processing, dlq), read from queue.stats() on scrape",
          labelNames: ["queue", "state"],
          registers: [registry],
          async collect() {
            await collectQueueSizes(gauge);
          },
        });
        gauge[TRACKED] = new Map();
        return gauge;
      });
    }
    return this.#queueSize;
  }
}

/** What a job outcome records: the labels, and whether its run time is observed. */
export interface JobMetricLabels {
  status: JobMetricStatus;
  /** The `error_type` of `{prefix}_failures_total`; absent on success. */
  errorType?: string;
  /** False when no handler ran (an unknown job name): no duration is observed. */
  handlerRan: boolean;
}

/**
 * The one rule that turns a job's outcome into metric labels, for workers and direct
 * dispatches alike: `completed` is `success`; `timeout` is `timeout`; `failed` is
 * `failure` when a registry handler returned `{ success: false }` (`JobFailedError`),
 * else `error`; `cancelled` is `cancelled`, not a failure (no `error_type`); `lost` is
 * `lost`, a failed attempt (`error_type` `ReservationLostError`); `rate_limited` (a
 * handler's `RateLimitError`) is `rate_limited`, not a failure. `error_type` is the
 * error's name ({@link jobErrorType}).
 */
export function jobMetricLabels(
  outcome: Exclude<JobSettledOutcome, "released">,
  error: unknown,
): JobMetricLabels {
  if (outcome === "completed") return { status: "success", handlerRan: true };
  if (outcome === "cancelled") return { status: "cancelled", handlerRan: true };
  // A RateLimitError: the job went back without a charged attempt (docs/contract.md,
  // "Flow control"); counted apart from failures.
  if (outcome === "rate_limited") return { status: "rate_limited", handlerRan: true };
  const errorType = jobErrorType(error);
  if (outcome === "lost") return { status: "lost", errorType, handlerRan: true };
  if (outcome === "timeout") return { status: "timeout", errorType, handlerRan: true };
  if (hasCode(error, "JobFailedError", "ERR_JOB_FAILED")) {
    return { status: "failure", errorType, handlerRan: true };
  }
  return {
    status: "error",
    errorType,
    handlerRan: !hasCode(error, "UnknownJobError", "ERR_UNKNOWN_JOB"),
  };
}

/**
 * The `error_type` label: the error's name (`TypeError`, `JobTimeoutError`, ...), its
 * class name when the name is the generic `Error`, `typeof` for non-errors; at most 64
 * characters.
 */
export function jobErrorType(error: unknown): string {
  let type: string;
  if (error instanceof Error) {
    type = error.name && error.name !== "Error" ? error.name : error.constructor?.name || "Error";
  } else {
    type = error === null ? "null" : typeof error;
  }
  return type.slice(0, 64);
}

function write(
  metrics: Metrics,
  jobName: string,
  outcome: Exclude<JobSettledOutcome, "released">,
  durationSeconds: number,
  error: unknown,
): void {
  const labels = jobMetricLabels(outcome, error);
  metrics.processed.inc({ job_name: jobName, status: labels.status });
  if (labels.handlerRan) metrics.duration.observe({ job_name: jobName }, durationSeconds);
  if (labels.errorType !== undefined) {
    metrics.failures.inc({ job_name: jobName, error_type: labels.errorType });
  }
}

/** An error of that name and code, also from another copy of the package. */
function hasCode(error: unknown, name: string, code: string): boolean {
  return (
    error instanceof Error && error.name === name && (error as { code?: unknown }).code === code
  );
}

function getOrCreate<M>(
  registry: Registry,
  name: string,
  type: string,
  labelNames: readonly string[],
  create: () => M,
): M {
  const existing = registry.getSingleMetric(name) as
    | { type?: unknown; labelNames?: unknown }
    | undefined;
  if (existing === undefined) return create();
  // Other JobMetrics with the same prefix made it: share it instead of letting
  // prom-client throw "already registered". Anything else with that name is a clash.
  const labels = Array.isArray(existing.labelNames) ? [...existing.labelNames].sort() : [];
  if (existing.type !== type || labels.join(",") !== [...labelNames].sort().join(",")) {
    throw new ConfigError(
      `a metric named ${name} already exists in the prom-client registry with type ${String(existing.type)} and labels [${labels.join(", ")}], but the job metrics need a ${type} with labels [${labelNames.join(", ")}]: pass another metricPrefix (to JobRegistry or JobMetrics), or another registry`,
      { code: "ERR_METRIC_CONFLICT" },
    );
  }
  return existing as M;
}

async function collectQueueSizes(gauge: TrackedGauge): Promise<void> {
  const tracked = [...(gauge[TRACKED] ?? [])];
  const results = await Promise.all(
    tracked.map(async ([name, queue]) => {
      try {
        return { name, stats: await queue.stats() };
      } catch {
        // A queue that cannot answer (Redis down) drops out of this scrape rather than
        // failing the whole /metrics response; its absence is what alerts should catch.
        return undefined;
      }
    }),
  );
  // Reset and refill in one synchronous step so a concurrent scrape never reads a half-filled gauge.
  gauge.reset();
  for (const result of results) {
    if (!result) continue;
    for (const state of STATES) gauge.set({ queue: result.name, state }, result.stats[state]);
  }
}
