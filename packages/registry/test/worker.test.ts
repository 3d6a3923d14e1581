import {
  InMemoryJobQueue,
  type JobOutcome,
  ManualClock,
  processOne,
  WorkerRunner,
} from "@svc-jobs/core";
import { JobRegistry, JobTimeoutError } from "@svc-jobs/registry";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { metricValue } from "./exposition.js";

describe("a registry-backed WorkerRunner on the memory queue", () => {
  it("acks successes, dead-letters failures with the result's message, and times out slow jobs", async () => {
    const prom = new Registry();
    const registry = new JobRegistry({ registry: prom });
    const queue = new InMemoryJobQueue();
    registry.trackQueue(queue);

    const sent: string[] = [];
    let slowSignal: AbortSignal | undefined;
    registry.register<{ to: string }>("send_email", async (job) => {
      sent.push(job.payload.to);
      return { success: true, message: `sent to ${job.payload.to}` };
    });
    registry.register("charge", async () => ({ success: false, message: "card declined" }));
    registry.register("slow", (_job, { signal }) => {
      slowSignal = signal;
      return new Promise<undefined>((_, reject) => {
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    });

    await queue.enqueue("send_email", { to: "a@example.com" });
    const charge = await queue.enqueue("charge", {}, { maxAttempts: 2, backoffSeconds: 0 });
    const slow = await queue.enqueue("slow", {}, { maxAttempts: 1 });
    await queue.enqueue("nobody_handles_this", {}, { maxAttempts: 1 });

    const outcomes: JobOutcome[] = [];
    // The timeout asHandler() asks for is applied by the worker, the only timer.
    const runner = new WorkerRunner(queue, registry.asHandler({ timeoutSeconds: 0.05 }), {
      pollIntervalSeconds: 0.05,
      maxJobs: 5, // send_email, charge twice, slow, the unknown one
      onJobSettled: (outcome) => outcomes.push(outcome),
    });
    await runner.start();

    expect(sent).toEqual(["a@example.com"]);
    expect(outcomes.map((o) => `${o.job.name}:${o.status}`).sort()).toEqual([
      "charge:failed",
      "charge:failed",
      "nobody_handles_this:failed",
      "send_email:completed",
      "slow:timeout",
    ]);
    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 3 });

    const dead = await queue.dlq.list();
    const byName = new Map(dead.map((job) => [job.name, job]));
    expect(byName.get("charge")).toMatchObject({
      id: charge.id,
      attempts: 2,
      lastError: "card declined",
    });
    expect(byName.get("slow")).toMatchObject({ id: slow.id, attempts: 1 });
    expect(byName.get("slow")?.lastError).toMatch(/job "slow" timed out after 0.05s/);
    expect(slowSignal?.aborted).toBe(true);
    expect(slowSignal?.reason).toBeInstanceOf(JobTimeoutError);
    expect(byName.get("nobody_handles_this")?.lastError).toMatch(/no handler registered/);

    const processed = (job_name: string, status: string) =>
      metricValue(prom, "jobs_processed_total", { job_name, status });
    expect(await processed("send_email", "success")).toBe(1);
    expect(await processed("charge", "failure")).toBe(2);
    expect(await processed("slow", "timeout")).toBe(1);
    expect(await processed("nobody_handles_this", "error")).toBe(1);
    expect(await metricValue(prom, "jobs_queue_size", { queue: "default", state: "dlq" })).toBe(3);
  });

  it("forwards a forced stop to the registry handler's signal and hands the job back", async () => {
    const registry = new JobRegistry({ metrics: false });
    const queue = new InMemoryJobQueue();
    let started: () => void = () => {};
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    let seen: AbortSignal | undefined;
    registry.register("long", (_job, { signal }) => {
      seen = signal;
      started();
      return new Promise<undefined>((_, reject) => {
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    });
    await queue.enqueue("long", {});
    const runner = new WorkerRunner(queue, registry.asHandler(), { pollIntervalSeconds: 0.05 });
    const done = runner.start();
    await running;
    await runner.stop({ graceSeconds: 0 });
    await done;
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toMatchObject({ code: "ERR_WORKER_STOPPED" });
    expect(await queue.stats()).toMatchObject({ ready: 1, processing: 0, dlq: 0 });
  });
});

describe("processOne with a registry", () => {
  it("acks a success and fails a success: false result with its message", async () => {
    const registry = new JobRegistry({ metrics: false });
    registry.register("ok", () => {});
    registry.register("bad", () => ({ success: false, message: "upstream said no" }));
    const clock = new ManualClock();
    const queue = new InMemoryJobQueue({ clock });
    await queue.enqueue("ok", {});
    const bad = await queue.enqueue("bad", {}, { maxAttempts: 3, backoffSeconds: 10 });
    const handler = registry.asHandler();

    expect(await processOne(queue, handler)).toBe(true);
    expect(await queue.stats()).toMatchObject({ ready: 1, processing: 0 });
    expect(await processOne(queue, handler)).toBe(true);
    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 1, processing: 0, dlq: 0 });
    expect(await processOne(queue, handler)).toBe(false);

    clock.advance(10);
    const retry = await queue.reserveNext();
    expect(retry).toMatchObject({ id: bad.id, attempts: 2, lastError: "upstream said no" });
  });
});
