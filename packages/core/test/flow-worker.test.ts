import {
  InMemoryJobQueue,
  isRateLimitError,
  type Job,
  type JobSettledEvent,
  JobsError,
  JobValidationError,
  ManualClock,
  processOne,
  RateLimitError,
  WorkerRunner,
} from "@svc-jobs/core";
import { describe, expect, it } from "vitest";
import { until } from "./helpers/wait.js";

// docs/contract.md, "Flow control", "Holding back from a handler": a handler's
// RateLimitError releases its job without counting the attempt (outcome `rate_limited`),
// holding back the job, its group or the whole queue for retryAfterSeconds.

describe("RateLimitError", () => {
  it("is exported from @svc-jobs/core, a JobsError with code ERR_RATE_LIMITED", () => {
    const error = new RateLimitError({
      retryAfterSeconds: 3,
      scope: "group",
      message: "payments API answered 429",
    });
    expect(error).toBeInstanceOf(JobsError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: "ERR_RATE_LIMITED", retryAfterSeconds: 3, scope: "group" });
    expect(error.message).toMatch(/payments API answered 429/);
    expect(isRateLimitError(error)).toBe(true);
    expect(isRateLimitError(new Error("429"))).toBe(false);
    expect(isRateLimitError(null)).toBe(false);
  });

  it("refuses bad options with a JobValidationError naming the field", () => {
    const cases: [unknown, RegExp][] = [
      [{ retryAfterSeconds: -1 }, /^options\.retryAfterSeconds$/],
      [{}, /^options\.retryAfterSeconds$/],
      [{ retryAfterSeconds: 1, scope: "all" }, /^options\.scope$/],
      [{ retryAfter: 1 }, /^options\.retryAfter$/],
      [undefined, /^options$/],
    ];
    for (const [options, field] of cases) {
      let error: unknown;
      try {
        new RateLimitError(options as never);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(options)).toBeInstanceOf(JobValidationError);
      expect((error as JobValidationError).field).toMatch(field);
    }
  });

  it("isRateLimitError recognises one from another copy of the package by its fields", async () => {
    const foreign = Object.assign(new Error("rate limited"), {
      code: "ERR_RATE_LIMITED",
      retryAfterSeconds: 5,
      scope: "job",
    });
    expect(isRateLimitError(foreign)).toBe(true);
    expect(isRateLimitError({ ...foreign, scope: "planet" })).toBe(false);
    expect(isRateLimitError({ ...foreign, retryAfterSeconds: -1 })).toBe(false);

    const clock = new ManualClock();
    const queue = new InMemoryJobQueue({ clock });
    const job = await queue.enqueue("a", {}, { maxAttempts: 1 });
    const outcomes: string[] = [];
    await processOne(
      queue,
      () => {
        throw foreign;
      },
      { onJobSettled: (e) => outcomes.push(e.outcome) },
    );
    expect(outcomes).toEqual(["rate_limited"]);
    expect(await queue.getJob(job.id)).toMatchObject({ state: "delayed", attempts: 0 });
  });
});

describe("WorkerRunner and RateLimitError", () => {
  it("releases the job without charging an attempt and runs it again after retryAfterSeconds, never dead", async () => {
    const clock = new ManualClock();
    const queue = new InMemoryJobQueue({ clock });
    const job = await queue.enqueue("call", {}, { maxAttempts: 1 });
    const settled: JobSettledEvent[] = [];
    let calls = 0;
    const runner = new WorkerRunner(
      queue,
      async () => {
        calls++;
        if (calls <= 2) throw new RateLimitError({ retryAfterSeconds: 30 });
        return { ok: true };
      },
      { pollIntervalSeconds: 0.05, onJobSettled: (e) => settled.push(e) },
    );
    const finished = runner.start();
    try {
      for (let i = 1; i <= 2; i++) {
        await until(() => settled.length === i);
        expect(settled[i - 1]?.outcome).toBe("rate_limited");
        expect(settled[i - 1]?.error).toBeInstanceOf(RateLimitError);
        expect(await queue.getJob(job.id)).toMatchObject({ state: "delayed", attempts: 0 });
        clock.advance(29);
        await new Promise((r) => setTimeout(r, 150));
        expect(calls, "ran before retryAfterSeconds").toBe(i);
        clock.advance(1);
      }
      await until(() => settled.length === 3);
      expect(settled[2]?.outcome).toBe("completed");
      expect(settled[2]?.job.attempts).toBe(1);
      expect(await queue.stats()).toMatchObject({ dlq: 0, ready: 0, delayed: 0, processing: 0 });
    } finally {
      await runner.stop();
      await finished;
    }
  });

  it("scope queue holds every job of the queue; scope group only the job's group", async () => {
    const clock = new ManualClock();
    const queue = new InMemoryJobQueue({ clock });
    await queue.enqueue("limited", {}, { group: "g" });
    await queue.enqueue("g-other", {}, { group: "g" });
    await queue.enqueue("h-job", {}, { group: "h" });
    const ran: string[] = [];
    let limitedCalls = 0;
    const runner = new WorkerRunner(
      queue,
      async (job: Job) => {
        ran.push(job.name);
        if (job.name === "limited" && ++limitedCalls === 1) {
          throw new RateLimitError({ retryAfterSeconds: 10, scope: "group" });
        }
      },
      { pollIntervalSeconds: 0.05 },
    );
    const finished = runner.start();
    try {
      await until(() => ran.length === 2);
      await new Promise((r) => setTimeout(r, 150));
      expect(ran).toEqual(["limited", "h-job"]); // g is held
      clock.advance(10);
      await until(() => ran.length === 4);
      expect(ran).toEqual(["limited", "h-job", "limited", "g-other"]);

      await queue.enqueue("q-limited", {});
      await until(() => ran.length === 5);
      expect((await queue.getLimits()).heldUntil).toBeNull();
    } finally {
      await runner.stop();
      await finished;
    }

    // A queue-scoped hold from one handler holds the whole queue.
    let qCalls = 0;
    const ran2: string[] = [];
    const runner2 = new WorkerRunner(
      queue,
      async (job: Job) => {
        ran2.push(job.name);
        if (job.name === "q1" && ++qCalls === 1) {
          throw new RateLimitError({ retryAfterSeconds: 20, scope: "queue" });
        }
      },
      { pollIntervalSeconds: 0.05, concurrency: 2 },
    );
    await queue.enqueue("q1", {});
    await queue.enqueue("q2", {}, { delaySeconds: 1 });
    const finished2 = runner2.start();
    try {
      await until(() => ran2.length === 1);
      await until(async () => (await queue.getLimits()).heldUntil !== null);
      clock.advance(19);
      await new Promise((r) => setTimeout(r, 150));
      expect(ran2).toEqual(["q1"]);
      expect(await queue.stats()).toMatchObject({ ready: 2, processing: 0 });
      clock.advance(1);
      await until(() => ran2.length === 3);
      expect(ran2.slice(1).sort()).toEqual(["q1", "q2"]);
    } finally {
      await runner2.stop();
      await finished2;
    }
  });
});
