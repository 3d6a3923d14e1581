import { InMemoryScheduler, type InMemorySchedulerOptions, Scheduler } from "@svc-jobs/scheduler";
import { describe, expect, it } from "vitest";

describe("former names", () => {
  it("InMemoryScheduler is Scheduler under its old name, still constructible", async () => {
    expect(InMemoryScheduler).toBe(Scheduler);
    const options: InMemorySchedulerOptions = { tickIntervalSeconds: 5 };
    const scheduler: InMemoryScheduler = new InMemoryScheduler(options);
    expect(scheduler).toBeInstanceOf(Scheduler);
    await scheduler.addTask("cleanup", 60, () => {});
    expect(scheduler.taskNames).toEqual(["cleanup"]);
  });
});
