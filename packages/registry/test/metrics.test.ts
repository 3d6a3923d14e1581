import { ConfigError, InMemoryJobQueue, type Job, ManualClock } from "@svc-jobs/core";
import { JobRegistry } from "@svc-jobs/registry";
import { Counter, register as globalRegister, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { metricValue, samplesOf } from "./exposition.js";

let nextId = 1;
function makeJob(name: string): Job {
  return {
    id: String(nextId++),
    name,
    payload: {},
    availableAt: new Date(),
    attempts: 1,
    maxAttempts: 5,
    backoffSeconds: 60,
    lastError: null,
  };
}

function setup(metricPrefix = "jobs") {
  const prom = new Registry();
  const registry = new JobRegistry({ registry: prom, metricPrefix });
  return { prom, registry };
}

describe("processed, duration and failure metrics", () => {
  it("counts every outcome with its status and error_type", async () => {
    const { prom, registry } = setup();
    expect(registry.metricsEnabled).toBe(true);
    registry.register("ok", () => ({ success: true, message: "fine" }));
    registry.register("void", async () => {});
    registry.register("declined", () => ({ success: false, message: "card declined" }));
    registry.register("throws", () => {
      throw new TypeError("boom");
    });
    registry.register("own_timeout", async () => {
      throw new DOMException("upstream timed out", "TimeoutError");
    });
    registry.register("slow", (_job, { signal }) => {
      return new Promise<undefined>((_, reject) => {
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    });

    await registry.dispatch(makeJob("ok"));
    await registry.dispatch(makeJob("ok"));
    await registry.dispatch(makeJob("void"));
    await registry.dispatch(makeJob("declined"));
    await expect(registry.dispatch(makeJob("throws"))).rejects.toThrow(TypeError);
    await expect(registry.dispatch(makeJob("own_timeout"))).rejects.toThrow("upstream");
    await expect(registry.dispatch(makeJob("slow"), { timeoutSeconds: 0.02 })).rejects.toThrow(
      /timed out/,
    );
    await expect(registry.dispatch(makeJob("missing"))).rejects.toThrow(/no handler/);

    const processed = (job_name: string, status: string) =>
      metricValue(prom, "jobs_processed_total", { job_name, status });
    expect(await processed("ok", "success")).toBe(2);
    expect(await processed("void", "success")).toBe(1);
    expect(await processed("declined", "failure")).toBe(1);
    expect(await processed("throws", "error")).toBe(1);
    expect(await processed("own_timeout", "error")).toBe(1);
    expect(await processed("own_timeout", "timeout")).toBeUndefined();
    expect(await processed("slow", "timeout")).toBe(1);
    expect(await processed("missing", "error")).toBe(1);

    const failures = (job_name: string, error_type: string) =>
      metricValue(prom, "jobs_failures_total", { job_name, error_type });
    expect(await failures("declined", "JobFailedError")).toBe(1);
    expect(await failures("throws", "TypeError")).toBe(1);
    expect(await failures("own_timeout", "TimeoutError")).toBe(1);
    expect(await failures("slow", "JobTimeoutError")).toBe(1);
    expect(await failures("missing", "UnknownJobError")).toBe(1);
    const failureSamples = await samplesOf(prom, "jobs_failures_total");
    expect(failureSamples.some((s) => s.labels.job_name === "ok")).toBe(false);

    // A handler that ran has its run time observed; an unknown name ran nothing.
    const count = (job_name: string) =>
      metricValue(prom, "jobs_duration_seconds_count", { job_name });
    expect(await count("ok")).toBe(2);
    expect(await count("declined")).toBe(1);
    expect(await count("throws")).toBe(1);
    expect(await count("slow")).toBe(1);
    expect(await count("missing")).toBeUndefined();
    const slowSum = await metricValue(prom, "jobs_duration_seconds_sum", { job_name: "slow" });
    expect(slowSum).toBeGreaterThan(0);
    const inf = await metricValue(prom, "jobs_duration_seconds_bucket", {
      job_name: "ok",
      le: "+Inf",
    });
    expect(inf).toBe(2);
    const largestBucket = await metricValue(prom, "jobs_duration_seconds_bucket", {
      job_name: "ok",
      le: "600",
    });
    expect(largestBucket).toBe(2);
  });

  it("uses metricPrefix and custom buckets", async () => {
    const prom = new Registry();
    const registry = new JobRegistry({
      registry: prom,
      metricPrefix: "myapp_jobs",
      durationBuckets: [1, 2],
    });
    registry.register("x", () => {});
    await registry.dispatch(makeJob("x"));
    expect(
      await metricValue(prom, "myapp_jobs_processed_total", { job_name: "x", status: "success" }),
    ).toBe(1);
    const buckets = (await samplesOf(prom, "myapp_jobs_duration_seconds_bucket")).map(
      (s) => s.labels.le,
    );
    expect(buckets).toEqual(["1", "2", "+Inf"]);
    expect(await samplesOf(prom, "jobs_processed_total")).toEqual([]);
  });

  it("creates metrics lazily, on first use", async () => {
    const prom = new Registry();
    const registry = new JobRegistry({ registry: prom, metricPrefix: "lazy" });
    registry.register("x", () => {});
    expect(prom.getSingleMetric("lazy_processed_total")).toBeUndefined();
    await registry.dispatch(makeJob("x"));
    expect(prom.getSingleMetric("lazy_processed_total")).toBeDefined();
    expect(prom.getSingleMetric("lazy_duration_seconds")).toBeDefined();
    expect(prom.getSingleMetric("lazy_failures_total")).toBeDefined();
    // The queue gauge only appears once a queue is tracked.
    expect(prom.getSingleMetric("lazy_queue_size")).toBeUndefined();
  });

  it("two registries with the same prefix share the metrics instead of throwing", async () => {
    const prom = new Registry();
    const a = new JobRegistry({ registry: prom }).register("x", () => {});
    const b = new JobRegistry({ registry: prom }).register("x", () => {});
    await a.dispatch(makeJob("x"));
    await b.dispatch(makeJob("x"));
    await b.dispatch(makeJob("x"));
    expect(
      await metricValue(prom, "jobs_processed_total", { job_name: "x", status: "success" }),
    ).toBe(3);
    expect(await metricValue(prom, "jobs_duration_seconds_count", { job_name: "x" })).toBe(3);
  });

  it("uses prom-client's global register by default", async () => {
    const prefix = `global_${process.pid}`;
    try {
      const registry = new JobRegistry({ metricPrefix: prefix }).register("x", () => {});
      await registry.dispatch(makeJob("x"));
      expect(
        await metricValue(globalRegister, `${prefix}_processed_total`, {
          job_name: "x",
          status: "success",
        }),
      ).toBe(1);
    } finally {
      for (const suffix of ["processed_total", "duration_seconds", "failures_total"]) {
        globalRegister.removeSingleMetric(`${prefix}_${suffix}`);
      }
    }
  });

  it("refuses a clashing metric of another shape with ConfigError", async () => {
    const prom = new Registry();
    new Counter({
      name: "clash_processed_total",
      help: "someone else's",
      labelNames: ["name"],
      registers: [prom],
    });
    const registry = new JobRegistry({ registry: prom, metricPrefix: "clash" });
    registry.register("x", () => {});
    const error = await registry.dispatch(makeJob("x")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: "ERR_METRIC_CONFLICT" });
    expect((error as Error).message).toMatch(/clash_processed_total.*metricPrefix/);
  });

  it("metrics: false records nothing even with prom-client installed", async () => {
    const prom = new Registry();
    const registry = new JobRegistry({ registry: prom, metrics: false });
    expect(registry.metricsEnabled).toBe(false);
    registry.register("x", () => {});
    await registry.dispatch(makeJob("x"));
    registry.trackQueue(new InMemoryJobQueue());
    expect(prom.getMetricsAsArray()).toEqual([]);
    expect(await prom.metrics()).toBe("\n");
  });
});

describe("queue gauges", () => {
  it("reads queue.stats() on each scrape into {prefix}_queue_size{queue,state}", async () => {
    const clock = new ManualClock();
    const queue = new InMemoryJobQueue({ clock, visibilityTimeoutSeconds: 600 });
    const { prom, registry } = setup();
    registry.trackQueue(queue);

    await queue.enqueue("a", {});
    await queue.enqueue("b", {});
    await queue.enqueue("dead", {}, { maxAttempts: 1 });
    await queue.enqueue("later", {}, { delaySeconds: 60 });
    const size = (state: string) =>
      metricValue(prom, "jobs_queue_size", { queue: "default", state });
    expect(await size("ready")).toBe(3);
    expect(await size("delayed")).toBe(1);
    expect(await size("processing")).toBe(0);
    expect(await size("dlq")).toBe(0);

    const a = await queue.reserveNext();
    await queue.reserveNext();
    const dead = await queue.reserveNext();
    expect(dead?.name).toBe("dead");
    await queue.fail(dead!, new Error("no"));
    await queue.ack(a!);
    clock.advance(60);
    expect(await size("ready")).toBe(1);
    expect(await size("delayed")).toBe(0);
    expect(await size("processing")).toBe(1);
    expect(await size("dlq")).toBe(1);
  });

  it("labels several queues by name, refuses a name twice, and stops tracking on request", async () => {
    const { prom, registry } = setup();
    const main = new InMemoryJobQueue();
    const email = new InMemoryJobQueue();
    registry.trackQueue(main);
    const untrack = registry.trackQueue(email, { name: "email" });
    await email.enqueue("send", {});
    await email.enqueue("send", {});
    await main.enqueue("x", {});
    expect(await metricValue(prom, "jobs_queue_size", { queue: "email", state: "ready" })).toBe(2);
    expect(await metricValue(prom, "jobs_queue_size", { queue: "default", state: "ready" })).toBe(
      1,
    );

    const error = (() => {
      try {
        registry.trackQueue(new InMemoryJobQueue(), { name: "email" });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: "ERR_QUEUE_ALREADY_TRACKED" });
    // Tracking the same queue again under its name is harmless.
    expect(() => registry.trackQueue(email, { name: "email" })).not.toThrow();

    untrack();
    const states = (await samplesOf(prom, "jobs_queue_size")).map((s) => s.labels.queue);
    expect(new Set(states)).toEqual(new Set(["default"]));
  });

  it("a queue whose stats() fails drops out of that scrape without failing it", async () => {
    const { prom, registry } = setup();
    const healthy = new InMemoryJobQueue();
    await healthy.enqueue("x", {});
    let down = true;
    const flaky = {
      async stats() {
        if (down) throw new Error("connection refused");
        return { ready: 7, delayed: 0, processing: 0, dlq: 0 };
      },
    };
    registry.trackQueue(healthy);
    registry.trackQueue(flaky, { name: "flaky" });
    expect(await metricValue(prom, "jobs_queue_size", { queue: "default", state: "ready" })).toBe(
      1,
    );
    expect(
      await metricValue(prom, "jobs_queue_size", { queue: "flaky", state: "ready" }),
    ).toBeUndefined();
    down = false;
    expect(await metricValue(prom, "jobs_queue_size", { queue: "flaky", state: "ready" })).toBe(7);
  });

  it("registries sharing a prefix share the gauge and its tracked queues", async () => {
    const prom = new Registry();
    const a = new JobRegistry({ registry: prom });
    const b = new JobRegistry({ registry: prom });
    const q1 = new InMemoryJobQueue();
    const q2 = new InMemoryJobQueue();
    await q2.enqueue("x", {});
    a.trackQueue(q1, { name: "one" });
    b.trackQueue(q2, { name: "two" });
    expect(await metricValue(prom, "jobs_queue_size", { queue: "one", state: "ready" })).toBe(0);
    expect(await metricValue(prom, "jobs_queue_size", { queue: "two", state: "ready" })).toBe(1);
  });

  it("rejects something that is not a queue, and a bad name", () => {
    const { registry } = setup();
    expect(() => registry.trackQueue({} as never)).toThrow(/stats\(\)/);
    expect(() => registry.trackQueue(new InMemoryJobQueue(), { name: "" })).toThrow(
      /non-empty string/,
    );
  });
});
