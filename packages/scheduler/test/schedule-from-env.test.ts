import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ConfigError, InMemoryJobQueue, JobsError, ManualClock } from "@svc-jobs/core";
import { ScheduleConfigError, Scheduler, scheduleFromEnv } from "@svc-jobs/scheduler";
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";
import { recordingLogger } from "./helpers.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));
const calls = (): string[] =>
  ((globalThis as { __schedulerFixtureCalls?: string[] }).__schedulerFixtureCalls ??= []);

function setup() {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const queue = new InMemoryJobQueue({ clock });
  const scheduler = new Scheduler({ clock, logger: recordingLogger() });
  return { clock, queue, scheduler };
}

const env = (entries: unknown) => ({ JOBS_SCHEDULE_JSON: JSON.stringify(entries) });

// A package installed next to the app but not visible from @svc-jobs/scheduler.
const appDir = mkdtempSync(path.join(tmpdir(), "svc-jobs-sched-app-"));
const pkgDir = path.join(appDir, "node_modules", "svc-jobs-fixture-tasks");
mkdirSync(pkgDir, { recursive: true });
writeFileSync(
  path.join(pkgDir, "package.json"),
  JSON.stringify({ name: "svc-jobs-fixture-tasks", type: "module", exports: "./index.js" }),
);
writeFileSync(
  path.join(pkgDir, "index.js"),
  'export function ping() { (globalThis.__schedulerFixtureCalls ??= []).push("ping"); }\n',
);
afterAll(() => rmSync(appDir, { recursive: true, force: true }));

beforeEach(() => {
  calls().length = 0;
});

describe("scheduleFromEnv", () => {
  it("registers target entries (interval and cron) from a ./ path relative to the working directory", async () => {
    const { clock, scheduler } = setup();
    const names = await scheduleFromEnv(scheduler, {
      cwd: FIXTURES,
      env: env([
        { name: "cleanup", interval_seconds: 300, target: "./tasks.mjs:cleanup" },
        {
          name: "digest",
          cron: "0 8 * * *",
          timezone: "Europe/Berlin",
          target: "./tasks.mjs#asyncDigest",
        },
      ]),
    });
    expect(names).toEqual(["cleanup", "digest"]);
    expect(scheduler.taskNames).toEqual(["cleanup", "digest"]);
    expect((await scheduler.nextRunAt("digest"))?.toISOString()).toBe("2026-01-01T07:00:00.000Z");

    clock.advance(300);
    await scheduler.tick();
    expect(calls()).toEqual(["cleanup"]);
    clock.set(Date.UTC(2026, 0, 1, 7, 0, 0));
    await scheduler.tick();
    expect(calls()).toContain("asyncDigest");
  });

  it("resolves ./ targets against process.cwd() by default", async () => {
    const { clock, scheduler } = setup();
    const relative = `./${path.relative(process.cwd(), path.join(FIXTURES, "tasks.mjs")).split(path.sep).join("/")}`;
    await scheduleFromEnv(scheduler, {
      env: env([{ name: "c", interval_seconds: 1, target: `${relative}:cleanup` }]),
    });
    clock.advance(1);
    await scheduler.tick();
    expect(calls()).toEqual(["cleanup"]);
  });

  it("imports a package target, finding it from the working directory", async () => {
    const { clock, scheduler } = setup();
    await scheduleFromEnv(scheduler, {
      cwd: appDir,
      env: env([{ name: "ping", interval_seconds: 60, target: "svc-jobs-fixture-tasks:ping" }]),
    });
    clock.advance(60);
    await scheduler.tick();
    expect(calls()).toEqual(["ping"]);
  });

  it("hands importModule a file URL for paths and the bare name for packages", async () => {
    const { scheduler } = setup();
    const importModule = vi.fn(async () => ({ run: () => {} }));
    await scheduleFromEnv(scheduler, {
      cwd: "/srv/app",
      importModule,
      env: env([
        { name: "a", interval_seconds: 1, target: "./jobs/tasks.js:run" },
        { name: "b", interval_seconds: 1, target: "../shared/tasks.js:run" },
        { name: "c", interval_seconds: 1, target: "@acme/tasks:run" },
        { name: "d", interval_seconds: 1, target: "@acme/tasks:run" },
      ]),
    });
    expect(importModule.mock.calls.map((c) => (c as unknown[])[0])).toEqual([
      pathToFileURL("/srv/app/jobs/tasks.js").href,
      pathToFileURL("/srv/shared/tasks.js").href,
      "@acme/tasks",
    ]);
  });

  it("registers job entries that enqueue into the queue, with payload and delay", async () => {
    const { clock, queue, scheduler } = setup();
    await scheduleFromEnv(scheduler, {
      queue,
      env: env([
        { name: "outbox", interval_seconds: 5, job_name: "outbox.tick" },
        {
          name: "report",
          cron: "@hourly",
          timezone: "UTC",
          job_name: "report",
          payload: { kind: "hourly" },
          delay_seconds: 10,
        },
      ]),
    });
    clock.advance(5);
    await scheduler.tick();
    const first = await queue.reserveNext();
    expect([first?.name, first?.payload]).toEqual(["outbox.tick", {}]);

    clock.set(Date.UTC(2026, 0, 1, 1, 0, 0));
    await scheduler.tick();
    expect((await queue.stats()).delayed).toBe(1);
    clock.advance(10);
    const jobs = [];
    for (let job = await queue.reserveNext(); job; job = await queue.reserveNext()) jobs.push(job);
    expect(jobs.find((j) => j.name === "report")?.payload).toEqual({ kind: "hourly" });
  });

  it("reads another variable with envVar, and schedules nothing when it is unset or blank", async () => {
    const { scheduler } = setup();
    expect(await scheduleFromEnv(scheduler, { env: {} })).toEqual([]);
    expect(await scheduleFromEnv(scheduler, { env: { JOBS_SCHEDULE_JSON: "  " } })).toEqual([]);
    expect(
      await scheduleFromEnv(scheduler, {
        envVar: "MY_SCHEDULE",
        cwd: FIXTURES,
        env: {
          MY_SCHEDULE: JSON.stringify([
            { name: "x", interval_seconds: 1, target: "./tasks.mjs:cleanup" },
          ]),
        },
      }),
    ).toEqual(["x"]);
  });

  it("reads process.env by default", async () => {
    const { scheduler } = setup();
    vi.stubEnv(
      "JOBS_SCHEDULE_JSON",
      JSON.stringify([
        { name: "from-env", interval_seconds: 1, target: `${FIXTURES}tasks.mjs:cleanup` },
      ]),
    );
    try {
      expect(await scheduleFromEnv(scheduler)).toEqual(["from-env"]);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  describe("errors", () => {
    const good = { name: "ok", interval_seconds: 60, target: "./tasks.mjs:cleanup" };
    const other = { ...good, name: "other" };

    async function failWith(
      raw: string | unknown[],
      options: { queue?: boolean } = {},
    ): Promise<ScheduleConfigError> {
      const { queue, scheduler } = setup();
      const importModule = vi.fn((specifier: string) => import(/* @vite-ignore */ specifier));
      const error = await scheduleFromEnv(scheduler, {
        cwd: FIXTURES,
        importModule,
        queue: options.queue === false ? undefined : queue,
        env: { JOBS_SCHEDULE_JSON: typeof raw === "string" ? raw : JSON.stringify(raw) },
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ScheduleConfigError);
      // Nothing starts on a bad config.
      expect(scheduler.taskNames).toEqual([]);
      return error as ScheduleConfigError;
    }

    it("is a ConfigError and a JobsError with a stable code", async () => {
      const error = await failWith("[");
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toBeInstanceOf(JobsError);
      expect(error.code).toBe("ERR_SCHEDULE_CONFIG");
    });

    it("malformed JSON and a non-array name the variable", async () => {
      const bad = await failWith('[{"name": "x",]');
      expect([bad.index, bad.field]).toEqual([null, "JOBS_SCHEDULE_JSON"]);
      expect(bad.message).toMatch(/not valid JSON/);
      const object = await failWith(JSON.stringify(good));
      expect([object.index, object.field]).toEqual([null, "JOBS_SCHEDULE_JSON"]);
      expect(object.message).toMatch(/must be a JSON array/);
    });

    const cases: [string, unknown, string, RegExp][] = [
      ["an entry that is not an object", 5, "entry", /must be an object/],
      ["a missing name", { interval_seconds: 1, target: "./tasks.mjs:cleanup" }, "name", /name/],
      ["a name of the wrong type", { ...other, name: 7 }, "name", /non-empty string/],
      [
        "neither interval nor cron",
        { name: "n", target: "./tasks.mjs:cleanup" },
        "interval_seconds",
        /needs interval_seconds/,
      ],
      [
        "both interval and cron",
        { ...other, cron: "* * * * *" },
        "cron",
        /both interval_seconds and cron/,
      ],
      [
        "interval of the wrong type",
        { ...other, interval_seconds: "300" },
        "interval_seconds",
        /number of seconds/,
      ],
      ["interval of zero", { ...other, interval_seconds: 0 }, "interval_seconds", /> 0/],
      [
        "cron of the wrong type",
        { name: "n", cron: 5, target: "./tasks.mjs:cleanup" },
        "cron",
        /cron expression/,
      ],
      [
        "an invalid cron",
        { name: "n", cron: "99 * * * *", target: "./tasks.mjs:cleanup" },
        "cron",
        /invalid/,
      ],
      [
        "a cron with six fields",
        { name: "n", cron: "0 0 * * * *", target: "./tasks.mjs:cleanup" },
        "cron",
        /five/,
      ],
      [
        "an unknown time zone",
        { name: "n", cron: "@daily", timezone: "Nowhere/City", target: "./tasks.mjs:cleanup" },
        "timezone",
        /IANA/,
      ],
      [
        "a time zone on an interval entry",
        { ...other, timezone: "UTC" },
        "timezone",
        /only applies to cron/,
      ],
      ["neither target nor job_name", { name: "n", interval_seconds: 1 }, "target", /needs target/],
      [
        "both target and job_name",
        { ...other, job_name: "j" },
        "job_name",
        /both target and job_name/,
      ],
      [
        "a target of the wrong type",
        { ...other, target: ["./tasks.mjs", "cleanup"] },
        "target",
        /must be a string/,
      ],
      [
        "a target without an export",
        { ...other, target: "./tasks.mjs" },
        "target",
        /module:export/,
      ],
      [
        "a module that does not import",
        { ...other, target: "./missing.mjs:cleanup" },
        "target",
        /cannot import/,
      ],
      [
        "a package that is not installed",
        { ...other, target: "no-such-package-xyz:run" },
        "target",
        /cannot import/,
      ],
      [
        "an unknown export",
        { ...other, target: "./tasks.mjs:nope" },
        "target",
        /no export named "nope"/,
      ],
      [
        "an export that is not a function",
        { ...other, target: "./tasks.mjs:notAFunction" },
        "target",
        /not a function/,
      ],
      [
        "payload on a target entry",
        { ...other, payload: {} },
        "payload",
        /only applies to job_name/,
      ],
      [
        "a job_name of the wrong type",
        { name: "n", interval_seconds: 1, job_name: 5 },
        "job_name",
        /non-empty string/,
      ],
      [
        "a payload that is not an object",
        { name: "n", interval_seconds: 1, job_name: "j", payload: [1] },
        "payload",
        /JSON object/,
      ],
      [
        "a negative delay_seconds",
        { name: "n", interval_seconds: 1, job_name: "j", delay_seconds: -1 },
        "delay_seconds",
        />= 0/,
      ],
      [
        "a delay_seconds of the wrong type",
        { name: "n", interval_seconds: 1, job_name: "j", delay_seconds: "5" },
        "delay_seconds",
        />= 0/,
      ],
      [
        "an unknown field",
        { ...other, interval: 5 },
        "interval",
        /did you mean "interval_seconds"/,
      ],
      ["a duplicate name", { ...good }, "name", /also the name of entry 0/],
    ];
    for (const [title, entry, field, message] of cases) {
      it(`${title}: names entry 1 and field "${field}"`, async () => {
        const error = await failWith([good, entry]);
        expect(error.index).toBe(1);
        expect(error.field).toBe(field);
        expect(error.message).toMatch(message);
        expect(error.message).toContain("JOBS_SCHEDULE_JSON[1]");
      });
    }

    it("a job_name entry without a queue", async () => {
      const error = await failWith([good, { name: "n", interval_seconds: 1, job_name: "j" }], {
        queue: false,
      });
      expect([error.index, error.field]).toEqual([1, "job_name"]);
      expect(error.message).toMatch(/no queue was given/);
    });

    it("checks every entry before importing any target", async () => {
      const { scheduler } = setup();
      const importModule = vi.fn(async () => ({ cleanup: () => {} }));
      await expect(
        scheduleFromEnv(scheduler, {
          importModule,
          env: env([good, { name: "bad", interval_seconds: -1, target: "./x.js:y" }]),
        }),
      ).rejects.toBeInstanceOf(ScheduleConfigError);
      expect(importModule).not.toHaveBeenCalled();
    });
  });
});
