import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, realpath, rm, symlink } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// @opentelemetry/api is installed in this workspace, so the only honest way to test its
// absence is another process whose module resolution cannot reach it: a temp dir holding
// the fixture and a node_modules with a freshly built core only (docs/tracing.md).
const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const coreRoot = join(here, "..");
const require = createRequire(import.meta.url);
const tsc = join(dirname(require.resolve("typescript/package.json")), "bin", "tsc");

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "svc-jobs-no-otel-api-"));
  await cp(join(here, "fixtures", "no-otel-api"), dir, { recursive: true });
  const target = join(dir, "node_modules", "@svc-jobs", "core");
  await mkdir(target, { recursive: true });
  await cp(join(coreRoot, "package.json"), join(target, "package.json"));
  await run(process.execPath, [
    tsc,
    "-p",
    join(coreRoot, "tsconfig.build.json"),
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
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function runFixture(sdk: boolean) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_PATH;
  delete env.NODE_OPTIONS;
  delete env.JOB_DEFAULT_TIMEOUT_SECONDS;
  if (sdk) env.SVC_JOBS_FIXTURE_SDK = "1";
  const { stdout } = await run(process.execPath, ["main.mjs"], { cwd: dir, env });
  return JSON.parse(stdout);
}

const EXPECTED_OUTCOMES = [
  "bad:1:failed",
  "flaky:1:failed",
  "flaky:2:completed",
  "given:1:completed",
  "ok:1:completed",
];

describe("without @opentelemetry/api installed", () => {
  it("cannot load the API, records no context, creates no spans, warns nothing, and runs every job", async () => {
    const report = await runFixture(false);
    expect(report.requireFromCore).toBe("MODULE_NOT_FOUND");
    expect(report.warnings).toEqual([]);
    expect(report.enqueuedTraceContext).toBeNull();
    // The same shape as with the API: the field is there, undefined.
    expect(report.jobKeys).toContain("traceContext");
    expect(report.givenSeenByHandler).toEqual({
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    });
    expect(report.outcomes).toEqual(EXPECTED_OUTCOMES);
    expect(report.processOne).toBe(true);
    expect(report.stats).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 1 });
  });
});

describe("the same fixture with @opentelemetry/api and an SDK linked in (control)", () => {
  it("traces, so the test above really hinges on the API's absence", async () => {
    for (const name of ["api", "sdk-trace-base", "context-async-hooks"]) {
      const pkg = await realpath(join(coreRoot, "node_modules", "@opentelemetry", name));
      await mkdir(join(dir, "node_modules", "@opentelemetry"), { recursive: true });
      await symlink(pkg, join(dir, "node_modules", "@opentelemetry", name), "dir");
    }
    const report = await runFixture(true);
    expect(report.requireFromCore).toBe("resolved");
    expect(report.warnings).toEqual([]);
    expect(report.enqueuedTraceContext.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(report.outcomes).toEqual(EXPECTED_OUTCOMES);
    expect(report.spans.filter((s: string) => s === "process memory")).toHaveLength(6);
    expect(report.spans.filter((s: string) => s === "enqueue memory")).toHaveLength(4);
  });
});
