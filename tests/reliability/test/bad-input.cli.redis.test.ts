import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { easyJobs } from "@svc-jobs/cli";
import { ConfigError, type Job, type QueueStats } from "@svc-jobs/core";
import { expectedStats } from "@svc-jobs/core/testing";
import { RedisJobQueue } from "@svc-jobs/redis";
import { freePort, uniquePrefix } from "@svc-jobs/test-servers";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { type BinResult, runBin } from "./helpers/bin.js";
import { SVC_JOBS_BIN } from "./helpers/chaos.js";

// Bad configuration given to the real `svc-jobs` binary and to easyJobs(): a malformed or
// unreachable REDIS_URL, a handlers module that does not load, a malformed
// JOBS_SCHEDULE_JSON, a payload the CLI cannot enqueue. Each is one clear line on stderr
// and a non-zero exit, and the jobs already queued on a real Redis are untouched: still
// ready, attempts still 0, nothing reserved, nothing dead-lettered.

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
// Written at run time: a file that does not parse would trip the repository's linter.
const scratch = mkdtempSync(join(tmpdir(), "svc-jobs-bad-handlers-"));
const syntaxError = join(scratch, "syntax-error.mjs");
writeFileSync(syntaxError, "export function handler(job {\n");

const redis = redisFixture(Redis);
let prefix: string;
let queue: RedisJobQueue;
let seeded: Job[];

// Runs before the fixture's afterAll (registered first) closes the client.
afterAll(async () => {
  await queue?.close();
  rmSync(scratch, { recursive: true, force: true });
});
beforeEach(async () => {
  await queue?.close();
  prefix = uniquePrefix("bad-cli");
  queue = new RedisJobQueue(redis.client, { prefix });
  seeded = await queue.enqueueMany([
    { name: "work", payload: { n: 1 } },
    { name: "work", payload: { n: 2 } },
    { name: "work", payload: { n: 3 }, opts: { delaySeconds: 3600 } },
  ]);
});

async function snapshot(): Promise<{ stats: QueueStats; hashes: Record<string, string>[] }> {
  const hashes = await Promise.all(
    seeded.map((j) => redis.client.hgetall(`${prefix}:job:${j.id}`)),
  );
  return { stats: await queue.stats(), hashes };
}

function expectUnchanged(before: Awaited<ReturnType<typeof snapshot>>, after: typeof before) {
  expect(after.stats).toEqual(expectedStats({ ready: 2, delayed: 1 }));
  expect(after).toEqual(before);
  // Never reserved: no attempts (absent means 0, as svc-infra reads it; docs/redis-layout.md).
  for (const h of after.hashes) expect(h.attempts ?? "0").toBe("0");
}

function expectOneLineError(out: BinResult, code: number, message: RegExp): void {
  expect(out.code).toBe(code);
  expect(out.stderr).toMatch(/^svc-jobs: /);
  expect(out.stderr.trim().split("\n")).toHaveLength(1);
  expect(out.stderr).toMatch(message);
  expect(out.stderr).not.toMatch(/\n\s+at /);
}

const env = (extra: Record<string, string> = {}) => ({
  JOBS_DRIVER: "redis",
  REDIS_URL: redis.url,
  JOBS_PREFIX: prefix,
  ...extra,
});

describe("a malformed REDIS_URL", () => {
  const malformed: [string, RegExp][] = [
    ["not a url", /REDIS_URL "not a url" is not a URL/],
    ["http://127.0.0.1:6379/0", /scheme "http".*redis:\/\/, rediss:\/\/ .* or unix:\/\//],
    ["redis://127.0.0.1:6379/zero", /database "zero".*must be a number/],
    ["unix:///", /no socket path/],
  ];

  it.each(malformed)("%j: easyJobs throws a ConfigError before connecting", (url, message) => {
    expect(() => easyJobs({ env: { JOBS_DRIVER: "redis", REDIS_URL: url } })).toThrow(ConfigError);
    expect(() => easyJobs({ env: { JOBS_DRIVER: "redis", REDIS_URL: url } })).toThrow(message);
  });

  it.each(malformed)(
    "%j: svc-jobs run, enqueue and stats exit 2 and queue nothing",
    async (url, message) => {
      const before = await snapshot();
      const bad = env({ REDIS_URL: url });
      const run = await runBin(["run", "--handlers", fixture("record-handler.mjs")], bad);
      expectOneLineError(run, 2, message);
      expectOneLineError(await runBin(["enqueue", "work", '{"n":9}'], bad), 2, message);
      expectOneLineError(await runBin(["stats"], bad), 2, message);
      expectUnchanged(before, await snapshot());
    },
  );

  it("never prints the password of a URL it refuses", async () => {
    const out = await runBin(["stats"], env({ REDIS_URL: "http://user:hunter2@127.0.0.1:6379/0" }));
    expectOneLineError(out, 2, /user:\*\*\*@/);
    expect(out.stderr).not.toContain("hunter2");
  });
});

describe("an unreachable REDIS_URL", () => {
  it("svc-jobs enqueue and stats fail with one line within seconds, not a reconnect loop", async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}/0`;
    for (const args of [["enqueue", "work", '{"n":9}'], ["stats"]]) {
      const out = await runBin(args, env({ REDIS_URL: url }), { timeoutMs: 20_000 });
      expectOneLineError(
        out,
        1,
        new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${port}`),
      );
    }
  });

  it("svc-jobs run waits for Redis, says so once, and still stops cleanly on SIGTERM", async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [SVC_JOBS_BIN, "run", "--handlers", fixture("record-handler.mjs")],
      {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          ...env({ REDIS_URL: `redis://127.0.0.1:${port}/0` }),
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    const until = Date.now() + 15_000;
    while (!stdout.includes("redis unreachable") && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(stdout).toContain("redis unreachable");
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    expect(await exited).toBe(0);
    clearTimeout(timer);
    expect(stdout.split("redis unreachable").length - 1).toBe(1);
  });
});

describe("a handlers module that does not load", () => {
  const modules: [string, string, number, RegExp][] = [
    [
      "a missing file",
      "./no/such/jobs.mjs",
      2,
      /handlers module "\.\/no\/such\/jobs\.mjs" not found/,
    ],
    [
      "a module that throws on import",
      fixture("throws-on-load.mjs"),
      1,
      /failed to load: SECRET_KEY is not set/,
    ],
    ["a module with a syntax error", syntaxError, 1, /failed to load/],
    [
      "a module that exports no handler",
      fixture("no-export.mjs"),
      2,
      /exports no handler \(it exports answer\)/,
    ],
    ["an empty --handlers", "", 2, /refuses to start/],
  ];

  it.each(modules)(
    "%s: run refuses to start and takes no job",
    async (_what, spec, code, message) => {
      const before = await snapshot();
      const out = await runBin(["run", "--handlers", spec], env());
      expectOneLineError(out, code, message);
      expectUnchanged(before, await snapshot());
    },
  );

  it("no handlers module at all: run refuses to start instead of dropping jobs", async () => {
    const before = await snapshot();
    const out = await runBin(["run"], env());
    expectOneLineError(out, 2, /refuses to start.*--handlers/);
    expectUnchanged(before, await snapshot());
  });
});

describe("a malformed JOBS_SCHEDULE_JSON", () => {
  it.each([
    ["[{", /not valid JSON/],
    ['{"name":"x"}', /JSON array/],
    ['[{"name":"x","interval_seconds":-1,"job_name":"work"}]', /\[0\]\.interval_seconds/],
    [
      '[{"name":"x","interval_seconds":1,"target":"./nope.mjs:run"}]',
      /\[0\]\.target .*cannot import/,
    ],
  ])("%s: run exits 2 before it takes a job", async (json, message) => {
    const before = await snapshot();
    const out = await runBin(
      ["run", "--handlers", fixture("record-handler.mjs")],
      env({ JOBS_SCHEDULE_JSON: json }),
    );
    expectOneLineError(out, 2, message);
    expect(out.stderr).toContain("JOBS_SCHEDULE_JSON");
    expectUnchanged(before, await snapshot());
  });
});

describe("svc-jobs enqueue with a payload or options it cannot queue", () => {
  it.each([
    [["work", '{"n":'], /payload is not valid JSON/],
    [["work", "[1,2]"], /plain JSON object/],
    [["work", "42"], /plain JSON object/],
    [["", "{}"], /non-empty string/],
    [["work", "{}", "--delay", "-5"], /--delay must be a number of seconds >= 0/],
    [["work", "{}", "--delay", "NaN"], /--delay must be a number of seconds/],
    [["work", "{}", "--delay", "Infinity"], /--delay must be a number of seconds/],
    [["work", "{}", "--max-attempts", "0"], /--max-attempts must be a whole number >= 1/],
    [["work", "{}", "--max-attempts", "2.5"], /--max-attempts must be a whole number >= 1/],
  ])("%j exits 2 and enqueues nothing", async (args, message) => {
    const before = await snapshot();
    const seqBefore = await redis.client.get(`${prefix}:seq`);
    const out = await runBin(["enqueue", ...args], env());
    expectOneLineError(out, 2, message);
    expectUnchanged(before, await snapshot());
    expect(await redis.client.get(`${prefix}:seq`)).toBe(seqBefore);
  });

  it("the same command with a good payload does enqueue (the checks above can fail)", async () => {
    const out = await runBin(["enqueue", "work", '{"n":4}'], env());
    expect(out.code).toBe(0);
    expect(out.stdout.trim()).toBe("4");
    expect((await queue.stats()).ready).toBe(3);
  });
});
