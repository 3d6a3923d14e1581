import { fileURLToPath } from "node:url";
import { InMemoryJobQueue, ManualClock } from "@svc-jobs/core";
import { expectedStats } from "@svc-jobs/core/testing";
import { InMemoryScheduler, ScheduleConfigError, scheduleFromEnv } from "@svc-jobs/scheduler";
import { describe, expect, it } from "vitest";

// Malformed JOBS_SCHEDULE_JSON: a ScheduleConfigError naming the entry and the field,
// and nothing registered or enqueued, even for the good entries before the bad one.

const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));
const good = { name: "good", interval_seconds: 1, job_name: "tick", payload: { n: 1 } };

const cases: [string, string, { index: number | null; field: string; message: RegExp }][] = [
  [
    "not JSON",
    "[{name: 'x'}]",
    { index: null, field: "JOBS_SCHEDULE_JSON", message: /not valid JSON/ },
  ],
  [
    "truncated JSON",
    '[{"name":"x",',
    { index: null, field: "JOBS_SCHEDULE_JSON", message: /not valid JSON/ },
  ],
  [
    "an object, not an array",
    JSON.stringify(good),
    { index: null, field: "JOBS_SCHEDULE_JSON", message: /JSON array.*wrap a single entry/ },
  ],
  [
    "an entry that is a string",
    JSON.stringify([good, "cleanup"]),
    { index: 1, field: "entry", message: /\[1\] must be an object/ },
  ],
  [
    "a missing name",
    JSON.stringify([good, { interval_seconds: 5, job_name: "x" }]),
    { index: 1, field: "name", message: /name must be a non-empty string/ },
  ],
  [
    "an empty name",
    JSON.stringify([good, { name: "", interval_seconds: 5, job_name: "x" }]),
    { index: 1, field: "name", message: /non-empty string/ },
  ],
  [
    "a duplicate name",
    JSON.stringify([good, { ...good }]),
    { index: 1, field: "name", message: /names must be unique/ },
  ],
  [
    "no schedule",
    JSON.stringify([good, { name: "b", job_name: "x" }]),
    { index: 1, field: "interval_seconds", message: /needs interval_seconds .* or cron/ },
  ],
  [
    "both interval and cron",
    JSON.stringify([good, { name: "b", interval_seconds: 5, cron: "* * * * *", job_name: "x" }]),
    { index: 1, field: "cron", message: /both interval_seconds and cron/ },
  ],
  [
    "a negative interval",
    JSON.stringify([good, { name: "b", interval_seconds: -5, job_name: "x" }]),
    { index: 1, field: "interval_seconds", message: /> 0/ },
  ],
  [
    "a string interval",
    JSON.stringify([good, { name: "b", interval_seconds: "5", job_name: "x" }]),
    { index: 1, field: "interval_seconds", message: /number of seconds/ },
  ],
  [
    "a bad cron",
    JSON.stringify([good, { name: "b", cron: "61 * * * *", job_name: "x" }]),
    { index: 1, field: "cron", message: /cron/ },
  ],
  [
    "a misspelt field",
    JSON.stringify([good, { name: "b", interval: 5, job_name: "x" }]),
    { index: 1, field: "interval", message: /did you mean "interval_seconds"/ },
  ],
  [
    "neither target nor job_name",
    JSON.stringify([good, { name: "b", interval_seconds: 5 }]),
    { index: 1, field: "target", message: /needs target/ },
  ],
  [
    "both target and job_name",
    JSON.stringify([
      good,
      { name: "b", interval_seconds: 5, target: "./tasks.mjs:cleanup", job_name: "x" },
    ]),
    { index: 1, field: "job_name", message: /both target and job_name/ },
  ],
  [
    "a target without an export",
    JSON.stringify([good, { name: "b", interval_seconds: 5, target: "./tasks.mjs" }]),
    { index: 1, field: "target", message: /module:export/ },
  ],
  [
    "a target that does not import",
    JSON.stringify([good, { name: "b", interval_seconds: 5, target: "./missing.mjs:run" }]),
    { index: 1, field: "target", message: /cannot import/ },
  ],
  [
    "a target export that is missing",
    JSON.stringify([good, { name: "b", interval_seconds: 5, target: "./tasks.mjs:nope" }]),
    { index: 1, field: "target", message: /no export named "nope".*cleanup/ },
  ],
  [
    "a target export that is not a function",
    JSON.stringify([good, { name: "b", interval_seconds: 5, target: "./tasks.mjs:notAFunction" }]),
    { index: 1, field: "target", message: /not a function/ },
  ],
  [
    "a job payload JSON cannot be a job payload",
    JSON.stringify([good, { name: "b", interval_seconds: 5, job_name: "x", payload: [1, 2] }]),
    { index: 1, field: "payload", message: /payload/ },
  ],
  [
    "an empty job_name",
    JSON.stringify([good, { name: "b", interval_seconds: 5, job_name: "" }]),
    { index: 1, field: "job_name", message: /job_name/ },
  ],
];

describe("malformed JOBS_SCHEDULE_JSON", () => {
  it.each(cases)(
    "%s: a ScheduleConfigError naming the entry; nothing scheduled or queued",
    async (_what, json, expected) => {
      const clock = new ManualClock(Date.UTC(2030, 0, 1));
      const queue = new InMemoryJobQueue({ clock });
      const scheduler = new InMemoryScheduler({ clock });
      const error = await scheduleFromEnv(scheduler, {
        queue,
        env: { JOBS_SCHEDULE_JSON: json },
        cwd: FIXTURES,
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ScheduleConfigError);
      const e = error as ScheduleConfigError;
      expect(e.code).toBe("ERR_SCHEDULE_CONFIG");
      expect(e.index).toBe(expected.index);
      expect(e.field).toBe(expected.field);
      expect(e.message).toMatch(expected.message);
      expect(e.message).toContain("JOBS_SCHEDULE_JSON");
      // The good entry before the bad one was not registered either.
      expect(scheduler.taskNames).toEqual([]);
      clock.advance(10);
      await scheduler.tick();
      expect(await queue.stats()).toEqual(expectedStats());
      await scheduler.stop();
      await queue.close();
    },
  );

  it("the same schedule without the bad entry registers and enqueues (the check above can fail)", async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const queue = new InMemoryJobQueue({ clock });
    const scheduler = new InMemoryScheduler({ clock });
    const names = await scheduleFromEnv(scheduler, {
      queue,
      env: {
        JOBS_SCHEDULE_JSON: JSON.stringify([
          good,
          { name: "c", interval_seconds: 5, target: "./tasks.mjs:cleanup" },
        ]),
      },
      cwd: FIXTURES,
    });
    expect(names).toEqual(["good", "c"]);
    expect(scheduler.taskNames.sort()).toEqual(["c", "good"]);
    clock.advance(1);
    await scheduler.tick();
    expect((await queue.stats()).ready).toBe(1);
    await scheduler.stop();
    await queue.close();
  });
});
