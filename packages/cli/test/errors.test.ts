import { freePort } from "@svc-jobs/test-servers";
import { describe, expect, it } from "vitest";
import { runBin, startBin } from "./helpers.js";

function expectOneLineError(
  out: { code: number | null; stderr: string; stdout: string },
  code: number,
  message: RegExp,
) {
  expect(out.code).toBe(code);
  expect(out.stderr).toMatch(message);
  expect(out.stderr.trim().split("\n")).toHaveLength(1);
  expect(out.stderr).toMatch(/^svc-jobs: /);
  expect(out.stderr).not.toMatch(/\n\s+at /);
}

describe("usage errors", () => {
  it("an unknown command is one line and exit 2", async () => {
    const out = await runBin(["frobnicate"], {});
    expectOneLineError(out, 2, /unknown command 'frobnicate'/);
  });

  it("an unknown option is one line and exit 2", async () => {
    const out = await runBin(["stats", "--wach"], {});
    expectOneLineError(out, 2, /unknown option '--wach'.*svc-jobs stats --help/);
  });

  it.each([
    [["run", "--concurrency", "0"], /--concurrency must be a whole number >= 1/],
    [["run", "--poll-interval", "soon"], /--poll-interval must be a number of seconds/],
    [["dlq", "list", "--limit", "-1"], /--limit must be a whole number >= 1/],
    [["run", "--metrics-port", "99999"], /--metrics-port must be a TCP port/],
    [
      ["jobs", "list", "--state", "done"],
      /--state must be one of delayed, ready, processing, completed, dead, cancelled, got "done".*svc-jobs jobs list --help/,
    ],
    [["jobs", "list"], /required option '--state <state>' not specified/],
    [["jobs", "count", "--state", "finished"], /--state must be one of/],
    [
      ["jobs", "list", "--state", "ready", "--limit", "0"],
      /--limit must be a whole number from 1 to 1000/,
    ],
    [
      ["jobs", "list", "--state", "ready", "--limit", "1001"],
      /--limit must be a whole number from 1 to 1000/,
    ],
    [
      ["jobs", "list", "--state", "ready", "--all", "--limit", "5"],
      /takes --all or --limit, not both/,
    ],
    [
      ["jobs", "list", "--state", "ready", "--stat", "x"],
      /unknown option '--stat'.*svc-jobs jobs list --help/,
    ],
    [["jobs", "show"], /missing required argument 'id'/],
    [["jobs", "cancel", "1", "--why", "x"], /unknown option '--why'.*svc-jobs jobs cancel --help/],
    [["jobs", "retry"], /missing required argument 'id'/],
    [["jobs", "frob"], /unknown command 'frob'/],
    [["pause", "--now"], /unknown option '--now'.*svc-jobs pause --help/],
    [["resume", "extra"], /too many arguments/],
    [["events", "--folow"], /unknown option '--folow'.*svc-jobs events --help/],
    [["events"], /svc-jobs events needs --follow .* or --after <event id>/],
    [["events", "--after", " "], /--after needs an event id/],
    [["enqueue", "x", "{}", "--priority", "high"], /--priority must be a whole number/],
    [["jobs", "promote"], /missing required argument 'id'/],
    [
      ["limits", "set", "--rate", "10"],
      /--rate must be <max>\/<seconds>, e.g. --rate 10\/1.*svc-jobs limits set --help/,
    ],
    [["limits", "set", "--rate", "0/1"], /--rate <max> \(before the \/\) must be a whole number/],
    [["limits", "set", "--group-concurrency", "-1"], /--group-concurrency must be a whole number/],
    [["limits", "set", "--group-rate", "1/0"], /--group-rate <seconds> \(after the \/\)/],
    [["limits", "set", "--frob"], /unknown option '--frob'.*svc-jobs limits set --help/],
    [["limits", "show", "--jsn"], /unknown option '--jsn'.*svc-jobs limits show --help/],
    [["limits", "set"], /limits set changes nothing without an option/],
    [["limits", "set", "--group", "vip"], /--group "vip" says which group/],
    [["limits", "frob"], /unknown command 'frob'/],
  ])("bad option value %j is exit 2", async (args, message) => {
    expectOneLineError(await runBin(args, {}), 2, message);
  });

  it.each([
    ["run"],
    ["jobs", "run"],
    ["stats"],
    ["dlq"],
    ["dlq", "list"],
    ["dlq", "requeue"],
    ["dlq", "purge"],
    ["enqueue"],
    ["jobs"],
    ["jobs", "list"],
    ["jobs", "show"],
    ["jobs", "cancel"],
    ["jobs", "retry"],
    ["jobs", "count"],
    ["jobs", "promote"],
    ["limits"],
    ["limits", "show"],
    ["limits", "set"],
    ["pause"],
    ["resume"],
    ["events"],
  ])("svc-jobs %s --help prints its usage and exits 0", async (...args) => {
    const out = await runBin([...args, "--help"], {});
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`Usage: svc-jobs ${args.join(" ")}`);
  });

  it("--help lists the commands that see and control jobs", async () => {
    const top = await runBin(["--help"], {});
    for (const command of ["jobs", "pause", "resume", "events", "limits"]) {
      expect(top.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, "m"));
    }
    const jobs = await runBin(["jobs", "--help"], {});
    for (const command of ["run", "list", "show", "cancel", "retry", "promote", "count"]) {
      expect(jobs.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, "m"));
    }
    const limits = await runBin(["limits", "--help"], {});
    for (const command of ["show", "set"]) {
      expect(limits.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, "m"));
    }
    const set = await runBin(["limits", "set", "--help"], {});
    for (const option of [
      "--rate",
      "--group-concurrency",
      "--group-rate",
      "--group",
      "--clear",
      "--json",
    ]) {
      expect(set.stdout).toMatch(new RegExp(`^\\s+${option} `, "m"));
    }
  });

  it("run without a handlers module refuses to start and says how to give one", async () => {
    const out = await runBin(["run"], { JOBS_DRIVER: "memory" });
    expectOneLineError(out, 2, /refuses to start.*--handlers .*JOBS_HANDLERS/);
  });

  it("run with a module that does not exist names it (exit 2)", async () => {
    const out = await runBin(["jobs", "run", "--handlers", "./missing/jobs.js"], {});
    expectOneLineError(out, 2, /handlers module "\.\/missing\/jobs\.js" not found/);
    const pkg = await runBin(["run"], { JOBS_HANDLERS: "no-such-package-xyz" });
    expectOneLineError(pkg, 2, /handlers module "no-such-package-xyz" not found/);
  });

  it("run with a module that throws on import names it and the cause (exit 1)", async () => {
    const out = await runBin(["run", "--handlers", "./test/fixtures/throws-on-load.mjs"], {});
    expectOneLineError(
      out,
      1,
      /handlers module ".*throws-on-load\.mjs" failed to load: database password missing at import time/,
    );
  });

  it("run with a module that exports no handler says what to export (exit 2)", async () => {
    const out = await runBin(["run", "--handlers", "./test/fixtures/no-handler.mjs"], {});
    expectOneLineError(out, 2, /exports no handler \(it exports answer\): export a JobRegistry/);
  });

  it("a bad JOB_DEFAULT_TIMEOUT_SECONDS or JOBS_SCHEDULE_JSON stops run before it takes jobs", async () => {
    const handlers = ["run", "--handlers", "./test/fixtures/registry-handlers.mjs"];
    const timeout = await runBin(handlers, { JOB_DEFAULT_TIMEOUT_SECONDS: "soon" });
    expectOneLineError(timeout, 2, /JOB_DEFAULT_TIMEOUT_SECONDS must be a positive number/);
    const schedule = await runBin(handlers, { JOBS_SCHEDULE_JSON: "[{" });
    expectOneLineError(schedule, 2, /JOBS_SCHEDULE_JSON is not valid JSON/);
    const entry = await runBin(handlers, {
      JOBS_SCHEDULE_JSON: '[{"name":"x","interval_seconds":5}]',
    });
    expectOneLineError(entry, 2, /JOBS_SCHEDULE_JSON\[0\]/);
  });
});

describe("configuration errors", () => {
  it("an unknown JOBS_DRIVER is exit 2 naming the choices", async () => {
    const out = await runBin(["stats"], { JOBS_DRIVER: "mysql" });
    expectOneLineError(
      out,
      2,
      /JOBS_DRIVER is "mysql": set it to "memory".*"redis".*"sqlite".*or "postgres"/,
    );
  });

  it("a REDIS_URL that is not redis://, rediss:// or unix:// is exit 2", async () => {
    const out = await runBin(["stats"], {
      JOBS_DRIVER: "redis",
      REDIS_URL: "http://localhost:6379",
    });
    expectOneLineError(out, 2, /REDIS_URL "http:\/\/localhost:6379\/?" uses the scheme "http"/);
    const junk = await runBin(["stats"], { JOBS_DRIVER: "redis", REDIS_URL: "not a url" });
    expectOneLineError(junk, 2, /REDIS_URL "not a url" is not a URL/);
  });

  it("the admin commands refuse the memory driver, pointing at JOBS_DRIVER=redis", async () => {
    for (const args of [
      ["stats"],
      ["dlq", "list"],
      ["enqueue", "x", "{}"],
      ["jobs", "list", "--state", "ready"],
      ["jobs", "show", "1"],
      ["jobs", "cancel", "1"],
      ["jobs", "retry", "1"],
      ["jobs", "count", "--state", "dead"],
      ["jobs", "promote", "1"],
      ["limits", "show"],
      ["limits", "set", "--rate", "10/1"],
      ["pause"],
      ["resume"],
      ["events", "--follow"],
    ]) {
      const out = await runBin(args, {});
      expectOneLineError(out, 2, /driver is memory.*set JOBS_DRIVER=redis/);
    }
  });

  it("unreachable Redis is a one-line error and exit 1 (JOBS_DRIVER is case-insensitive)", async () => {
    const port = await freePort();
    const env = { JOBS_DRIVER: "Redis", REDIS_URL: `redis://:hunter2@127.0.0.1:${port}/0` };
    for (const args of [
      ["stats"],
      ["dlq", "list"],
      ["dlq", "purge", "--yes"],
      ["enqueue", "x", "{}"],
      ["jobs", "show", "1"],
      ["pause"],
      ["events", "--follow"],
    ]) {
      const out = await runBin(args, env, { timeoutMs: 15_000 });
      expectOneLineError(
        out,
        1,
        new RegExp(`cannot reach Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}/0`),
      );
      expect(out.stderr).not.toContain("hunter2");
    }
  });

  it("the worker keeps retrying an unreachable Redis and still stops cleanly on SIGTERM", async () => {
    const port = await freePort();
    const bin = startBin(["run", "--handlers", "./test/fixtures/registry-handlers.mjs"], {
      JOBS_DRIVER: "redis",
      REDIS_URL: `redis://127.0.0.1:${port}/0`,
    });
    await bin.waitFor(
      (b) => b.stdout.includes("redis unreachable; retrying"),
      "the outage log line",
    );
    expect(bin.child.exitCode).toBeNull();
    expect(await bin.stop("SIGTERM")).toBe(0);
  });
});
