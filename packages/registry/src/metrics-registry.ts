/**
 * The part of a prom-client `Registry` the job registry uses. Described
 * structurally so this package's types do not require prom-client; pass a
 * `new Registry()` from prom-client (or its global `register`).
 */
export interface MetricsRegistry {
  /** The metric registered under `name`, if any. */
  getSingleMetric(name: string): unknown;
}
