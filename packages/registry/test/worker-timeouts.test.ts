import {
  InMemoryJobQueue,
  type JobOutcome,
  JobTimeoutError,
  processOne,
  WorkerRunner,
} from "@svc-jobs/core";
import { JobRegistry } from "@svc-jobs/registry";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { metricValue } from "./exposition.js";

// The worker owns timeouts: a registry handed to WorkerRunner or processOne adds no
// timer of its own, so the worker's timeout (explicit, else the registry's declared
// one, else JOB_DEFAULT_TIMEOUT_SECONDS) is the only one that can end a job.

afterEach(() => {
  vi.unstubAllEnvs();
});

/** A handler that works for `ms` (ending early when aborted) and then succeeds. */
function workFor(ms: number) {
  return (_job: unknown, { signal }: { signal: AbortSignal }) =>
    new Promise<{ success: true; message: string }>((resolve, reject) => {
      const timer = setTimeout(() => resolve({ success: true, message: `worked ${ms} ms` }), ms);
      signal.addEventListener(
        "abort",
        () => {
          clearTimeout(timer);
          reject(signal.reason);
        },
        { once: true },
      );
    });
}

async function runAll(
  queue: InMemoryJobQueue,
  handler: ConstructorParameters<typeof WorkerRunner>[1],
  options: { timeoutSeconds?: number; maxJobs: number },
): Promise<JobOutcome[]> {
  const outcomes: JobOutcome[] = [];
  await new WorkerRunner(queue, handler, {
    ...options,
    pollIntervalSeconds: 0.05,
    onJobSettled: (outcome) => outcomes.push(outcome),
  }).start();
  return outcomes;
}

describe("timeouts of a registry run by a worker", () => {
  it("the worker's explicit timeoutSeconds wins over a shorter JOB_DEFAULT_TIMEOUT_SECONDS", async () => {
    vi.stubEnv("JOB_DEFAULT_TIMEOUT_SECONDS", "0.2");
    const registry = new JobRegistry({ metrics: false });
    registry.register("report", workFor(500));
    const queue = new InMemoryJobQueue();
    await queue.enqueue("report", {}, { maxAttempts: 1 });

    const outcomes = await runAll(queue, registry.asHandler(), { timeoutSeconds: 2, maxJobs: 1 });

    expect(outcomes.map((o) => o.status)).toEqual(["completed"]);
    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 0 });
  });

  it("a 600 s worker timeout is not cut short by the registry (no 300 s or env timer of its own)", async () => {
    vi.stubEnv("JOB_DEFAULT_TIMEOUT_SECONDS", "0.2");
    const registry = new JobRegistry({ metrics: false });
    registry.register("report", workFor(400));
    const queue = new InMemoryJobQueue();
    await queue.enqueue("report", {}, { maxAttempts: 1 });

    const outcomes = await runAll(queue, registry.asHandler(), {
      timeoutSeconds: 600,
      maxJobs: 1,
    });

    expect(outcomes.map((o) => o.status)).toEqual(["completed"]);
  });

  it("processOne's explicit timeoutSeconds wins over JOB_DEFAULT_TIMEOUT_SECONDS too", async () => {
    vi.stubEnv("JOB_DEFAULT_TIMEOUT_SECONDS", "0.2");
    const registry = new JobRegistry({ metrics: false });
    registry.register("report", workFor(500));
    const queue = new InMemoryJobQueue();
    await queue.enqueue("report", {}, { maxAttempts: 1 });

    expect(await processOne(queue, registry.asHandler(), { timeoutSeconds: 2 })).toBe(true);

    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 0 });
  });

  it("a job past the worker's timeout is a timeout: outcome, lastError, signal and metric agree", async () => {
    const prom = new Registry();
    const registry = new JobRegistry({ registry: prom });
    let seen: AbortSignal | undefined;
    registry.register("hang", (_job, { signal }) => {
      seen = signal;
      return new Promise(() => {}); // ignores its signal and never settles
    });
    const queue = new InMemoryJobQueue();
    await queue.enqueue("hang", {}, { maxAttempts: 1 });

    const outcomes = await runAll(queue, registry.asHandler(), {
      timeoutSeconds: 0.1,
      maxJobs: 1,
    });

    expect(outcomes.map((o) => o.status)).toEqual(["timeout"]);
    expect(outcomes[0]?.error).toBeInstanceOf(JobTimeoutError);
    expect(outcomes[0]?.error).toMatchObject({ jobName: "hang", timeoutSeconds: 0.1 });
    const [dead] = await queue.dlq.list();
    expect(dead?.lastError).toMatch(/job "hang" timed out after 0.1s/);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(outcomes[0]?.error);
    const processed = (status: string) =>
      metricValue(prom, "jobs_processed_total", { job_name: "hang", status });
    expect(await processed("timeout")).toBe(1);
    expect(await processed("error")).toBeUndefined();
    expect(
      await metricValue(prom, "jobs_failures_total", {
        job_name: "hang",
        error_type: "JobTimeoutError",
      }),
    ).toBe(1);
  });

  it("asHandler({ timeoutSeconds }) is the worker's timeout when the worker sets none", async () => {
    vi.stubEnv("JOB_DEFAULT_TIMEOUT_SECONDS", "30");
    const registry = new JobRegistry({ metrics: false });
    registry.register("hang", workFor(30_000));
    const queue = new InMemoryJobQueue();
    await queue.enqueue("hang", {}, { maxAttempts: 1 });

    const outcomes = await runAll(queue, registry.asHandler({ timeoutSeconds: 0.1 }), {
      maxJobs: 1,
    });

    expect(outcomes.map((o) => o.status)).toEqual(["timeout"]);
    expect(outcomes[0]?.error).toMatchObject({ timeoutSeconds: 0.1 });
  });

  it("a registry's own timeoutSeconds option applies in a worker that sets none, over the env", async () => {
    vi.stubEnv("JOB_DEFAULT_TIMEOUT_SECONDS", "30");
    const registry = new JobRegistry({ metrics: false, timeoutSeconds: 0.1 });
    registry.register("hang", workFor(30_000));
    const queue = new InMemoryJobQueue();
    await queue.enqueue("hang", {}, { maxAttempts: 1 });

    const outcomes = await runAll(queue, registry.asHandler(), { maxJobs: 1 });

    expect(outcomes.map((o) => o.status)).toEqual(["timeout"]);
    expect(outcomes[0]?.error).toMatchObject({ timeoutSeconds: 0.1 });
  });

  it("the worker's explicit timeoutSeconds wins over asHandler({ timeoutSeconds })", async () => {
    const registry = new JobRegistry({ metrics: false });
    registry.register("report", workFor(300));
    const queue = new InMemoryJobQueue();
    await queue.enqueue("report", {}, { maxAttempts: 1 });

    const outcomes = await runAll(queue, registry.asHandler({ timeoutSeconds: 0.1 }), {
      timeoutSeconds: 2,
      maxJobs: 1,
    });

    expect(outcomes.map((o) => o.status)).toEqual(["completed"]);
  });

  it("JOB_DEFAULT_TIMEOUT_SECONDS applies when nothing explicit is given, as a timeout", async () => {
    vi.stubEnv("JOB_DEFAULT_TIMEOUT_SECONDS", "0.1");
    const registry = new JobRegistry({ metrics: false });
    registry.register("hang", workFor(30_000));
    const queue = new InMemoryJobQueue();
    await queue.enqueue("hang", {}, { maxAttempts: 1 });

    const outcomes = await runAll(queue, registry.asHandler(), { maxJobs: 1 });

    expect(outcomes.map((o) => o.status)).toEqual(["timeout"]);
    expect(outcomes[0]?.error).toMatchObject({ timeoutSeconds: 0.1 });
  });
});
