import { InMemoryJobQueue, ManualClock } from "@svc-jobs/core";
import {
  InMemoryScheduler,
  ScheduleConfigError,
  Scheduler,
  scheduleFromEnv,
} from "@svc-jobs/scheduler";
import { expectUnknownOptionRefused } from "@svc-jobs/test-servers/fixtures";
import { describe, expect, it } from "vitest";

const fn = () => {};
const scheduler = () => new Scheduler({ clock: new ManualClock(0) });

type Call = () => unknown;
/** [name, call with an unknown key, field, did-you-mean text, known keys, valid call] */
const cases: [string, Call, string, string, string, Call][] = [
  [
    "new Scheduler",
    () => new Scheduler({ tick: 1 } as never),
    "tick",
    'did you mean "tickIntervalSeconds"?',
    "known: tickIntervalSeconds, clock, leader, logger",
    () => new Scheduler({ tickIntervalSeconds: 1 }),
  ],
  [
    "new InMemoryScheduler (the deprecated alias)",
    () => new InMemoryScheduler({ tickIntervalSecond: 1 } as never),
    "tickIntervalSecond",
    'did you mean "tickIntervalSeconds"?',
    "known: tickIntervalSeconds",
    () => new InMemoryScheduler({ tickIntervalSeconds: 1 }),
  ],
  [
    "addTask",
    () => scheduler().addTask("t", 5, fn, { align: true } as never),
    "align",
    'did you mean "aligned"?',
    "known: aligned",
    () => scheduler().addTask("t", 5, fn, { aligned: true }),
  ],
  [
    "addCron",
    () => scheduler().addCron("c", "* * * * *", fn, { tz: "UTC" } as never),
    "tz",
    'did you mean "timezone"?',
    "known: timezone",
    () => scheduler().addCron("c", "* * * * *", fn, { timezone: "UTC" }),
  ],
  [
    "addJob",
    () =>
      scheduler().addJob("j", {
        intervalSeconds: 5,
        queue: new InMemoryJobQueue(),
        jobName: "x",
        payloadFactry: () => ({}),
      } as never),
    "payloadFactry",
    'did you mean "payloadFactory"?',
    "known: intervalSeconds, aligned, cron",
    () =>
      scheduler().addJob("j", { intervalSeconds: 5, queue: new InMemoryJobQueue(), jobName: "x" }),
  ],
  [
    "scheduleFromEnv",
    () => scheduleFromEnv(scheduler(), { envvar: "X", env: {} } as never),
    "envvar",
    'did you mean "envVar"?',
    "known: queue, envVar, env, cwd, importModule",
    () => scheduleFromEnv(scheduler(), { envVar: "X", env: {} }),
  ],
];

describe("unknown options are refused", () => {
  it.each(cases)("%s", async (_name, call, field, meant, known, valid) => {
    await expectUnknownOptionRefused(call, {
      errorClass: ScheduleConfigError,
      field,
      meant,
      known,
    });
    await valid();
  });

  it("a refused add* registers nothing", async () => {
    const s = scheduler();
    await expect(s.addTask("t", 5, fn, { x: 1 } as never)).rejects.toThrow(ScheduleConfigError);
    await expect(s.addCron("c", "* * * * *", fn, { x: 1 } as never)).rejects.toThrow(
      ScheduleConfigError,
    );
    expect(s.taskNames).toEqual([]);
  });
});
