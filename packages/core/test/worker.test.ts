import {
  InMemoryJobQueue,
  type Job,
  type JobOutcome,
  JobTimeoutError,
  ManualClock,
  processOne,
  WorkerRunner,
  WorkerStoppedError,
} from "@svc-jobs/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { tick, until } from "./helpers/wait.js";

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("processOne", () => {
  it("returns false when no job is ready", async () => {
    const queue = new InMemoryJobQueue();
    expect(await processOne(queue, () => {})).toBe(false);
  });

  it("acks on success", async () => {
    const queue = new InMemoryJobQueue();
    await queue.enqueue("a", { x: 1 });
    const seen: Job[] = [];
    expect(await processOne(queue, (job) => void seen.push(job))).toBe(true);
    expect(seen[0]?.payload).toEqual({ x: 1 });
    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 0 });
  });

  it("fails with the thrown error, so the queue retries", async () => {
    const clock = new ManualClock();
    const queue = new InMemoryJobQueue({ clock });
    await queue.enqueue("a", {});
    expect(
      await processOne(queue, async () => {
        throw new Error("smtp down");
      }),
    ).toBe(true);
    expect((await queue.stats()).delayed).toBe(1);
    clock.advance(60);
    expect((await queue.reserveNext())?.lastError).toBe("smtp down");
  });

  it("times out a slow handler, fires its AbortSignal and fails the job", async () => {
    const queue = new InMemoryJobQueue();
    await queue.enqueue("slow", {}, { maxAttempts: 1 });
    let aborted: unknown;
    await processOne(
      queue,
      (_job, { signal }) =>
        new Promise<void>((resolve) => {
          signal.addEventListener("abort", () => {
            aborted = signal.reason;
            resolve();
          });
        }),
      { timeoutSeconds: 0.05 },
    );
    expect(aborted).toBeInstanceOf(JobTimeoutError);
    const [dead] = await queue.dlq.list();
    expect(dead?.lastError).toMatch(/timed out after 0.05s/);
  });

  it("takes the default timeout from JOB_DEFAULT_TIMEOUT_SECONDS", async () => {
    vi.stubEnv("JOB_DEFAULT_TIMEOUT_SECONDS", "0.05");
    const queue = new InMemoryJobQueue();
    await queue.enqueue("slow", {}, { maxAttempts: 1 });
    await processOne(queue, () => new Promise(() => {}));
    expect((await queue.dlq.list())[0]?.lastError).toMatch(/timed out/);
  });

  it("uses the handler's timeoutSeconds when given none, and an explicit one over it", async () => {
    const queue = new InMemoryJobQueue();
    await queue.enqueue("slow", {}, { maxAttempts: 1 });
    await queue.enqueue("fine", {}, { maxAttempts: 1 });
    const handler = Object.assign(
      (job: Job) => (job.name === "slow" ? new Promise(() => {}) : tick(100)),
      { timeoutSeconds: 0.05 },
    );
    await processOne(queue, handler);
    expect((await queue.dlq.list())[0]?.lastError).toMatch(/timed out after 0.05s/);
    await processOne(queue, handler, { timeoutSeconds: 5 });
    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 1 });
  });

  it("an explicit timeout wins over the environment", async () => {
    vi.stubEnv("JOB_DEFAULT_TIMEOUT_SECONDS", "0.01");
    const queue = new InMemoryJobQueue();
    await queue.enqueue("a", {});
    await processOne(queue, () => tick(50), { timeoutSeconds: 5 });
    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 0 });
  });
});

describe("WorkerRunner", () => {
  it("processes jobs as they arrive and stops when asked", async () => {
    const queue = new InMemoryJobQueue();
    const done: string[] = [];
    const runner = new WorkerRunner(queue, (job) => void done.push(job.name), {
      pollIntervalSeconds: 0.05,
    });
    const finished = runner.start();
    await queue.enqueue("a", {});
    await queue.enqueue("b", {});
    await until(() => done.length === 2);
    await runner.stop();
    await finished;
    expect(done).toEqual(["a", "b"]);
    expect(runner.isRunning).toBe(false);
  });

  it("runs up to `concurrency` jobs at once, never more", async () => {
    const queue = new InMemoryJobQueue();
    for (let i = 0; i < 12; i++) await queue.enqueue("j", { i });
    let running = 0;
    let peak = 0;
    const runner = new WorkerRunner(
      queue,
      async () => {
        running++;
        peak = Math.max(peak, running);
        await tick(20);
        running--;
      },
      { concurrency: 4, pollIntervalSeconds: 0.05 },
    );
    runner.start();
    await until(async () => (await queue.stats()).ready + (await queue.stats()).processing === 0);
    await runner.stop();
    expect(peak).toBe(4);
  });

  it("reports each outcome once through onJobSettled", async () => {
    const queue = new InMemoryJobQueue();
    await queue.enqueue("ok", {});
    await queue.enqueue("bad", {}, { maxAttempts: 1 });
    const outcomes: JobOutcome[] = [];
    const runner = new WorkerRunner(
      queue,
      (job) => {
        if (job.name === "bad") throw new Error("nope");
      },
      { pollIntervalSeconds: 0.05, onJobSettled: (o) => outcomes.push(o) },
    );
    runner.start();
    await until(() => outcomes.length === 2);
    await runner.stop();
    expect(outcomes.map((o) => [o.job.name, o.status])).toEqual([
      ["ok", "completed"],
      ["bad", "failed"],
    ]);
    expect(outcomes[1]?.error).toMatchObject({ message: "nope" });
  });

  it("stop() waits for running jobs within the grace period, then they are acked", async () => {
    const queue = new InMemoryJobQueue();
    await queue.enqueue("a", {});
    let finished = false;
    const runner = new WorkerRunner(queue, async () => {
      await tick(100);
      finished = true;
    });
    runner.start();
    await until(async () => (await queue.stats()).processing === 1);
    await runner.stop({ graceSeconds: 5 });
    expect(finished).toBe(true);
    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 0 });
  });

  it("stop() hands jobs still running after the grace period back to the queue, aborting them", async () => {
    const queue = new InMemoryJobQueue();
    await queue.enqueue("forever", { n: 1 });
    let reason: unknown;
    const outcomes: JobOutcome[] = [];
    const runner = new WorkerRunner(
      queue,
      (_job, { signal }) =>
        new Promise(() => {
          signal.addEventListener("abort", () => {
            reason = signal.reason;
          });
        }),
      { onJobSettled: (o) => outcomes.push(o) },
    );
    runner.start();
    await until(async () => (await queue.stats()).processing === 1);
    await runner.stop({ graceSeconds: 0.05 });
    expect(reason).toBeInstanceOf(WorkerStoppedError);
    expect(outcomes.map((o) => o.status)).toEqual(["released"]);
    // Not lost, not acked, not charged an attempt: ready again at once.
    expect(await queue.stats()).toMatchObject({ ready: 1, delayed: 0, processing: 0, dlq: 0 });
    const again = await queue.reserveNext();
    expect(again?.payload).toEqual({ n: 1 });
    expect(again?.attempts).toBe(1);
  });

  it("stop() ends an idle blocking wait at once", async () => {
    const queue = new InMemoryJobQueue();
    const runner = new WorkerRunner(queue, () => {}, { pollIntervalSeconds: 30 });
    const finished = runner.start();
    await tick(20);
    const started = Date.now();
    await runner.stop();
    await finished;
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("times out handlers with timeoutSeconds and fails the job", async () => {
    const queue = new InMemoryJobQueue();
    await queue.enqueue("slow", {}, { maxAttempts: 1 });
    const outcomes: JobOutcome[] = [];
    const runner = new WorkerRunner(queue, () => new Promise(() => {}), {
      timeoutSeconds: 0.05,
      onJobSettled: (o) => outcomes.push(o),
    });
    runner.start();
    await until(() => outcomes.length === 1);
    await runner.stop();
    expect(outcomes[0]?.status).toBe("timeout");
    expect(outcomes[0]?.error).toBeInstanceOf(JobTimeoutError);
    expect((await queue.stats()).dlq).toBe(1);
  });

  it("uses the handler's timeoutSeconds when it has none itself, over JOB_DEFAULT_TIMEOUT_SECONDS", async () => {
    vi.stubEnv("JOB_DEFAULT_TIMEOUT_SECONDS", "30");
    const queue = new InMemoryJobQueue();
    await queue.enqueue("slow", {}, { maxAttempts: 1 });
    const outcomes: JobOutcome[] = [];
    const handler = Object.assign(() => new Promise(() => {}), { timeoutSeconds: 0.05 });
    const runner = new WorkerRunner(queue, handler, {
      maxJobs: 1,
      pollIntervalSeconds: 0.05,
      onJobSettled: (o) => outcomes.push(o),
    });
    await runner.start();
    expect(outcomes[0]?.status).toBe("timeout");
    expect(outcomes[0]?.error).toMatchObject({ timeoutSeconds: 0.05 });
  });

  it("its own timeoutSeconds wins over the handler's and over JOB_DEFAULT_TIMEOUT_SECONDS", async () => {
    vi.stubEnv("JOB_DEFAULT_TIMEOUT_SECONDS", "0.01");
    const queue = new InMemoryJobQueue();
    await queue.enqueue("a", {}, { maxAttempts: 1 });
    const outcomes: JobOutcome[] = [];
    const handler = Object.assign(() => tick(100), { timeoutSeconds: 0.01 });
    const runner = new WorkerRunner(queue, handler, {
      timeoutSeconds: 5,
      maxJobs: 1,
      pollIntervalSeconds: 0.05,
      onJobSettled: (o) => outcomes.push(o),
    });
    await runner.start();
    expect(outcomes.map((o) => o.status)).toEqual(["completed"]);
  });

  it("keeps a long job reserved past the visibility timeout by extending it", async () => {
    const queue = new InMemoryJobQueue({ visibilityTimeoutSeconds: 0.15 });
    await queue.enqueue("long", {});
    let runs = 0;
    const runner = new WorkerRunner(
      queue,
      async () => {
        runs++;
        await tick(600);
      },
      { concurrency: 2, pollIntervalSeconds: 0.02 },
    );
    runner.start();
    await until(() => runs === 1);
    await tick(500);
    // Were the reservation not extended, the second slot would have taken it again.
    expect(runs).toBe(1);
    expect(await queue.reserveNext()).toBeNull();
    await runner.stop();
    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 0 });
  });

  it("stops by itself after maxJobs", async () => {
    const queue = new InMemoryJobQueue();
    for (let i = 0; i < 5; i++) await queue.enqueue("j", { i });
    const runner = new WorkerRunner(queue, () => {}, { maxJobs: 3, pollIntervalSeconds: 0.05 });
    await runner.start();
    expect(runner.processedCount).toBe(3);
    expect((await queue.stats()).ready).toBe(2);
  });

  it("survives backend errors in the loop, reports them and carries on", async () => {
    const queue = new InMemoryJobQueue();
    const real = queue.reserveNext.bind(queue);
    let failures = 2;
    queue.reserveNext = async (opts) => {
      if (failures-- > 0) throw new Error("connection reset");
      return real(opts);
    };
    const errors: unknown[] = [];
    const done: string[] = [];
    await queue.enqueue("a", {});
    const runner = new WorkerRunner(queue, (job) => void done.push(job.name), {
      pollIntervalSeconds: 0.05,
      onError: (e) => errors.push(e),
    });
    runner.start();
    await until(() => done.length === 1);
    await runner.stop();
    expect(errors).toHaveLength(2);
  });

  it("keeps retrying an ack through a backend outage, so the job is not run twice", async () => {
    const queue = new InMemoryJobQueue({ visibilityTimeoutSeconds: 10 });
    const realAck = queue.ack.bind(queue);
    const outageEnds = Date.now() + 1000;
    let failedAcks = 0;
    queue.ack = async (job) => {
      if (Date.now() < outageEnds) {
        failedAcks++;
        throw new Error("connection is closed");
      }
      return realAck(job);
    };
    await queue.enqueue("once", {});
    let runs = 0;
    const outcomes: JobOutcome[] = [];
    const runner = new WorkerRunner(queue, () => void runs++, {
      pollIntervalSeconds: 0.05,
      onJobSettled: (o) => outcomes.push(o),
    });
    runner.start();
    await until(() => outcomes.length === 1);
    await runner.stop();
    expect(failedAcks).toBeGreaterThan(2);
    expect(outcomes[0]?.status).toBe("completed");
    expect(runs).toBe(1);
    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 0 });
  });

  it("rejects bad options", () => {
    const queue = new InMemoryJobQueue();
    expect(() => new WorkerRunner(queue, () => {}, { concurrency: 0 })).toThrow(/concurrency/);
    expect(() => new WorkerRunner(queue, () => {}, { pollIntervalSeconds: -1 })).toThrow(
      /pollIntervalSeconds/,
    );
    expect(() => new WorkerRunner(queue, "nope" as never)).toThrow(/handler/);
  });
});
