import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, realpath, rm, symlink } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";

// @opentelemetry/api is installed in this workspace, so its absence is tested in another
// process whose node_modules holds only freshly built core and webhooks, and undici
// (docs/tracing.md).
const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const webhooksRoot = join(here, "..");
const require = createRequire(import.meta.url);
const coreRoot = dirname(require.resolve("@svc-jobs/core/package.json"));
const tsc = join(dirname(require.resolve("typescript/package.json")), "bin", "tsc");

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
  dir = await mkdtemp(join(tmpdir(), "svc-jobs-webhooks-no-otel-api-"));
  await cp(join(here, "fixtures", "no-otel-api"), dir, { recursive: true });
  await Promise.all([
    buildInto(coreRoot, join(dir, "node_modules", "@svc-jobs", "core")),
    buildInto(webhooksRoot, join(dir, "node_modules", "@svc-jobs", "webhooks")),
  ]);
  const undici = await realpath(join(webhooksRoot, "node_modules", "undici"));
  await symlink(undici, join(dir, "node_modules", "undici"), "dir");
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("without @opentelemetry/api: no context in the outbox, no trace headers, no warnings, delivered after a retry", async () => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_PATH;
  delete env.NODE_OPTIONS;
  const { stdout } = await run(process.execPath, ["main.mjs"], { cwd: dir, env });
  const report = JSON.parse(stdout);
  expect(report.requireFromWebhooks).toBe("MODULE_NOT_FOUND");
  expect(report.warnings).toEqual([]);
  expect(report.messageTraceContext).toBeNull();
  expect(report.moved).toBe(1);
  expect(report.received).toEqual([
    { traceparent: null, tracestate: null, attempt: "1" },
    { traceparent: null, tracestate: null, attempt: "2" },
  ]);
  expect(report.outcomes).toEqual(["failed", "completed"]);
  expect(report.status).toBe("processed");
}, 60_000);
