import { ManualClock } from "@svc-jobs/core";
import { ScheduleConfigError, Scheduler } from "@svc-jobs/scheduler";
import { describe, expect, it } from "vitest";
import { recordingLogger } from "./helpers.js";

/** Steps the clock minute by minute up to `untilMs`, ticking each time; returns fire times. */
async function driveMinutes(
  scheduler: Scheduler,
  clock: ManualClock,
  untilMs: number,
  fired: number[],
): Promise<number[]> {
  while (clock.now() < untilMs) {
    clock.advance(60);
    await scheduler.tick();
  }
  return fired;
}

function setup(startIso: string) {
  const clock = new ManualClock(Date.parse(startIso));
  const scheduler = new Scheduler({ clock, logger: recordingLogger() });
  const fired: number[] = [];
  const fn = () => {
    fired.push(clock.now());
  };
  return { clock, scheduler, fired, fn };
}

const iso = (ms: number) => new Date(ms).toISOString();

describe("cron tasks", () => {
  it("fires at the expression's times in the given time zone", async () => {
    const { clock, scheduler, fired, fn } = setup("2026-01-05T00:00:00Z");
    await scheduler.addCron("digest", "0 9 * * *", fn, { timezone: "Europe/Berlin" });
    expect((await scheduler.nextRunAt("digest"))?.toISOString()).toBe("2026-01-05T08:00:00.000Z");
    await driveMinutes(scheduler, clock, Date.parse("2026-01-07T12:00:00Z"), fired);
    expect(fired.map(iso)).toEqual([
      "2026-01-05T08:00:00.000Z",
      "2026-01-06T08:00:00.000Z",
      "2026-01-07T08:00:00.000Z",
    ]);
  });

  it("the same expression in another zone fires at another instant", async () => {
    const { scheduler } = setup("2026-01-05T00:00:00Z");
    await scheduler.addCron("ny", "0 9 * * *", () => {}, { timezone: "America/New_York" });
    await scheduler.addCron("utc", "0 9 * * *", () => {}, { timezone: "UTC" });
    expect((await scheduler.nextRunAt("ny"))?.toISOString()).toBe("2026-01-05T14:00:00.000Z");
    expect((await scheduler.nextRunAt("utc"))?.toISOString()).toBe("2026-01-05T09:00:00.000Z");
  });

  it("follows daylight saving time: the local time stays, the UTC instant moves", async () => {
    const { clock, scheduler, fired, fn } = setup("2026-03-06T00:00:00Z");
    await scheduler.addCron("morning", "0 9 * * *", fn, { timezone: "America/New_York" });
    await driveMinutes(scheduler, clock, Date.parse("2026-03-09T23:00:00Z"), fired);
    // EST (UTC-5) until 2026-03-08 02:00 local, EDT (UTC-4) after.
    expect(fired.map(iso)).toEqual([
      "2026-03-06T14:00:00.000Z",
      "2026-03-07T14:00:00.000Z",
      "2026-03-08T13:00:00.000Z",
      "2026-03-09T13:00:00.000Z",
    ]);
  });

  it("fires once on the day a spring-forward skips its local time and once on a fall-back day", async () => {
    const spring = setup("2026-03-07T00:00:00Z");
    await spring.scheduler.addCron("t", "30 2 * * *", spring.fn, { timezone: "America/New_York" });
    await driveMinutes(
      spring.scheduler,
      spring.clock,
      Date.parse("2026-03-10T00:00:00Z"),
      spring.fired,
    );
    expect(spring.fired).toHaveLength(3);
    expect(spring.fired.map(iso)[0]).toBe("2026-03-07T07:30:00.000Z");

    const fall = setup("2026-10-31T00:00:00Z");
    await fall.scheduler.addCron("t", "30 1 * * *", fall.fn, { timezone: "America/New_York" });
    await driveMinutes(fall.scheduler, fall.clock, Date.parse("2026-11-03T00:00:00Z"), fall.fired);
    expect(fall.fired).toHaveLength(3);
  });

  it("accepts the @daily-style macros", async () => {
    const { scheduler } = setup("2026-01-01T10:20:30Z");
    const expectations: [string, string][] = [
      ["@yearly", "2027-01-01T00:00:00.000Z"],
      ["@annually", "2027-01-01T00:00:00.000Z"],
      ["@monthly", "2026-02-01T00:00:00.000Z"],
      ["@weekly", "2026-01-04T00:00:00.000Z"],
      ["@daily", "2026-01-02T00:00:00.000Z"],
      ["@midnight", "2026-01-02T00:00:00.000Z"],
      ["@hourly", "2026-01-01T11:00:00.000Z"],
      ["@DAILY", "2026-01-02T00:00:00.000Z"],
    ];
    for (const [macro, next] of expectations) {
      await scheduler.addCron(macro, macro, () => {}, { timezone: "UTC" });
      expect((await scheduler.nextRunAt(macro))?.toISOString(), macro).toBe(next);
    }
  });

  it("handles steps, ranges, lists and named days", async () => {
    const { clock, scheduler, fired, fn } = setup("2026-01-05T08:00:00Z"); // a Monday
    await scheduler.addCron("business", "*/30 9-10 * * MON-FRI", fn, { timezone: "UTC" });
    await driveMinutes(scheduler, clock, Date.parse("2026-01-05T12:00:00Z"), fired);
    expect(fired.map(iso)).toEqual([
      "2026-01-05T09:00:00.000Z",
      "2026-01-05T09:30:00.000Z",
      "2026-01-05T10:00:00.000Z",
      "2026-01-05T10:30:00.000Z",
    ]);
    clock.set(Date.parse("2026-01-10T00:00:00Z")); // Saturday
    await scheduler.tick();
    fired.length = 0;
    await driveMinutes(scheduler, clock, Date.parse("2026-01-11T23:59:00Z"), fired);
    expect(fired).toEqual([]);
  });

  it("coalesces missed cron runs into one", async () => {
    const { clock, scheduler, fired, fn } = setup("2026-01-01T00:00:00Z");
    await scheduler.addCron("minutely", "* * * * *", fn, { timezone: "UTC" });
    clock.advance(3600);
    await scheduler.tick();
    expect(fired).toHaveLength(1);
    expect((await scheduler.nextRunAt("minutely"))?.toISOString()).toBe("2026-01-01T01:01:00.000Z");
  });

  it("rejects bad expressions and time zones with a ScheduleConfigError", async () => {
    const { scheduler } = setup("2026-01-01T00:00:00Z");
    const fn = () => {};
    const cases: [string, unknown, string, RegExp][] = [
      ["61 * * * *", undefined, "expression", /minute/],
      ["* * * *", undefined, "expression", /exactly five/],
      ["0 * * * * *", undefined, "expression", /exactly five/],
      ["@reboot", undefined, "expression", /not a known macro/],
      ["", undefined, "expression", /cron expression/],
      ["nonsense here x y z", undefined, "expression", /invalid/],
      ["0 9 * * *", "Mars/Olympus", "timezone", /IANA/],
      ["0 9 * * *", "", "timezone", /IANA/],
      ["0 9 * * *", 5, "timezone", /IANA/],
    ];
    for (const [expression, timezone, field, message] of cases) {
      const error = await scheduler
        .addCron("bad", expression, fn, { timezone: timezone as string })
        .catch((e: unknown) => e);
      expect(error, expression).toBeInstanceOf(ScheduleConfigError);
      expect((error as ScheduleConfigError).field, expression).toBe(field);
      expect((error as ScheduleConfigError).message).toMatch(message);
    }
    const noFn = await scheduler
      .addCron("bad", "* * * * *", undefined as never)
      .catch((e: unknown) => e);
    expect((noFn as ScheduleConfigError).field).toBe("fn");
    expect(scheduler.taskNames).toEqual([]);
  });
});
