import { ManualClock } from "@svc-jobs/core";
import { Scheduler } from "@svc-jobs/scheduler";
import { describe, expect, it, vi } from "vitest";
import { deferred, recordingLogger } from "./helpers.js";

describe("run() and stop()", () => {
  it("run() fires due tasks as the clock moves, and settles after stop()", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    // A short real tick so the loop notices manual clock moves quickly.
    const scheduler = new Scheduler({
      clock,
      tickIntervalSeconds: 0.01,
      logger: recordingLogger(),
    });
    let count = 0;
    await scheduler.addTask("hourly", 3600, () => {
      count++;
    });
    const running = scheduler.run();
    expect(scheduler.isRunning).toBe(true);
    clock.advance(3600);
    await vi.waitFor(() => expect(count).toBe(1));
    clock.advance(3600);
    await vi.waitFor(() => expect(count).toBe(2));
    await scheduler.stop();
    await expect(running).resolves.toBeUndefined();
    expect(scheduler.isRunning).toBe(false);
    clock.advance(3600);
    await new Promise((r) => setTimeout(r, 30));
    expect(count).toBe(2);
  });

  it("stop() ends a long wait at once", async () => {
    const scheduler = new Scheduler({
      tickIntervalSeconds: 3600,
      logger: recordingLogger(),
    });
    await scheduler.addTask("daily", 86_400, () => {});
    const running = scheduler.run();
    await new Promise((r) => setTimeout(r, 10));
    // Within the test timeout, far below the hour the loop would otherwise sleep.
    await scheduler.stop();
    await running;
  });

  it("wakes for a task added while it sleeps", async () => {
    const scheduler = new Scheduler({
      tickIntervalSeconds: 3600,
      logger: recordingLogger(),
    });
    const running = scheduler.run();
    await new Promise((r) => setTimeout(r, 10));
    let fired = 0;
    await scheduler.addTask("soon", 0.05, () => {
      fired++;
    });
    await vi.waitFor(() => expect(fired).toBeGreaterThanOrEqual(1), { timeout: 2000 });
    await scheduler.stop();
    await running;
  });

  it("run() settles only after in-flight tasks finish, and their signal fires on stop", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const scheduler = new Scheduler({
      clock,
      tickIntervalSeconds: 0.01,
      logger: recordingLogger(),
    });
    const gate = deferred();
    let signal: AbortSignal | undefined;
    await scheduler.addTask("long", 1, async (ctx) => {
      signal = ctx.signal;
      await gate.promise;
    });
    const running = scheduler.run();
    clock.advance(1);
    await vi.waitFor(() => expect(signal).toBeDefined());
    let settled = false;
    void running.then(() => {
      settled = true;
    });
    const stopped = scheduler.stop();
    await new Promise((r) => setTimeout(r, 30));
    expect(signal?.aborted).toBe(true);
    expect(settled).toBe(false);
    gate.resolve();
    await stopped;
    expect(settled).toBe(true);
  });

  it("a throwing task does not stop run()", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const logger = recordingLogger();
    const scheduler = new Scheduler({ clock, tickIntervalSeconds: 0.01, logger });
    let attempts = 0;
    await scheduler.addTask("flaky", 1, () => {
      attempts++;
      throw new Error("nope");
    });
    const running = scheduler.run();
    clock.advance(1);
    await vi.waitFor(() => expect(attempts).toBe(1));
    clock.advance(1);
    await vi.waitFor(() => expect(attempts).toBe(2));
    expect(scheduler.isRunning).toBe(true);
    await scheduler.stop();
    await running;
    expect(logger.records.filter((r) => r.level === "error")).toHaveLength(2);
  });

  it("tick() after stop() hands tasks a fresh signal", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const scheduler = new Scheduler({ clock, logger: recordingLogger() });
    const signals: AbortSignal[] = [];
    await scheduler.addTask("t", 1, ({ signal }) => {
      signals.push(signal);
    });
    await scheduler.stop();
    clock.advance(1);
    await scheduler.tick();
    expect(signals[0]?.aborted).toBe(false);
  });

  it("run() twice returns the same loop, and the scheduler can run again after stop()", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const scheduler = new Scheduler({
      clock,
      tickIntervalSeconds: 0.01,
      logger: recordingLogger(),
    });
    let count = 0;
    await scheduler.addTask("t", 1, () => {
      count++;
    });
    const a = scheduler.run();
    expect(scheduler.run()).toBe(a);
    await scheduler.stop();
    await a;
    const b = scheduler.run();
    clock.advance(1);
    await vi.waitFor(() => expect(count).toBe(1));
    await scheduler.stop();
    await b;
  });
});
