import {
  BackendError,
  InMemoryJobQueue,
  JobsError,
  type Leader,
  ManualClock,
} from "@svc-jobs/core";
import { ScheduleConfigError, Scheduler, scheduleFromEnv } from "@svc-jobs/scheduler";
import { describe, expect, it, vi } from "vitest";
import { recordingLogger } from "./helpers.js";

function setup() {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const queue = new InMemoryJobQueue({ clock });
  const logger = recordingLogger();
  const scheduler = new Scheduler({ clock, logger });
  return { clock, queue, logger, scheduler };
}

async function refusal(call: () => Promise<unknown>): Promise<ScheduleConfigError> {
  const error = await call().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ScheduleConfigError);
  return error as ScheduleConfigError;
}

describe("unknown keys", () => {
  it("addJob names an unknown option, what was meant, and every option", async () => {
    const { queue, scheduler } = setup();
    const ok = { intervalSeconds: 5, queue, jobName: "j" };
    const error = await refusal(() => scheduler.addJob("bad", { ...ok, interval: 5 } as never));
    expect(error.field).toBe("interval");
    expect(error.message).toBe(
      'addJob: options has an unknown option "interval": did you mean "intervalSeconds"? (known: intervalSeconds, aligned, cron, timezone, queue, jobName, payload, payloadFactory, enqueueOptions)',
    );
    // Every mistake the scheduler named before still gets the same suggestion.
    const meant: [string, string][] = [
      ["interval", '"intervalSeconds"'],
      ["interval_seconds", '"intervalSeconds"'],
      ["job_name", '"jobName"'],
      ["name", '"jobName"'],
      ["payload_factory", '"payloadFactory"'],
      ["tz", '"timezone"'],
      ["delaySeconds", "enqueueOptions: { delaySeconds }"],
      ["delay_seconds", "enqueueOptions: { delaySeconds }"],
      ["enqueueOption", '"enqueueOptions"'],
    ];
    for (const [key, suggestion] of meant) {
      const { message } = await refusal(() =>
        scheduler.addJob("bad", { ...ok, [key]: 1 } as never),
      );
      expect(message, key).toContain(`"${key}": did you mean ${suggestion}? (known: `);
    }
    expect(scheduler.taskNames).toEqual([]);
  });

  it("JOBS_SCHEDULE_JSON names an unknown field of an entry, and what was meant", async () => {
    const { queue, scheduler } = setup();
    const entry = { name: "n", interval_seconds: 5, job_name: "j" };
    const load = (extra: Record<string, unknown>) =>
      scheduleFromEnv(scheduler, {
        queue,
        env: { JOBS_SCHEDULE_JSON: JSON.stringify([entry, { ...entry, name: "m", ...extra }]) },
      });
    const error = await refusal(() => load({ intervalSeconds: 5 }));
    expect([error.index, error.field]).toEqual([1, "intervalSeconds"]);
    expect(error.message).toBe(
      'JOBS_SCHEDULE_JSON[1] has an unknown field "intervalSeconds": did you mean "interval_seconds"? (known: name, interval_seconds, cron, timezone, target, job_name, payload, delay_seconds)',
    );
    const meant: [string, string][] = [
      ["interval", "interval_seconds"],
      ["intervalSeconds", "interval_seconds"],
      ["seconds", "interval_seconds"],
      ["jobName", "job_name"],
      ["job", "job_name"],
      ["tz", "timezone"],
      ["timeZone", "timezone"],
      ["delaySeconds", "delay_seconds"],
      ["delay", "delay_seconds"],
      ["func", "target"],
      ["function", "target"],
      ["handler", "target"],
      ["module", "target"],
      ["schedule", "cron"],
      ["paylod", "payload"],
    ];
    for (const [key, suggestion] of meant) {
      const { message } = await refusal(() => load({ [key]: 1 }));
      expect(message, key).toContain(`"${key}": did you mean "${suggestion}"?`);
    }
    expect(scheduler.taskNames).toEqual([]);
  });
});

describe("errors are JobsErrors", () => {
  it("stop() aborts running tasks with a JobsError as the signal's reason", async () => {
    const { clock, scheduler } = setup();
    let signal: AbortSignal | undefined;
    await scheduler.addTask("long", 1, (context) => {
      signal = context.signal;
      return new Promise<void>((resolve) =>
        context.signal.addEventListener("abort", () => resolve()),
      );
    });
    const running = scheduler.run();
    clock.advance(1);
    await vi.waitFor(() => expect(signal).toBeDefined());
    await scheduler.stop();
    await running;
    const reason: unknown = signal?.reason;
    expect(reason).toBeInstanceOf(JobsError);
    expect(reason).toMatchObject({
      code: "ERR_SCHEDULER_STOPPED",
      message: expect.stringMatching(/^scheduler stopped: stop\(\) was called/),
    });
  });

  it("a leader release that never answers is logged as a BackendError", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const logger = recordingLogger();
    const leader: Leader & { leaseSeconds: number } = {
      leaseSeconds: 0.05,
      acquire: async () => true,
      isLeader: () => true,
      release: () => new Promise<void>(() => {}),
    };
    const scheduler = new Scheduler({ clock, logger, leader, tickIntervalSeconds: 0.01 });
    const running = scheduler.run();
    await scheduler.stop();
    await running;
    const record = logger.records.find((r) => r.message.includes("releasing the leader lease"));
    const err: unknown = record?.details.err;
    expect(err).toBeInstanceOf(BackendError);
    expect(err).toMatchObject({ message: "no answer within 50 ms" });
  });
});
