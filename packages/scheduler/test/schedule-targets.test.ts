// JOBS_SCHEDULE_JSON targets are imported with core's module loader, the one
// `svc-jobs run --handlers` uses: packages are found from the working directory the way
// an import() in a file there finds them, exports maps honoured.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ManualClock } from "@svc-jobs/core";
import { InMemoryScheduler, ScheduleConfigError, scheduleFromEnv } from "@svc-jobs/scheduler";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { recordingLogger } from "./helpers.js";

const calls = (): string[] =>
  ((globalThis as { __scheduleTargetCalls?: string[] }).__scheduleTargetCalls ??= []);

// An app whose node_modules holds a package with a conditional exports map: its CommonJS
// entry under "require", its ESM entry under "import" (what an import() gets), subpaths,
// a pattern, and an excluded folder. The scheduler cannot see it from its own location.
const app = mkdtempSync(path.join(tmpdir(), "svc-jobs-sched-exports-"));
afterAll(() => rmSync(app, { recursive: true, force: true }));

function write(file: string, text: string): void {
  mkdirSync(path.dirname(path.join(app, file)), { recursive: true });
  writeFileSync(path.join(app, file), text);
}

const record = (what: string) =>
  `(globalThis.__scheduleTargetCalls ??= []).push(${JSON.stringify(what)})`;
write("package.json", '{ "name": "app", "type": "module" }');
write("src/nested/.keep", "");
write(
  "node_modules/@acme/ops/package.json",
  JSON.stringify({
    name: "@acme/ops",
    exports: {
      ".": { require: "./cjs/index.cjs", import: "./esm/index.mjs" },
      "./health": { node: { import: "./esm/health.mjs" }, default: "./browser/health.mjs" },
      "./tasks/*": "./esm/tasks/*.mjs",
      "./tasks/internal/*": null,
    },
  }),
);
write("node_modules/@acme/ops/cjs/index.cjs", `exports.ping = () => { ${record("cjs ping")}; };\n`);
write(
  "node_modules/@acme/ops/esm/index.mjs",
  `export function ping() { ${record("esm ping")}; }\n`,
);
write(
  "node_modules/@acme/ops/esm/health.mjs",
  `export function check() { ${record("health")}; }\n`,
);
write(
  "node_modules/@acme/ops/browser/health.mjs",
  `export function check() { ${record("browser health")}; }\n`,
);
write(
  "node_modules/@acme/ops/esm/tasks/nightly.mjs",
  `export function run() { ${record("nightly")}; }\n`,
);
write("node_modules/@acme/ops/esm/tasks/internal/secret.mjs", "export function run() {}\n");
write(
  "node_modules/esm-only/package.json",
  JSON.stringify({ name: "esm-only", type: "module", exports: { import: "./main.js" } }),
);
write(
  "node_modules/esm-only/main.js",
  `export function sweep() { ${record("esm-only sweep")}; }\n`,
);

function setup() {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const scheduler = new InMemoryScheduler({ clock, logger: recordingLogger() });
  return { clock, scheduler };
}

const env = (entries: unknown) => ({ JOBS_SCHEDULE_JSON: JSON.stringify(entries) });

beforeEach(() => {
  calls().length = 0;
});

describe("JOBS_SCHEDULE_JSON targets in a package with an exports map", () => {
  it("import the package's ESM entry and its subpaths and patterns, found from cwd", async () => {
    const { clock, scheduler } = setup();
    const names = await scheduleFromEnv(scheduler, {
      cwd: path.join(app, "src/nested"),
      env: env([
        { name: "ping", interval_seconds: 10, target: "@acme/ops:ping" },
        { name: "health", interval_seconds: 10, target: "@acme/ops/health#check" },
        { name: "nightly", interval_seconds: 10, target: "@acme/ops/tasks/nightly:run" },
        { name: "sweep", interval_seconds: 10, target: "esm-only:sweep" },
      ]),
    });
    expect(names).toEqual(["ping", "health", "nightly", "sweep"]);
    clock.advance(10);
    await scheduler.tick();
    expect(calls().sort()).toEqual(["esm ping", "esm-only sweep", "health", "nightly"]);
  });

  it.each([
    ["a subpath the map does not list", "@acme/ops/private:run", /does not export "\.\/private"/],
    [
      "a subpath the map excludes with null",
      "@acme/ops/tasks/internal/secret:run",
      /does not export "\.\/tasks\/internal\/secret"/,
    ],
    ["an export the entry lacks", "@acme/ops:pong", /no export named "pong" \(it exports: ping\)/],
  ])("%s is a ScheduleConfigError naming the entry", async (_title, target, reason) => {
    const { scheduler } = setup();
    const error = await scheduleFromEnv(scheduler, {
      cwd: app,
      env: env([{ name: "x", interval_seconds: 10, target }]),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScheduleConfigError);
    expect(error).toMatchObject({ index: 0, field: "target" });
    expect((error as Error).message).toContain(
      `JOBS_SCHEDULE_JSON[0].target ${JSON.stringify(target)}`,
    );
    expect((error as Error).message).toMatch(reason);
    expect(scheduler.taskNames).toEqual([]);
  });

  it("a target naming a module but no export (node:os) asks for module:export", async () => {
    const { scheduler } = setup();
    const error = await scheduleFromEnv(scheduler, {
      env: env([{ name: "x", interval_seconds: 10, target: "node:os" }]),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScheduleConfigError);
    expect((error as Error).message).toMatch(/must look like "module:export"/);
  });
});
