import { ManualClock } from "@svc-jobs/core";
import { ScheduleConfigError, Scheduler } from "@svc-jobs/scheduler";
import { describe, expect, it, vi } from "vitest";
import { recordingLogger, SwitchLeader } from "./helpers.js";

function setup() {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const leader = new SwitchLeader();
  const logger = recordingLogger();
  const scheduler = new Scheduler({ clock, leader, logger });
  return { clock, leader, logger, scheduler };
}

describe("with a leader", () => {
  it("asks acquire() at every tick and fires only while it is true", async () => {
    const { clock, leader, scheduler } = setup();
    let count = 0;
    await scheduler.addTask("t", 10, () => {
      count++;
    });
    clock.advance(10);
    await scheduler.tick();
    expect(count).toBe(1);
    expect(leader.acquireCalls).toBe(1);

    leader.leading = false;
    clock.advance(10);
    expect(await scheduler.tick()).toEqual([]);
    expect(count).toBe(1);
    expect(leader.acquireCalls).toBe(2);
  });

  it("a follower keeps its schedule moving, so a takeover fires no burst of missed runs", async () => {
    const { clock, leader, scheduler } = setup();
    let count = 0;
    await scheduler.addTask("t", 10, () => {
      count++;
    });
    leader.leading = false;
    for (let i = 0; i < 5; i++) {
      clock.advance(10);
      await scheduler.tick();
    }
    expect(count).toBe(0);
    leader.leading = true;
    await scheduler.tick(); // takes over between two due times: nothing is owed
    expect(count).toBe(0);
    clock.advance(10);
    await scheduler.tick();
    expect(count).toBe(1);
  });

  it("an acquire() that throws is logged and treated as not leading", async () => {
    const { clock, leader, logger, scheduler } = setup();
    let count = 0;
    await scheduler.addTask("t", 1, () => {
      count++;
    });
    leader.fail = new Error("redis unreachable");
    clock.advance(1);
    await expect(scheduler.tick()).resolves.toEqual([]);
    expect(count).toBe(0);
    expect(logger.records.some((r) => r.level === "warn" && r.details.err === leader.fail)).toBe(
      true,
    );
    leader.fail = undefined;
    clock.advance(1);
    await scheduler.tick();
    expect(count).toBe(1);
  });

  it("logs leadership changes", async () => {
    const { leader, logger, scheduler } = setup();
    await scheduler.tick();
    leader.leading = false;
    await scheduler.tick();
    await scheduler.tick();
    leader.leading = true;
    await scheduler.tick();
    expect(logger.records.filter((r) => r.level === "info").map((r) => r.message)).toEqual([
      "scheduler: became leader",
      "scheduler: lost leadership",
      "scheduler: became leader",
    ]);
  });

  it("run() releases the lease when it stops", async () => {
    const { leader, scheduler } = setup();
    const running = scheduler.run();
    await vi.waitFor(() => expect(leader.acquireCalls).toBeGreaterThan(0));
    await scheduler.stop();
    await running;
    expect(leader.releaseCalls).toBe(1);
  });

  it("run() renews at least every third of a leader's leaseSeconds", async () => {
    const leader = Object.assign(new SwitchLeader(), { leaseSeconds: 0.09 });
    const scheduler = new Scheduler({
      leader,
      tickIntervalSeconds: 3600,
      logger: recordingLogger(),
    });
    const running = scheduler.run();
    // With a one-hour tick and no tasks, only the lease makes the loop call acquire() again.
    await vi.waitFor(() => expect(leader.acquireCalls).toBeGreaterThanOrEqual(4), {
      timeout: 3000,
    });
    await scheduler.stop();
    await running;
  });

  it("stop() does not wait for an acquire() that hangs, nor long for a release() that hangs", async () => {
    const hanging = {
      leaseSeconds: 0.3,
      acquireCalls: 0,
      acquire(): Promise<boolean> {
        this.acquireCalls++;
        return new Promise<boolean>(() => {});
      },
      isLeader: () => false,
      release: () => new Promise<void>(() => {}),
    };
    const logger = recordingLogger();
    const scheduler = new Scheduler({ leader: hanging, logger });
    const running = scheduler.run();
    await vi.waitFor(() => expect(hanging.acquireCalls).toBe(1));
    await scheduler.stop();
    await running;
    expect(
      logger.records.some((r) => r.message.includes("releasing the leader lease failed")),
    ).toBe(true);
  }, 15_000);

  it("rejects something that is not a Leader", () => {
    expect(() => new Scheduler({ leader: {} as never })).toThrow(ScheduleConfigError);
    expect(() => new Scheduler({ leader: null as never })).toThrow(ScheduleConfigError);
  });
});
