// What the built package loads: the main entry (easyJobs) must not load the command's
// own dependencies (commander, pino, prom-client) nor ioredis, and must work where they
// are not installed at all. Runs node on dist/ in child processes, with a resolve hook
// that records every ESM resolution and a look at the CommonJS module cache.
import { spawn, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const CLI_DIR = fileURLToPath(new URL("..", import.meta.url));
const PACKAGES_DIR = path.dirname(CLI_DIR);
const FIXTURES = fileURLToPath(new URL("./fixtures/entry/", import.meta.url));
const HOOK = pathToFileURL(path.join(FIXTURES, "record-resolutions.mjs")).href;
const COMMAND_DEPENDENCIES = ["commander", "pino", "prom-client"];
const NOT_LOADED = [
  ...COMMAND_DEPENDENCIES,
  "ioredis",
  "@svc-jobs/sql",
  "kysely",
  "better-sqlite3",
  "pg",
];

const work = mkdtempSync(path.join(tmpdir(), "svc-jobs-cli-entry-"));
let runs = 0;

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

interface Probe {
  exports: string[];
  commonjs: string[];
  resolutions: { specifier: string; url: string }[];
  easyJobs?: { driver: string; jobId: string; stats: Record<string, number> };
  error?: { name: string; code: string; message: string };
}

/** Runs fixtures/entry/probe.mjs (copied into `cwd` when given) on `entry`. */
function probe(
  entry: string,
  driver?: "memory" | "redis" | "sqlite" | "postgres",
  cwd?: string,
): Probe {
  const script = cwd ? path.join(cwd, "probe.mjs") : path.join(FIXTURES, "probe.mjs");
  if (cwd) cpSync(path.join(FIXTURES, "probe.mjs"), script);
  const log = path.join(work, `resolutions-${++runs}.jsonl`);
  const result = spawnSync(
    process.execPath,
    ["--import", HOOK, script, entry, ...(driver ? [driver] : [])],
    {
      cwd: cwd ?? CLI_DIR,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, RESOLUTION_LOG: log },
      encoding: "utf8",
      timeout: 20_000,
    },
  );
  expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
  const lastLine = result.stdout.trim().split("\n").pop() ?? "{}";
  const resolutions = existsSync(log)
    ? readFileSync(log, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as { specifier: string; url: string })
    : [];
  return { ...(JSON.parse(lastLine) as Omit<Probe, "resolutions">), resolutions };
}

/** The installed packages (`node_modules/<name>/`) among files, resolved URLs and specifiers. */
function packagesLoaded(run: Probe): string[] {
  const names = new Set<string>();
  const places = [...run.commonjs, ...run.resolutions.map((r) => r.url)];
  for (const place of places) {
    const matches = [...place.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)];
    const innermost = matches.at(-1)?.[1];
    if (innermost) names.add(innermost);
  }
  for (const { specifier } of run.resolutions) {
    const bare = /^((?:@[^/]+\/)?[^./][^/]*)/.exec(specifier)?.[1];
    if (bare && !bare.startsWith("node:") && !specifier.startsWith("file:")) names.add(bare);
  }
  return [...names].sort();
}

describe("the built main entry", () => {
  it("imports without loading commander, pino, prom-client or ioredis", () => {
    const run = probe(path.join(CLI_DIR, "dist/index.js"));
    expect(run.exports).toEqual(
      expect.arrayContaining(["easyJobs", "runCli", "runWorker", "createLogger", "loadHandler"]),
    );
    // The detector does see what the entry loads: the workspace packages it builds on.
    expect(run.resolutions.map((r) => r.specifier)).toEqual(
      expect.arrayContaining(["@svc-jobs/core", "@svc-jobs/redis", "@svc-jobs/scheduler"]),
    );
    const loaded = packagesLoaded(run);
    for (const name of NOT_LOADED) expect(loaded).not.toContain(name);
  });

  it("runs easyJobs() with the memory driver without loading them either", () => {
    const run = probe(path.join(CLI_DIR, "dist/index.js"), "memory");
    expect(run.error).toBeUndefined();
    expect(run.easyJobs).toMatchObject({ driver: "memory", jobId: "1", stats: { ready: 1 } });
    const loaded = packagesLoaded(run);
    for (const name of NOT_LOADED) expect(loaded).not.toContain(name);
  });

  it("@svc-jobs/cli/command does load commander and prom-client (the detector works)", () => {
    const main = probe(path.join(CLI_DIR, "dist/index.js"));
    const command = probe(path.join(CLI_DIR, "dist/command.js"));
    // pino is loaded by createLogger() when called, whichever entry it comes from.
    expect(packagesLoaded(command)).toEqual(expect.arrayContaining(["commander", "prom-client"]));
    // Everything of the main entry, plus workerMetrics.
    expect(command.exports).toEqual([...main.exports, "workerMetrics"].sort());
  });
});

/**
 * An application folder where @svc-jobs/cli is installed (a copy of package.json and
 * dist/) next to the workspace's @svc-jobs packages, plus `extra` installed packages
 * (links into the workspace's store), and nothing else.
 */
function appFolder(name: string, extra: string[]): string {
  const app = path.join(work, name);
  const scope = path.join(app, "node_modules/@svc-jobs");
  mkdirSync(path.join(scope, "cli"), { recursive: true });
  cpSync(path.join(CLI_DIR, "package.json"), path.join(scope, "cli/package.json"));
  cpSync(path.join(CLI_DIR, "dist"), path.join(scope, "cli/dist"), { recursive: true });
  for (const pkg of ["core", "redis", "registry", "scheduler"]) {
    symlinkSync(path.join(PACKAGES_DIR, pkg), path.join(scope, pkg), "dir");
  }
  for (const pkg of extra) {
    const target = realpathSync(path.join(CLI_DIR, "node_modules", pkg));
    symlinkSync(target, path.join(app, "node_modules", pkg), "dir");
  }
  writeFileSync(path.join(app, "package.json"), '{ "name": "app", "type": "module" }\n');
  return app;
}

describe("installed without the optional and command dependencies", () => {
  it("easyJobs' memory driver works; the redis driver says to install ioredis", () => {
    const app = appFolder("bare", []);
    const memory = probe("@svc-jobs/cli", "memory", app);
    expect(memory.error).toBeUndefined();
    expect(memory.easyJobs).toMatchObject({ driver: "memory", stats: { ready: 1 } });
    const redis = probe("@svc-jobs/cli", "redis", app);
    expect(redis.error).toMatchObject({ name: "ConfigError", code: "ERR_IOREDIS_MISSING" });
    expect(redis.error?.message).toContain("install ioredis to use JOBS_DRIVER=redis");
    const sqlite = probe("@svc-jobs/cli", "sqlite", app);
    expect(sqlite.error).toMatchObject({ name: "ConfigError", code: "ERR_SQL_DRIVER_MISSING" });
    expect(sqlite.error?.message).toContain(
      'install better-sqlite3 and kysely to use JOBS_DRIVER=sqlite ("npm install better-sqlite3 kysely"',
    );
    expect(existsSync(path.join(app, "data"))).toBe(false);
    const postgres = probe("@svc-jobs/cli", "postgres", app);
    expect(postgres.error).toMatchObject({ name: "ConfigError", code: "ERR_DATABASE_URL" });
  });

  it("the svc-jobs command without ioredis runs the memory driver and says to install it for redis", async () => {
    const app = appFolder("no-ioredis", COMMAND_DEPENDENCIES);
    const bin = path.join(app, "node_modules/@svc-jobs/cli/dist/bin.js");
    const env = { PATH: process.env.PATH, HOME: process.env.HOME };
    const stats = spawnSync(process.execPath, [bin, "stats", "--driver", "redis"], {
      cwd: app,
      env,
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(stats.stderr).toMatch(/^svc-jobs: error: .*install ioredis to use JOBS_DRIVER=redis/);
    expect(stats.status).toBe(2);

    writeFileSync(path.join(app, "jobs.mjs"), "export async function handler() {}\n");
    const worker = spawn(process.execPath, [bin, "run", "--handlers", "./jobs.mjs"], {
      cwd: app,
      env: { ...env, JOBS_DRIVER: "memory" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    worker.stdout.on("data", (d) => {
      output += d;
    });
    worker.stderr.on("data", (d) => {
      output += d;
    });
    const exited = new Promise<number | null>((resolve) => worker.on("close", resolve));
    const started = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 15_000);
      const check = () => {
        if (output.includes('"msg":"worker started"')) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      worker.stdout.on("data", check);
      worker.on("close", () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (worker.exitCode === null) worker.kill("SIGTERM");
    expect(started, output).toBe(true);
    expect(await exited, output).toBe(0);
  });
});
