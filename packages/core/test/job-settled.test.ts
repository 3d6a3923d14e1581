import {
  InMemoryJobQueue,
  type JobHandler,
  type JobSettledEvent,
  JobTimeoutError,
  processOne,
  WorkerRunner,
} from "@svc-jobs/core";
import { describe, expect, it } from "vitest";
import { tick, until } from "./helpers/wait.js";

/** A handler with its own onJobSettled, as a JobRegistry's asHandler() has. */
function hookedHandler(
  run: JobHandler,
  seen: JobSettledEvent[],
  onEvent: (event: JobSettledEvent) => void = () => {},
): JobHandler {
  return Object.assign((...args: Parameters<JobHandler>) => run(...args), {
    onJobSettled: (event: JobSettledEvent) => {
      onEvent(event);
      seen.push(event);
    },
  });
}

describe("onJobSettled", () => {
  it("WorkerRunner calls its option, then the handler's own hook, once per job with one event", async () => {
    const queue = new InMemoryJobQueue();
    await queue.enqueue("ok", {});
    await queue.enqueue("bad", {}, { maxAttempts: 1 });
    await queue.enqueue("slow", {}, { maxAttempts: 1 });
    const order: string[] = [];
    const fromOption: JobSettledEvent[] = [];
    const fromHandler: JobSettledEvent[] = [];
    const handler = hookedHandler(
      async (job, { signal }) => {
        if (job.name === "bad") throw new TypeError("nope");
        if (job.name === "slow") {
          await new Promise((resolve) => signal.addEventListener("abort", resolve));
        }
      },
      fromHandler,
      (event) => order.push(`handler:${event.job.name}`),
    );
    const runner = new WorkerRunner(queue, handler, {
      timeoutSeconds: 0.05,
      maxJobs: 3,
      pollIntervalSeconds: 0.05,
      onJobSettled: (event) => {
        order.push(`option:${event.job.name}`);
        fromOption.push(event);
      },
    });
    await runner.start();

    expect(fromOption.map((e) => [e.job.name, e.outcome]).sort()).toEqual([
      ["bad", "failed"],
      ["ok", "completed"],
      ["slow", "timeout"],
    ]);
    // The very same event objects, each seen once by each hook, the option's first.
    expect(fromHandler).toEqual(fromOption);
    for (const [i, event] of fromHandler.entries()) expect(event).toBe(fromOption[i]);
    for (const name of ["ok", "bad", "slow"]) {
      expect(order.indexOf(`option:${name}`)).toBeLessThan(order.indexOf(`handler:${name}`));
    }
    const slow = fromOption.find((e) => e.job.name === "slow");
    expect(slow?.error).toBeInstanceOf(JobTimeoutError);
    expect(slow?.durationSeconds).toBeGreaterThanOrEqual(0.04);
    const bad = fromOption.find((e) => e.job.name === "bad");
    expect(bad?.error).toBeInstanceOf(TypeError);
    expect(fromOption.find((e) => e.job.name === "ok")).not.toHaveProperty("error");
  });

  it("keeps the deprecated status and durationMs fields equal to outcome and durationSeconds", async () => {
    const queue = new InMemoryJobQueue();
    await queue.enqueue("a", {});
    const events: JobSettledEvent[] = [];
    await new WorkerRunner(queue, () => tick(20), {
      maxJobs: 1,
      onJobSettled: (e) => events.push(e),
    }).start();
    const [event] = events;
    expect(event?.status).toBe(event?.outcome);
    expect(event?.durationMs).toBeCloseTo((event?.durationSeconds ?? 0) * 1000, 6);
    expect(event?.durationSeconds).toBeGreaterThanOrEqual(0.015);
  });

  it("a job handed back on stop is reported once as released, with how long it had run", async () => {
    const queue = new InMemoryJobQueue();
    await queue.enqueue("forever", {});
    const fromOption: JobSettledEvent[] = [];
    const fromHandler: JobSettledEvent[] = [];
    const runner = new WorkerRunner(
      queue,
      hookedHandler(() => new Promise(() => {}), fromHandler),
      { onJobSettled: (e) => fromOption.push(e) },
    );
    runner.start();
    await until(async () => (await queue.stats()).processing === 1);
    await tick(30);
    await runner.stop({ graceSeconds: 0.01 });
    expect(fromOption.map((e) => e.outcome)).toEqual(["released"]);
    expect(fromHandler).toHaveLength(1);
    expect(fromHandler[0]).toBe(fromOption[0]);
    expect(fromOption[0]?.durationSeconds).toBeGreaterThanOrEqual(0.02);
  });

  it("a throwing hook goes to onError (phase settle) and the next hook still runs", async () => {
    const queue = new InMemoryJobQueue();
    await queue.enqueue("a", {});
    const fromHandler: JobSettledEvent[] = [];
    const errors: [unknown, string][] = [];
    await new WorkerRunner(
      queue,
      hookedHandler(() => {}, fromHandler),
      {
        maxJobs: 1,
        onJobSettled: () => {
          throw new Error("log sink down");
        },
        onError: (error, { phase }) => errors.push([error, phase]),
      },
    ).start();
    expect(errors).toEqual([[new Error("log sink down"), "settle"]]);
    expect(fromHandler).toHaveLength(1);
    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 0 });
  });

  it("processOne calls its option and the handler's hook once, after the queue was told", async () => {
    const queue = new InMemoryJobQueue();
    await queue.enqueue("a", {});
    await queue.enqueue("b", {}, { maxAttempts: 1 });
    const fromOption: JobSettledEvent[] = [];
    const fromHandler: JobSettledEvent[] = [];
    const statsAtHook: unknown[] = [];
    const handler = hookedHandler((job) => {
      if (job.name === "b") throw new Error("b failed");
    }, fromHandler);
    const onJobSettled = (event: JobSettledEvent) => {
      fromOption.push(event);
      statsAtHook.push(queue.stats());
    };
    expect(await processOne(queue, handler, { onJobSettled })).toBe(true);
    expect(await processOne(queue, handler, { onJobSettled })).toBe(true);
    expect(await processOne(queue, handler, { onJobSettled })).toBe(false);
    expect(fromOption.map((e) => [e.job.name, e.outcome])).toEqual([
      ["a", "completed"],
      ["b", "failed"],
    ]);
    expect(fromHandler).toEqual(fromOption);
    expect(await statsAtHook[0]).toMatchObject({ processing: 0 });
    expect(await statsAtHook[1]).toMatchObject({ processing: 0, dlq: 1 });
  });

  it("processOne reports a timeout with the JobTimeoutError", async () => {
    const queue = new InMemoryJobQueue();
    await queue.enqueue("slow", {}, { maxAttempts: 1 });
    const events: JobSettledEvent[] = [];
    await processOne(queue, () => new Promise(() => {}), {
      timeoutSeconds: 0.03,
      onJobSettled: (e) => events.push(e),
    });
    expect(events.map((e) => e.outcome)).toEqual(["timeout"]);
    expect(events[0]?.error).toBeInstanceOf(JobTimeoutError);
  });
});
