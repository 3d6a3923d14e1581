import {
  InMemoryJobQueue,
  JobCancelledError,
  type JobSettledEvent,
  ManualClock,
  processOne,
  WorkerRunner,
} from "@svc-jobs/core";
import { JobRegistry } from "@svc-jobs/registry";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { metricValue, samplesOf } from "./exposition.js";

// docs/contract.md, "Seeing and controlling jobs": the registry's JobResult is kept as
// the job's result; a cancel reaches a registry handler's signal; metrics count
// cancelled and lost jobs by status.

const until = async (check: () => boolean | Promise<boolean>, timeoutMs = 5000) => {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
};

function abortedWith(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

describe("asHandler's result", () => {
  it("is kept as the job's result: the JobResult as plain JSON", async () => {
    const registry = new JobRegistry({ metrics: false });
    const at = new Date("2026-01-02T03:04:05.000Z");
    registry.register("send", () => ({
      success: true,
      message: "sent",
      details: { to: "a@example.com", at, skipped: undefined },
      // Not part of a JobResult: not kept.
      internal: () => "x",
    }));
    registry.register("quiet", () => undefined);
    registry.register("odd", () => ({ success: true, message: "odd details", details: { n: 1n } }));
    const queue = new InMemoryJobQueue({ keepCompleted: true });
    const send = await queue.enqueue("send", {});
    const quiet = await queue.enqueue("quiet", {});
    const odd = await queue.enqueue("odd", {});
    await new WorkerRunner(queue, registry.asHandler(), {
      maxJobs: 3,
      pollIntervalSeconds: 0.05,
    }).start();

    expect((await queue.getJob(send.id))?.result).toEqual({
      success: true,
      message: "sent",
      details: { to: "a@example.com", at: "2026-01-02T03:04:05.000Z" },
    });
    expect((await queue.getJob(quiet.id))?.result).toEqual({
      success: true,
      message: 'job "quiet" completed',
    });
    // Details with no JSON form are left out; the job still completes with its message.
    expect((await queue.getJob(odd.id))?.result).toEqual({
      success: true,
      message: "odd details",
    });
  });

  it("processOne keeps it the same way", async () => {
    const registry = new JobRegistry({ metrics: false });
    registry.register("charge", () => ({
      success: true,
      message: "charged",
      details: { cents: 500 },
    }));
    const queue = new InMemoryJobQueue({ keepCompleted: true });
    const job = await queue.enqueue("charge", {});
    await processOne(queue, registry.asHandler());
    expect(await queue.getJob(job.id)).toMatchObject({
      state: "completed",
      result: { success: true, message: "charged", details: { cents: 500 } },
    });
  });
});

describe("a registry handler run by a worker", () => {
  it("reports progress through the worker's queue", async () => {
    const registry = new JobRegistry({ metrics: false });
    registry.register("import", async (_job, { progress }) => {
      await progress({ done: 5, of: 10 });
      return { success: true, message: "imported" };
    });
    const queue = new InMemoryJobQueue({ keepCompleted: true });
    const job = await queue.enqueue("import", {});
    await processOne(queue, registry.asHandler());
    expect((await queue.getJob(job.id))?.progress).toEqual({ done: 5, of: 10 });
    // A direct dispatch has no queue to report to: progress does nothing.
    await expect(registry.dispatch(job)).resolves.toMatchObject({ success: true });
  });

  it("sees a cancel on its signal; the metrics count it as cancelled, not as a failure", async () => {
    const prom = new Registry();
    const registry = new JobRegistry({ registry: prom });
    let reason: unknown;
    registry.register("long", async (_job, { signal }) => {
      try {
        return await abortedWith(signal);
      } catch (error) {
        reason = error;
        throw error;
      }
    });
    const queue = new InMemoryJobQueue({ keepCancelled: true });
    const job = await queue.enqueue("long", {});
    const settled: JobSettledEvent[] = [];
    const runner = new WorkerRunner(queue, registry.asHandler(), {
      pollIntervalSeconds: 0.05,
      onJobSettled: (e) => settled.push(e),
    });
    runner.start();
    await until(async () => (await queue.getJob(job.id))?.state === "processing");
    await queue.cancel(job.id);
    await until(() => settled.length === 1);
    await runner.stop();

    expect(reason).toBeInstanceOf(JobCancelledError);
    expect(settled[0]?.outcome).toBe("cancelled");
    expect(await queue.getJob(job.id)).toMatchObject({ state: "cancelled" });
    expect(
      await metricValue(prom, "jobs_processed_total", { job_name: "long", status: "cancelled" }),
    ).toBe(1);
    expect(await samplesOf(prom, "jobs_failures_total")).toEqual([]);
    const count = (await samplesOf(prom, "jobs_duration_seconds_count")).find(
      (s) => s.labels.job_name === "long",
    );
    expect(count?.value).toBe(1);
  });

  it("a lost reservation counts as status lost, with error_type ReservationLostError", async () => {
    const prom = new Registry();
    const registry = new JobRegistry({ registry: prom });
    let runs = 0;
    registry.register("long", async (_job, { signal }) => {
      runs++;
      if (runs > 1) return { success: true, message: "second run" };
      return abortedWith(signal);
    });
    const clock = new ManualClock();
    const queue = new InMemoryJobQueue({ clock, visibilityTimeoutSeconds: 30 });
    await queue.enqueue("long", {});
    const settled: JobSettledEvent[] = [];
    const runner = new WorkerRunner(queue, registry.asHandler(), {
      pollIntervalSeconds: 0.05,
      onJobSettled: (e) => settled.push(e),
    });
    runner.start();
    await until(() => runs === 1);
    clock.advance(31);
    await until(() => settled.length === 2);
    await runner.stop();

    expect(settled.map((e) => e.outcome)).toEqual(["lost", "completed"]);
    const processed = (status: string) =>
      metricValue(prom, "jobs_processed_total", { job_name: "long", status });
    expect(await processed("lost")).toBe(1);
    expect(await processed("success")).toBe(1);
    expect(
      await metricValue(prom, "jobs_failures_total", {
        job_name: "long",
        error_type: "ReservationLostError",
      }),
    ).toBe(1);
  });
});
