import {
  InMemoryJobQueue,
  type Job,
  type JobSettledEvent,
  processOne,
  WorkerRunner,
} from "@svc-jobs/core";
import { JobMetrics, JobRegistry } from "@svc-jobs/registry";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { metricValue, samplesOf } from "./exposition.js";

class QuotaExceeded extends Error {}

let nextId = 1;
function makeJob(name: string): Job {
  return {
    id: `m${nextId++}`,
    name,
    payload: {},
    availableAt: new Date(),
    attempts: 1,
    maxAttempts: 5,
    backoffSeconds: 60,
    lastError: null,
  };
}

const processed = (prom: Registry, job_name: string, status: string) =>
  metricValue(prom, "jobs_processed_total", { job_name, status });
const failures = (prom: Registry, job_name: string, error_type: string) =>
  metricValue(prom, "jobs_failures_total", { job_name, error_type });

describe("JobMetrics fed by a worker's onJobSettled", () => {
  it("records a plain function's jobs with the registry's names, labels and error types", async () => {
    const prom = new Registry();
    const metrics = new JobMetrics({ registry: prom });
    const queue = new InMemoryJobQueue();
    metrics.trackQueue(queue, { name: "main" });
    await queue.enqueue("ok", {});
    await queue.enqueue("throws", {}, { maxAttempts: 1 });
    await queue.enqueue("quota", {}, { maxAttempts: 1 });
    await queue.enqueue("slow", {}, { maxAttempts: 1 });
    await new WorkerRunner(
      queue,
      async (job, { signal }) => {
        if (job.name === "throws") throw new TypeError("boom");
        if (job.name === "quota") throw new QuotaExceeded("over quota");
        if (job.name === "slow") await new Promise((r) => signal.addEventListener("abort", r));
      },
      { maxJobs: 4, timeoutSeconds: 0.05, onJobSettled: metrics.onJobSettled },
    ).start();

    expect(await processed(prom, "ok", "success")).toBe(1);
    expect(await processed(prom, "throws", "error")).toBe(1);
    expect(await processed(prom, "slow", "timeout")).toBe(1);
    expect(await failures(prom, "throws", "TypeError")).toBe(1);
    // A subclass that keeps the name "Error" is labelled by its class, as for a registry.
    expect(await failures(prom, "quota", "QuotaExceeded")).toBe(1);
    expect(await failures(prom, "slow", "JobTimeoutError")).toBe(1);
    expect(await metricValue(prom, "jobs_duration_seconds_count", { job_name: "ok" })).toBe(1);
    expect(await metricValue(prom, "jobs_queue_size", { queue: "main", state: "dlq" })).toBe(3);
  });

  it("labels an error the same way for a plain function in a worker and a registry's dispatch", async () => {
    const viaWorker = new Registry();
    const viaDispatch = new Registry();
    const metrics = new JobMetrics({ registry: viaWorker });
    const registry = new JobRegistry({ registry: viaDispatch });
    const fail = () => {
      throw new QuotaExceeded("over quota");
    };
    registry.register("quota", fail);
    const queue = new InMemoryJobQueue();
    await queue.enqueue("quota", {}, { maxAttempts: 1 });
    await processOne(queue, fail, { onJobSettled: metrics.onJobSettled });
    await expect(registry.dispatch(makeJob("quota"))).rejects.toThrow(QuotaExceeded);
    const labels = async (prom: Registry) =>
      (await samplesOf(prom, "jobs_failures_total")).map((s) => s.labels);
    expect(await labels(viaWorker)).toEqual(await labels(viaDispatch));
    expect(await labels(viaWorker)).toEqual([{ job_name: "quota", error_type: "QuotaExceeded" }]);
  });

  it("does not count jobs handed back on stop", async () => {
    const prom = new Registry();
    const metrics = new JobMetrics({ registry: prom });
    const event: JobSettledEvent = {
      job: makeJob("x"),
      outcome: "released",
      durationSeconds: 1,
      status: "released",
      durationMs: 1000,
    };
    metrics.onJobSettled(event);
    metrics.record("y", "completed", 0.01);
    expect(await samplesOf(prom, "jobs_processed_total")).toEqual([
      { name: "jobs_processed_total", labels: { job_name: "y", status: "success" }, value: 1 },
    ]);
  });

  it("enabled: false records nothing; a bad prefix or buckets is a ConfigError", async () => {
    const prom = new Registry();
    const metrics = new JobMetrics({ registry: prom, enabled: false });
    expect(metrics.enabled).toBe(false);
    metrics.record("x", "completed", 0.1);
    expect(prom.getMetricsAsArray()).toEqual([]);
    expect(() => new JobMetrics({ metricPrefix: "my-app" })).toThrow(/metricPrefix/);
    expect(() => new JobMetrics({ durationBuckets: [2, 1] })).toThrow(/durationBuckets/);
  });
});

describe("no double counting", () => {
  it("a registry handler in a worker that also feeds the same metrics counts each job once", async () => {
    const prom = new Registry();
    const registry = new JobRegistry({ registry: prom });
    registry.register("work", () => {});
    registry.register("declined", () => ({ success: false, message: "no" }));
    const queue = new InMemoryJobQueue();
    await queue.enqueue("work", {});
    await queue.enqueue("declined", {}, { maxAttempts: 1 });
    // The handler records through its own hook; the worker's option hands the same
    // event to the same metrics, and a second JobMetrics on the same prom registry
    // shares the counters: still one count per job.
    const twin = new JobMetrics({ registry: prom });
    await new WorkerRunner(queue, registry.asHandler(), {
      maxJobs: 2,
      onJobSettled: (event) => {
        registry.jobMetrics.onJobSettled(event);
        twin.onJobSettled(event);
      },
    }).start();
    expect(await processed(prom, "work", "success")).toBe(1);
    expect(await processed(prom, "declined", "failure")).toBe(1);
    expect(await failures(prom, "declined", "JobFailedError")).toBe(1);
    expect(await metricValue(prom, "jobs_duration_seconds_count", { job_name: "work" })).toBe(1);
  });

  it("processOne with a registry handler counts once, in the registry's metrics", async () => {
    const prom = new Registry();
    const registry = new JobRegistry({ registry: prom, metricPrefix: "app_jobs" });
    registry.register("work", () => {});
    const queue = new InMemoryJobQueue();
    await queue.enqueue("work", {});
    await processOne(queue, registry.asHandler(), {
      onJobSettled: registry.jobMetrics.onJobSettled,
    });
    expect(
      await metricValue(prom, "app_jobs_processed_total", { job_name: "work", status: "success" }),
    ).toBe(1);
  });

  it("separate metric sets (another prom registry) each count the job once", async () => {
    const mine = new Registry();
    const theirs = new Registry();
    const registry = new JobRegistry({ registry: mine });
    registry.register("work", () => {});
    const other = new JobMetrics({ registry: theirs });
    const queue = new InMemoryJobQueue();
    await queue.enqueue("work", {});
    await processOne(queue, registry.asHandler(), { onJobSettled: other.onJobSettled });
    expect(await processed(mine, "work", "success")).toBe(1);
    expect(await processed(theirs, "work", "success")).toBe(1);
  });
});
