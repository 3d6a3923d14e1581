import {
  InMemoryJobQueue,
  type Job,
  JobCancelledError,
  type JobEvent,
  type JobQueue,
  type JobRef,
  type JobSettledEvent,
  ManualClock,
  processOne,
  WorkerRunner,
} from "@svc-jobs/core";
import { describe, expect, it } from "vitest";
import { tick, until } from "./helpers/wait.js";

// docs/contract.md, "Seeing and controlling jobs", Cancel: a worker finds out about a
// cancel within a second and aborts the handler's signal with a JobCancelledError; the job
// ends cancelled, never retried, and a late result is discarded. These run on real time
// with the default check interval (0.5 s) and generous bounds: nothing here times speed.

/** Resolves when `signal` fires, with its reason. */
function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(signal.reason);
    else signal.addEventListener("abort", () => resolve(signal.reason), { once: true });
  });
}

/** Every event of `queue` from now on, collected until `stop()`. */
function collectEvents(queue: JobQueue): { events: JobEvent[]; stop: () => void } {
  const events: JobEvent[] = [];
  const controller = new AbortController();
  void (async () => {
    for await (const event of queue.events({ signal: controller.signal })) events.push(event);
  })();
  return { events, stop: () => controller.abort() };
}

/** Counts `checkReservations` calls and records the ids each one asked about. */
function spyChecks(queue: InMemoryJobQueue): string[][] {
  const calls: string[][] = [];
  const real = queue.checkReservations.bind(queue);
  queue.checkReservations = (jobs: JobRef[]) => {
    calls.push(jobs.map((job) => (typeof job === "string" ? job : job.id)));
    return real(jobs);
  };
  return calls;
}

describe("WorkerRunner: cancelling a running job", () => {
  it("aborts the handler's signal with a JobCancelledError; the job ends cancelled, not retried", async () => {
    const queue = new InMemoryJobQueue({ keepCancelled: true });
    const { events, stop: stopEvents } = collectEvents(queue);
    const job = await queue.enqueue("long", { n: 1 }, { maxAttempts: 3 });
    let reason: unknown;
    let runs = 0;
    const settled: JobSettledEvent[] = [];
    const runner = new WorkerRunner(
      queue,
      async (_job, { signal }) => {
        runs++;
        reason = await aborted(signal);
        throw reason; // what a handler passing its signal to fetch or a db call does
      },
      { pollIntervalSeconds: 0.05, onJobSettled: (event) => settled.push(event) },
    );
    const done = runner.start();
    await until(async () => (await queue.getJob(job.id))?.state === "processing");

    expect(await queue.cancel(job.id, { reason: "customer withdrew" })).toBe(true);
    await until(() => settled.length === 1, 5000);

    expect(reason).toBeInstanceOf(JobCancelledError);
    expect(reason).toMatchObject({ jobId: job.id, code: "ERR_JOB_CANCELLED" });
    expect(settled[0]?.outcome).toBe("cancelled");
    expect(settled[0]?.status).toBe("cancelled");
    expect(settled[0]?.error).toBe(reason);
    expect(runner.activeCount).toBe(0);

    // Never retried, never dead: still cancelled after a while, and run once.
    await tick(700);
    expect(runs).toBe(1);
    expect(await queue.getJob(job.id)).toMatchObject({ state: "cancelled", result: null });
    expect(await queue.stats()).toMatchObject({
      ready: 0,
      delayed: 0,
      processing: 0,
      dlq: 0,
      cancelled: 1,
    });
    await runner.stop();
    await done;
    stopEvents();
    const types = events.filter((e) => e.jobId === job.id).map((e) => e.type);
    expect(types).toContain("cancelled");
    expect(types).not.toContain("retrying");
    expect(types).not.toContain("completed");
    expect(types).not.toContain("dead");
  });

  it("a handler that ignores its signal: the worker moves on, its result is discarded, the job stays cancelled", async () => {
    const queue = new InMemoryJobQueue({ keepCancelled: true, keepCompleted: true });
    const stubborn = await queue.enqueue("stubborn", {});
    const next = await queue.enqueue("next", {});
    let finishStubborn: (() => void) | undefined;
    let stubbornReturned = false;
    const ran: string[] = [];
    const settled: JobSettledEvent[] = [];
    const runner = new WorkerRunner(
      queue,
      async (job) => {
        ran.push(job.name);
        if (job.name === "stubborn") {
          await new Promise<void>((resolve) => {
            finishStubborn = resolve;
          });
          stubbornReturned = true;
          return { charged: true };
        }
        return "next done";
      },
      { concurrency: 1, pollIntervalSeconds: 0.05, onJobSettled: (e) => settled.push(e) },
    );
    runner.start();
    await until(() => finishStubborn !== undefined);
    await queue.cancel(stubborn.id);

    // The worker does not wait for it: its slot is free and the next job runs.
    await until(() => settled.length === 2, 5000);
    expect(settled.map((e) => [e.job.name, e.outcome])).toEqual([
      ["stubborn", "cancelled"],
      ["next", "completed"],
    ]);
    expect(stubbornReturned).toBe(false);

    // It returns in the end: nothing changes.
    finishStubborn?.();
    await until(() => stubbornReturned);
    await tick(50);
    expect(await queue.getJob(stubborn.id)).toMatchObject({ state: "cancelled", result: null });
    expect(await queue.getJob(next.id)).toMatchObject({ state: "completed", result: "next done" });
    expect(settled).toHaveLength(2);
    expect(ran).toEqual(["stubborn", "next"]);
    await runner.stop();
  });

  it("a job cancelled while others run: only its handler is aborted", async () => {
    const queue = new InMemoryJobQueue();
    const jobs = await Promise.all([1, 2, 3].map((i) => queue.enqueue("j", { i })));
    const reasons = new Map<string, unknown>();
    const release: (() => void)[] = [];
    const settled: JobSettledEvent[] = [];
    const runner = new WorkerRunner(
      queue,
      (job, { signal }) =>
        new Promise<void>((resolve, reject) => {
          release.push(resolve);
          signal.addEventListener("abort", () => {
            reasons.set(job.id, signal.reason);
            reject(signal.reason);
          });
        }),
      { concurrency: 3, pollIntervalSeconds: 0.05, onJobSettled: (e) => settled.push(e) },
    );
    runner.start();
    await until(() => release.length === 3);
    await queue.cancel(jobs[1]!.id);
    await until(() => settled.length === 1, 5000);
    expect([...reasons.keys()]).toEqual([jobs[1]!.id]);
    for (const resolve of release) resolve();
    await until(() => settled.length === 3);
    expect(Object.fromEntries(settled.map((e) => [e.job.id, e.outcome]))).toEqual({
      [jobs[0]!.id]: "completed",
      [jobs[1]!.id]: "cancelled",
      [jobs[2]!.id]: "completed",
    });
    await runner.stop();
    expect(await queue.stats()).toMatchObject({ ready: 0, processing: 0, dlq: 0, delayed: 0 });
  });

  it("a lost reservation aborts the handler with ERR_RESERVATION_LOST and the job runs again", async () => {
    const clock = new ManualClock();
    const queue = new InMemoryJobQueue({ clock, visibilityTimeoutSeconds: 30 });
    await queue.enqueue("long", {}, { maxAttempts: 3 });
    const reasons: unknown[] = [];
    const attempts: number[] = [];
    const settled: JobSettledEvent[] = [];
    const runner = new WorkerRunner(
      queue,
      async (job, { signal }) => {
        attempts.push(job.attempts);
        if (job.attempts > 1) return;
        reasons.push(await aborted(signal));
      },
      { pollIntervalSeconds: 0.05, onJobSettled: (e) => settled.push(e) },
    );
    runner.start();
    await until(() => attempts.length === 1);
    // The reservation expires (the heartbeat never ran: it is 10 s of real time away).
    clock.advance(31);
    await until(() => settled.length === 2, 5000);
    await runner.stop();

    expect(reasons[0]).toMatchObject({
      name: "ReservationLostError",
      code: "ERR_RESERVATION_LOST",
    });
    expect(settled.map((e) => e.outcome)).toEqual(["lost", "completed"]);
    expect(settled[0]?.error).toBe(reasons[0]);
    // The expiry was a failed attempt; the second run was attempt 2.
    expect(attempts).toEqual([1, 2]);
    expect(await queue.stats()).toMatchObject({ ready: 0, processing: 0, dlq: 0 });
  });

  it("a job back in the same runner while its old run ignores its signal: the old run is lost, its late result changes nothing", async () => {
    const clock = new ManualClock();
    const queue = new InMemoryJobQueue({
      clock,
      visibilityTimeoutSeconds: 30,
      keepCompleted: true,
    });
    const job = await queue.enqueue("long", {}, { maxAttempts: 3 });
    let finishFirst: (() => void) | undefined;
    const settled: JobSettledEvent[] = [];
    const runner = new WorkerRunner(
      queue,
      async (reserved) => {
        if (reserved.attempts > 1) return `attempt ${reserved.attempts}`;
        await new Promise<void>((resolve) => {
          finishFirst = resolve;
        });
        return "stale";
      },
      { concurrency: 2, pollIntervalSeconds: 0.02, onJobSettled: (e) => settled.push(e) },
    );
    runner.start();
    await until(() => finishFirst !== undefined);
    clock.advance(31);
    await until(() => settled.length === 2, 5000);
    finishFirst?.();
    await tick(50);
    await runner.stop();
    expect(settled.map((e) => [e.outcome, e.job.attempts])).toEqual([
      ["lost", 1],
      ["completed", 2],
    ]);
    expect(await queue.getJob(job.id)).toMatchObject({ state: "completed", result: "attempt 2" });
  });

  it("asks the queue once per check for all running jobs, and never while idle", async () => {
    const queue = new InMemoryJobQueue();
    const calls = spyChecks(queue);
    const release: (() => void)[] = [];
    const runner = new WorkerRunner(
      queue,
      () =>
        new Promise<void>((resolve) => {
          release.push(resolve);
        }),
      { concurrency: 3, pollIntervalSeconds: 0.05 },
    );
    runner.start();
    await tick(1200);
    expect(calls).toEqual([]); // idle: no calls

    const jobs = await Promise.all([1, 2, 3].map((i) => queue.enqueue("j", { i })));
    await until(() => release.length === 3);
    await until(() => calls.length >= 2, 5000);
    for (const ids of calls) expect(ids.sort()).toEqual(jobs.map((j) => j.id).sort());
    for (const resolve of release) resolve();
    await until(async () => (await queue.stats()).processing === 0);
    await tick(50);
    const afterwards = calls.length;
    await tick(1200);
    expect(calls.length).toBe(afterwards); // idle again: no calls
    await runner.stop();
  });

  it("cancelCheckSeconds sets the interval; Infinity never checks (the backend still fences the job)", async () => {
    const queue = new InMemoryJobQueue({ keepCancelled: true });
    const calls = spyChecks(queue);
    const job = await queue.enqueue("a", {});
    let finish: (() => void) | undefined;
    const settled: JobSettledEvent[] = [];
    const runner = new WorkerRunner(
      queue,
      () =>
        new Promise<string>((resolve) => {
          finish = () => resolve("late");
        }),
      {
        cancelCheckSeconds: Number.POSITIVE_INFINITY,
        pollIntervalSeconds: 0.05,
        onJobSettled: (e) => settled.push(e),
      },
    );
    runner.start();
    await until(() => finish !== undefined);
    await queue.cancel(job.id);
    await tick(700);
    expect(calls).toEqual([]);
    finish?.();
    await until(() => settled.length === 1);
    await runner.stop();
    // Its ack was fenced: still cancelled.
    expect(await queue.getJob(job.id)).toMatchObject({ state: "cancelled", result: null });

    const fast = new InMemoryJobQueue();
    const fastCalls = spyChecks(fast);
    await fast.enqueue("b", {});
    const fastRunner = new WorkerRunner(fast, () => tick(300), {
      cancelCheckSeconds: 0.02,
      maxJobs: 1,
      pollIntervalSeconds: 0.05,
    });
    await fastRunner.start();
    expect(fastCalls.length).toBeGreaterThanOrEqual(3);
  });

  it("refuses a bad or misspelt cancelCheckSeconds", async () => {
    const queue = new InMemoryJobQueue();
    for (const bad of [0, -1, 0.001, Number.NaN, Number.NEGATIVE_INFINITY, "0.5"]) {
      expect(() => new WorkerRunner(queue, () => {}, { cancelCheckSeconds: bad as never })).toThrow(
        /cancelCheckSeconds must be a number of seconds >= 0.01/,
      );
    }
    expect(() => new WorkerRunner(queue, () => {}, { cancelCheck: 1 } as never)).toThrow(
      /cancelCheck.*cancelCheckSeconds/,
    );
    await expect(processOne(queue, () => {}, { cancelCheckMs: 500 } as never)).rejects.toThrow(
      /cancelCheckMs.*cancelCheckSeconds \(in seconds\)/,
    );
    await expect(processOne(queue, () => {}, { cancelCheckSeconds: -1 })).rejects.toThrow(
      /cancelCheckSeconds/,
    );
  });

  it("leaves no timer behind once stopped", async () => {
    const timers = () =>
      process.getActiveResourcesInfo().filter((type) => type === "Timeout").length;
    const queue = new InMemoryJobQueue();
    const before = timers();
    const job = await queue.enqueue("a", {});
    const settled: JobSettledEvent[] = [];
    let started = false;
    const runner = new WorkerRunner(
      queue,
      async (_job, { signal }) => {
        started = true;
        await aborted(signal);
      },
      { pollIntervalSeconds: 0.05, timeoutSeconds: 60, onJobSettled: (e) => settled.push(e) },
    );
    const done = runner.start();
    await until(() => started);
    await queue.cancel(job.id);
    await until(() => settled.length === 1, 5000);
    await runner.stop();
    await done;
    await tick(20);
    expect(timers()).toBeLessThanOrEqual(before);
  });
});

describe("processOne: cancelling the job it runs", () => {
  it("aborts the signal with a JobCancelledError, resolves true and leaves the job cancelled", async () => {
    const queue = new InMemoryJobQueue({ keepCancelled: true });
    const job = await queue.enqueue("long", {}, { maxAttempts: 2 });
    let reason: unknown;
    const settled: JobSettledEvent[] = [];
    const processing = processOne(
      queue,
      async (_job: Job, { signal }) => {
        reason = await aborted(signal);
        return "ignored";
      },
      { onJobSettled: (e) => settled.push(e) },
    );
    await until(async () => (await queue.getJob(job.id))?.state === "processing");
    await queue.cancel(job.id);
    expect(await processing).toBe(true);
    expect(reason).toBeInstanceOf(JobCancelledError);
    expect(settled.map((e) => e.outcome)).toEqual(["cancelled"]);
    expect(await queue.getJob(job.id)).toMatchObject({ state: "cancelled", result: null });
    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 0 });
  });

  it("does not wait for a handler that ignores its signal", async () => {
    const queue = new InMemoryJobQueue();
    const job = await queue.enqueue("stubborn", {});
    const settled: JobSettledEvent[] = [];
    const processing = processOne(queue, () => new Promise(() => {}), {
      onJobSettled: (e) => settled.push(e),
    });
    await until(async () => (await queue.getJob(job.id))?.state === "processing");
    await queue.cancel(job.id);
    expect(await processing).toBe(true);
    expect(settled.map((e) => e.outcome)).toEqual(["cancelled"]);
  });

  it("makes no checkReservations call when no job was ready", async () => {
    const queue = new InMemoryJobQueue();
    const calls = spyChecks(queue);
    expect(await processOne(queue, () => {})).toBe(false);
    await queue.enqueue("quick", {});
    expect(await processOne(queue, () => {})).toBe(true);
    await tick(700);
    expect(calls).toEqual([]);
  });
});
