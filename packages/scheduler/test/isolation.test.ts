import { ManualClock } from "@svc-jobs/core";
import { Scheduler } from "@svc-jobs/scheduler";
import { describe, expect, it, vi } from "vitest";
import { deferred, recordingLogger } from "./helpers.js";

function setup() {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const logger = recordingLogger();
  const scheduler = new Scheduler({ clock, logger });
  return { clock, logger, scheduler };
}

describe("error isolation", () => {
  it("a throwing task is logged, rescheduled, and does not keep other due tasks from running", async () => {
    const { clock, logger, scheduler } = setup();
    const fired: string[] = [];
    await scheduler.addTask("sync-throws", 10, () => {
      fired.push("sync-throws");
      throw new Error("boom");
    });
    await scheduler.addTask("async-rejects", 10, async () => {
      fired.push("async-rejects");
      throw new Error("async boom");
    });
    await scheduler.addTask("healthy", 10, () => {
      fired.push("healthy");
    });

    clock.advance(10);
    expect((await scheduler.tick()).sort()).toEqual(["async-rejects", "healthy", "sync-throws"]);
    expect(fired.sort()).toEqual(["async-rejects", "healthy", "sync-throws"]);
    const errors = logger.records.filter((r) => r.level === "error");
    expect(errors).toHaveLength(2);
    expect(errors.map((r) => r.details?.task).sort()).toEqual(["async-rejects", "sync-throws"]);
    const boom = errors.find((r) => r.details?.task === "sync-throws")?.details.err;
    expect(boom).toBeInstanceOf(Error);
    expect((boom as Error).message).toBe("boom");

    // Rescheduled: both fire again next period.
    fired.length = 0;
    clock.advance(10);
    await scheduler.tick();
    expect(fired.sort()).toEqual(["async-rejects", "healthy", "sync-throws"]);
  });

  it("a task that throws a non-Error value is isolated too", async () => {
    const { clock, logger, scheduler } = setup();
    await scheduler.addTask("weird", 1, () => {
      throw "a string";
    });
    clock.advance(1);
    await expect(scheduler.tick()).resolves.toEqual(["weird"]);
    expect(logger.records[0]?.details.err).toBe("a string");
  });

  it("a logger that throws does not break ticking", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const broken = {
      error: vi.fn(() => {
        throw new Error("log sink down");
      }),
      warn: vi.fn(() => {
        throw new Error("log sink down");
      }),
      info: vi.fn(() => {
        throw new Error("log sink down");
      }),
    };
    const scheduler = new Scheduler({ clock, logger: broken });
    let healthy = 0;
    await scheduler.addTask("fails", 1, () => {
      throw new Error("task failed");
    });
    await scheduler.addTask("healthy", 1, () => {
      healthy++;
    });
    clock.advance(1);
    await scheduler.tick();
    clock.advance(1);
    await scheduler.tick();
    expect(healthy).toBe(2);
    expect(broken.error).toHaveBeenCalledTimes(2);
  });
});

describe("overruns", () => {
  it("runs one instance of a task at a time and skips occurrences that fall due meanwhile", async () => {
    const { clock, logger, scheduler } = setup();
    let started = 0;
    let active = 0;
    let maxActive = 0;
    const gates = [deferred(), deferred()];
    await scheduler.addTask("slow", 1, async () => {
      const gate = gates[started]!;
      started++;
      active++;
      maxActive = Math.max(maxActive, active);
      await gate.promise;
      active--;
    });
    let other = 0;
    await scheduler.addTask("other", 1, () => {
      other++;
    });

    clock.advance(1);
    const first = scheduler.tick(); // starts "slow" and waits for it
    await vi.waitFor(() => expect(started).toBe(1));
    await new Promise((r) => setTimeout(r, 0)); // let "other" of the first tick settle
    for (let i = 0; i < 3; i++) {
      clock.advance(1);
      expect(await scheduler.tick()).toEqual(["other"]);
    }
    expect(started).toBe(1);
    expect(other).toBe(4);
    const skips = logger.records.filter((r) => r.level === "warn" && r.details?.task === "slow");
    expect(skips).toHaveLength(3);

    gates[0]!.resolve();
    expect((await first).sort()).toEqual(["other", "slow"]);
    clock.advance(1);
    const next = scheduler.tick();
    await vi.waitFor(() => expect(started).toBe(2));
    gates[1]!.resolve();
    await next;
    expect(maxActive).toBe(1);
  });

  it("a replaced task does not start while the old function's run is still going", async () => {
    const { clock, scheduler } = setup();
    const gate = deferred();
    const fired: string[] = [];
    await scheduler.addTask("t", 1, async () => {
      fired.push("old");
      await gate.promise;
    });
    clock.advance(1);
    const first = scheduler.tick();
    await scheduler.addTask("t", 1, () => {
      fired.push("new");
    });
    clock.advance(1);
    await scheduler.tick();
    expect(fired).toEqual(["old"]);
    gate.resolve();
    await first;
    clock.advance(1);
    await scheduler.tick();
    expect(fired).toEqual(["old", "new"]);
  });
});
