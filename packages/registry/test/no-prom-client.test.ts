import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, realpath, rm, symlink } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// prom-client is installed in this workspace, so the only honest way to test its
// absence is another process whose module resolution cannot reach it: a temp dir
// holding the fixture and a node_modules with freshly built core and registry only.
const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const registryRoot = join(here, "..");
const coreRoot = dirname(createRequire(import.meta.url).resolve("@svc-jobs/core/package.json"));
const tsc = join(
  dirname(createRequire(import.meta.url).resolve("typescript/package.json")),
  "bin",
  "tsc",
);

let dir: string;

async function buildInto(packageRoot: string, target: string): Promise<void> {
  await mkdir(target, { recursive: true });
  await cp(join(packageRoot, "package.json"), join(target, "package.json"));
  await run(process.execPath, [
    tsc,
    "-p",
    join(packageRoot, "tsconfig.build.json"),
    "--outDir",
    join(target, "dist"),
    "--declaration",
    "false",
    "--declarationMap",
    "false",
    "--sourceMap",
    "false",
    "--inlineSources",
    "false",
  ]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "svc-jobs-no-prom-client-"));
  await cp(join(here, "fixtures", "no-prom-client"), dir, { recursive: true });
  await Promise.all([
    buildInto(coreRoot, join(dir, "node_modules", "@svc-jobs", "core")),
    buildInto(registryRoot, join(dir, "node_modules", "@svc-jobs", "registry")),
  ]);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function runFixture() {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_PATH;
  delete env.NODE_OPTIONS;
  delete env.JOB_DEFAULT_TIMEOUT_SECONDS;
  const { stdout } = await run(process.execPath, ["main.mjs"], { cwd: dir, env });
  return JSON.parse(stdout);
}

describe("without prom-client installed", () => {
  it("cannot load prom-client, reports metrics disabled, and still dispatches", async () => {
    const report = await runFixture();

    expect(report.requireFromRegistry).toBe("MODULE_NOT_FOUND");
    expect(report.importPromClient).toBe("ERR_MODULE_NOT_FOUND");
    expect(report.metricsEnabled).toBe(false);
    expect(report.untrackType).toBe("function");

    expect(report.ok).toEqual({ value: { success: true, message: "did 3" } });
    expect(report.declined).toEqual({ value: { success: false, message: "card declined" } });
    expect(report.slow.error).toMatchObject({ name: "JobTimeoutError", code: "ERR_JOB_TIMEOUT" });
    expect(report.unknown.error).toMatchObject({
      name: "UnknownJobError",
      code: "ERR_UNKNOWN_JOB",
    });

    expect(report.processed).toEqual([true, true]);
    expect(report.stats).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 1 });
    expect(report.dlqErrors).toEqual(["card declined"]);
  });
});

describe("the same fixture with prom-client linked in (control)", () => {
  it("finds prom-client and enables metrics, so the test above really hinges on its absence", async () => {
    const promClient = await realpath(
      dirname(createRequire(import.meta.url).resolve("prom-client/package.json")),
    );
    await symlink(promClient, join(dir, "node_modules", "prom-client"), "dir");
    const report = await runFixture();
    expect(report.requireFromRegistry).toBe("resolved");
    expect(report.importPromClient).toBe("loaded");
    expect(report.metricsEnabled).toBe(true);
    expect(report.ok).toEqual({ value: { success: true, message: "did 3" } });
  });
});
