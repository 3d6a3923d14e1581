import { ManualClock } from "@svc-jobs/core";
import { ScheduleConfigError, Scheduler, type TaskContext } from "@svc-jobs/scheduler";
import { describe, expect, it } from "vitest";
import { recordingLogger } from "./helpers.js";

const START = Date.UTC(2026, 0, 1, 12, 0, 0);

function setup() {
  const clock = new ManualClock(START);
  const logger = recordingLogger();
  const scheduler = new Scheduler({ clock, logger });
  return { clock, logger, scheduler };
}

describe("interval tasks", () => {
  it("first runs one interval after adding, then every interval", async () => {
    const { clock, scheduler } = setup();
    const runs: number[] = [];
    await scheduler.addTask("cleanup", 300, () => {
      runs.push(clock.now());
    });

    expect(await scheduler.tick()).toEqual([]);
    clock.advance(299.999);
    expect(await scheduler.tick()).toEqual([]);
    clock.advance(0.001);
    expect(await scheduler.tick()).toEqual(["cleanup"]);
    expect(await scheduler.tick()).toEqual([]);
    clock.advance(300);
    await scheduler.tick();
    expect(runs).toEqual([START + 300_000, START + 600_000]);
  });

  it("runs async functions and waits for them in tick()", async () => {
    const { clock, scheduler } = setup();
    let finished = false;
    await scheduler.addTask("slow", 1, async () => {
      await new Promise((r) => setTimeout(r, 20));
      finished = true;
    });
    clock.advance(1);
    await scheduler.tick();
    expect(finished).toBe(true);
  });

  it("passes the name, the due time and an AbortSignal to the function", async () => {
    const { clock, scheduler } = setup();
    const seen: TaskContext[] = [];
    await scheduler.addTask("ctx", 10, (context) => {
      seen.push(context);
    });
    clock.advance(12.5);
    await scheduler.tick();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.name).toBe("ctx");
    expect(seen[0]!.scheduledAt.getTime()).toBe(START + 10_000);
    expect(seen[0]!.signal).toBeInstanceOf(AbortSignal);
    expect(seen[0]!.signal.aborted).toBe(false);
  });

  it("coalesces missed runs into one and keeps the task on its grid", async () => {
    const { clock, scheduler } = setup();
    let count = 0;
    await scheduler.addTask("grid", 60, () => {
      count++;
    });
    clock.advance(60 * 5 + 30); // five occurrences passed while nothing ticked
    await scheduler.tick();
    expect(count).toBe(1);
    expect((await scheduler.nextRunAt("grid"))?.getTime()).toBe(START + 60_000 * 6);
    clock.advance(29);
    await scheduler.tick();
    expect(count).toBe(1);
    clock.advance(1);
    await scheduler.tick();
    expect(count).toBe(2);
  });

  it("aligned: falls due at whole multiples of the interval since the epoch", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12, 3, 17));
    const scheduler = new Scheduler({ clock, logger: recordingLogger() });
    const runs: string[] = [];
    await scheduler.addTask(
      "five-minutes",
      300,
      () => {
        runs.push(new Date(clock.now()).toISOString());
      },
      { aligned: true },
    );
    expect((await scheduler.nextRunAt("five-minutes"))?.toISOString()).toBe(
      "2026-01-01T12:05:00.000Z",
    );
    for (let i = 0; i < 10; i++) {
      clock.advance(60);
      await scheduler.tick();
    }
    expect(runs).toEqual(["2026-01-01T12:05:17.000Z", "2026-01-01T12:10:17.000Z"]);
    // Two replicas that start at different times agree on the due times.
    const other = new Scheduler({ clock, logger: recordingLogger() });
    await other.addTask("five-minutes", 300, () => {}, { aligned: true });
    expect(await other.nextRunAt("five-minutes")).toEqual(
      await scheduler.nextRunAt("five-minutes"),
    );
  });

  it("supports fractional intervals", async () => {
    const { clock, scheduler } = setup();
    let count = 0;
    await scheduler.addTask("fast", 0.25, () => {
      count++;
    });
    for (let i = 0; i < 8; i++) {
      clock.advance(0.25);
      await scheduler.tick();
    }
    expect(count).toBe(8);
  });

  it("fires every due task in one tick, each once", async () => {
    const { clock, scheduler } = setup();
    const fired: string[] = [];
    await scheduler.addTask("a", 5, () => {
      fired.push("a");
    });
    await scheduler.addTask("b", 10, async () => {
      fired.push("b");
    });
    await scheduler.addTask("c", 60, () => {
      fired.push("c");
    });
    clock.advance(10);
    expect((await scheduler.tick()).sort()).toEqual(["a", "b"]);
    expect(fired.sort()).toEqual(["a", "b"]);
  });

  it("adding the same name again replaces the function and restarts the schedule", async () => {
    const { clock, scheduler } = setup();
    const fired: string[] = [];
    await scheduler.addTask("job", 10, () => {
      fired.push("old");
    });
    clock.advance(8);
    await scheduler.addTask("job", 5, () => {
      fired.push("new");
    });
    expect(scheduler.taskNames).toEqual(["job"]);
    clock.advance(2); // the old schedule would fire now
    await scheduler.tick();
    expect(fired).toEqual([]);
    clock.advance(3);
    await scheduler.tick();
    expect(fired).toEqual(["new"]);
  });

  it("replacing an interval task with a cron task works the same way", async () => {
    const { clock, scheduler } = setup();
    const fired: string[] = [];
    await scheduler.addTask("job", 10, () => {
      fired.push("interval");
    });
    await scheduler.addCron("job", "*/30 * * * *", () => {
      fired.push("cron");
    });
    clock.advance(30 * 60);
    await scheduler.tick();
    expect(fired).toEqual(["cron"]);
  });

  it("removeTask stops a task", async () => {
    const { clock, scheduler } = setup();
    let count = 0;
    await scheduler.addTask("gone", 1, () => {
      count++;
    });
    expect(await scheduler.removeTask("gone")).toBe(true);
    expect(await scheduler.removeTask("gone")).toBe(false);
    clock.advance(5);
    await scheduler.tick();
    expect(count).toBe(0);
    expect(await scheduler.nextRunAt("gone")).toBeUndefined();
  });

  it("rejects bad arguments with a ScheduleConfigError naming the field", async () => {
    const { scheduler } = setup();
    const fn = () => {};
    const cases: [() => Promise<void>, string][] = [
      [() => scheduler.addTask("", 10, fn), "name"],
      [() => scheduler.addTask(42 as never, 10, fn), "name"],
      [() => scheduler.addTask("t", 0, fn), "intervalSeconds"],
      [() => scheduler.addTask("t", -5, fn), "intervalSeconds"],
      [() => scheduler.addTask("t", Number.POSITIVE_INFINITY, fn), "intervalSeconds"],
      [() => scheduler.addTask("t", "60" as never, fn), "intervalSeconds"],
      [() => scheduler.addTask("t", 60, "cleanup" as never), "fn"],
      [() => scheduler.addTask("t", 60, fn, { aligned: "yes" as never }), "aligned"],
    ];
    for (const [call, field] of cases) {
      const error = await call().catch((e: unknown) => e);
      expect(error, field).toBeInstanceOf(ScheduleConfigError);
      expect((error as ScheduleConfigError).field).toBe(field);
      expect((error as ScheduleConfigError).code).toBe("ERR_SCHEDULE_CONFIG");
      expect((error as ScheduleConfigError).index).toBeNull();
    }
    expect(scheduler.taskNames).toEqual([]);
  });

  it("rejects a bad tickIntervalSeconds", () => {
    for (const tickIntervalSeconds of [0, -1, Number.NaN, "60"]) {
      expect(() => new Scheduler({ tickIntervalSeconds: tickIntervalSeconds as never })).toThrow(
        ScheduleConfigError,
      );
    }
    expect(new Scheduler().tickIntervalSeconds).toBe(60);
  });
});
