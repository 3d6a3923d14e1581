import { ConfigError } from "@svc-jobs/core";
import type { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { PromClientModule } from "./load-prom-client.js";
import type { MetricsRegistry } from "./metrics-registry.js";
import type { StatsSource } from "./stats-source.js";

/** How a dispatch ended, as the `status` label of `{prefix}_processed_total`. Internal. */
export type DispatchStatus = "success" | "failure" | "timeout" | "error";

const STATES = ["ready", "delayed", "processing", "dlq"] as const;

// Kept on the gauge object itself (not in a module-level map) so registries sharing the
// gauge, even from two copies of this package, all see every tracked queue.
const TRACKED = Symbol.for("@svc-jobs/registry:tracked-queues");

type TrackedGauge = Gauge<"queue" | "state"> & { [TRACKED]?: Map<string, StatsSource> };

/**
 * The registry's Prometheus metrics, created in (or reused from) one prom-client
 * registry. Internal.
 */
export class JobMetrics {
  readonly #prom: PromClientModule;
  readonly #registry: Registry;
  readonly #prefix: string;
  readonly #processed: Counter<"job_name" | "status">;
  readonly #duration: Histogram<"job_name">;
  readonly #failures: Counter<"job_name" | "error_type">;
  #queueSize: TrackedGauge | undefined;

  constructor(
    prom: PromClientModule,
    prefix: string,
    registry: MetricsRegistry | undefined,
    buckets: readonly number[],
  ) {
    this.#prom = prom;
    this.#registry = (registry ?? prom.register) as unknown as Registry;
    this.#prefix = prefix;
    this.#processed = this.#getOrCreate(
      `${prefix}_processed_total`,
      "counter",
      ["job_name", "status"],
      () => {
        return new prom.Counter({
          name: `${prefix}_processed_total`,
          help: "Jobs dispatched by the job registry, by job name and status (success, failure, timeout, error)",
          labelNames: ["job_name", "status"],
          registers: [this.#registry],
        });
      },
    );
    this.#duration = this.#getOrCreate(
      `${prefix}_duration_seconds`,
      "histogram",
      ["job_name"],
      () => {
        return new prom.Histogram({
          name: `${prefix}_duration_seconds`,
          help: "Handler run time of dispatched jobs in seconds",
          labelNames: ["job_name"],
          buckets: [...buckets],
          registers: [this.#registry],
        });
      },
    );
    this.#failures = this.#getOrCreate(
      `${prefix}_failures_total`,
      "counter",
      ["job_name", "error_type"],
      () => {
        return new prom.Counter({
          name: `${prefix}_failures_total`,
          help: "Dispatches that did not succeed, by job name and error type",
          labelNames: ["job_name", "error_type"],
          registers: [this.#registry],
        });
      },
    );
  }

  /** Records one dispatch. `durationSeconds` is absent when no handler ran. */
  record(
    jobName: string,
    status: DispatchStatus,
    durationSeconds: number | undefined,
    errorType: string | undefined,
  ): void {
    this.#processed.inc({ job_name: jobName, status });
    if (durationSeconds !== undefined)
      this.#duration.observe({ job_name: jobName }, durationSeconds);
    if (errorType !== undefined) this.#failures.inc({ job_name: jobName, error_type: errorType });
  }

  /** Reports `queue.stats()` as `{prefix}_queue_size{queue,state}` on every scrape. */
  trackQueue(name: string, queue: StatsSource): () => void {
    const gauge = this.#gauge();
    let tracked = gauge[TRACKED];
    if (!tracked) {
      throw new ConfigError(
        `the metric ${this.#prefix}_queue_size was registered by something other than @svc-jobs/registry, so queues cannot be tracked in it: choose another metricPrefix`,
        { code: "ERR_METRIC_CONFLICT" },
      );
    }
    const existing = tracked.get(name);
    if (existing !== undefined && existing !== queue) {
      throw new ConfigError(
        `a different queue is already tracked as "${name}" in ${this.#prefix}_queue_size: pass trackQueue(queue, { name: "..." }) with a unique name per queue`,
        { code: "ERR_QUEUE_ALREADY_TRACKED" },
      );
    }
    tracked.set(name, queue);
    return () => {
      tracked = gauge[TRACKED];
      if (tracked?.get(name) === queue) tracked.delete(name);
    };
  }

  #gauge(): TrackedGauge {
    if (!this.#queueSize) {
      this.#queueSize = this.#getOrCreate(
        `${this.#prefix}_queue_size`,
        "gauge",
        ["queue", "state"],
        () => {
          const gauge: TrackedGauge = new this.#prom.Gauge({
            name: `${this.#prefix}_queue_size`,
            help: "Jobs in each queue by state (ready, delayed, processing, dlq), read from queue.stats() on scrape",
            labelNames: ["queue", "state"],
            registers: [this.#registry],
            async collect() {
              await collectQueueSizes(gauge);
            },
          });
          gauge[TRACKED] = new Map();
          return gauge;
        },
      );
    }
    return this.#queueSize;
  }

  #getOrCreate<M>(name: string, type: string, labelNames: readonly string[], create: () => M): M {
    const existing = this.#registry.getSingleMetric(name) as
      | { type?: unknown; labelNames?: unknown }
      | undefined;
    if (existing === undefined) return create();
    // Another JobRegistry with the same prefix made it: share it instead of letting
    // prom-client throw "already registered". Anything else with that name is a clash.
    const labels = Array.isArray(existing.labelNames) ? [...existing.labelNames].sort() : [];
    if (existing.type !== type || labels.join(",") !== [...labelNames].sort().join(",")) {
      throw new ConfigError(
        `a metric named ${name} already exists in the prom-client registry with type ${String(existing.type)} and labels [${labels.join(", ")}], but the job registry needs a ${type} with labels [${labelNames.join(", ")}]: pass another metricPrefix to JobRegistry, or another registry`,
        { code: "ERR_METRIC_CONFLICT" },
      );
    }
    return existing as M;
  }
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
