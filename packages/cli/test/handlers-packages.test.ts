// Handlers modules and schedule targets are loaded by one loader: ./paths from the
// working directory, packages found from it through their exports maps, module:export.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runBin } from "./helpers.js";

const app = mkdtempSync(path.join(tmpdir(), "svc-jobs-cli-handlers-"));
afterAll(() => rmSync(app, { recursive: true, force: true }));

function write(file: string, text: string): void {
  mkdirSync(path.dirname(path.join(app, file)), { recursive: true });
  writeFileSync(path.join(app, file), text);
}

write("package.json", '{ "name": "app", "type": "module" }');
// An ESM-only package (no "require" condition) with a subpath; its "." is not the jobs.
write(
  "node_modules/@acme/jobs/package.json",
  JSON.stringify({
    name: "@acme/jobs",
    type: "module",
    exports: {
      ".": { import: "./index.js" },
      "./email": { node: { import: "./email.js" } },
      "./tasks/*": "./tasks/*.js",
    },
  }),
);
write(
  "node_modules/@acme/jobs/index.js",
  `export const handlers = { greet: async () => { console.log('{"ran":"index-greet"}'); } };\n`,
);
write(
  "node_modules/@acme/jobs/email.js",
  `export const handler = async () => { console.log('{"ran":"email-handler"}'); };
export const sendEmail = async () => { console.log('{"ran":"email-sendEmail"}'); };
export const notAHandler = 42;\n`,
);
write(
  "node_modules/@acme/jobs/tasks/nightly.js",
  `export async function run() { console.log('{"ran":"nightly"}'); }\n`,
);

/** Runs one scheduled job through `svc-jobs run` on the memory driver, from the app folder. */
function runOne(
  handlers: string,
  schedule: unknown[] = [{ name: "t", interval_seconds: 0.05, job_name: "greet" }],
) {
  return runBin(
    ["run", "--handlers", handlers, "--max-jobs", "1"],
    {
      JOBS_SCHEDULE_JSON: JSON.stringify(schedule),
    },
    { cwd: app },
  );
}

const startedLine = (stdout: string) =>
  stdout
    .split("\n")
    .filter((l) => l.startsWith('{"level"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.msg === "worker started");

const ran = (stdout: string) =>
  stdout
    .split("\n")
    .filter((l) => l.startsWith('{"ran"'))
    .map((l) => (JSON.parse(l) as { ran: string }).ran);

describe("handlers from a package with an exports map", () => {
  it("imports the package's ESM entry found from the working directory", async () => {
    const out = await runOne("@acme/jobs");
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    expect(ran(out.stdout)).toContain("index-greet");
    expect(out.stdout).toContain('"msg":"job completed"');
  });

  it("a subpath of the exports map, and module:export to pick one export", async () => {
    const sub = await runOne("@acme/jobs/email");
    expect(sub.code).toBe(0);
    expect(ran(sub.stdout)).toContain("email-handler");
    const picked = await runOne("@acme/jobs/email:sendEmail");
    expect(picked.code).toBe(0);
    expect(ran(picked.stdout)).toContain("email-sendEmail");
    expect(startedLine(picked.stdout)).toMatchObject({ export: "sendEmail" });
  });

  it("a subpath the package does not export, or an export it lacks, is a one-line usage error", async () => {
    const hidden = await runOne("@acme/jobs/secret");
    expect(hidden.code).toBe(2);
    expect(hidden.stderr).toMatch(
      /^svc-jobs: error: handlers module "@acme\/jobs\/secret" not found: package @acme\/jobs .* does not export "\.\/secret"/,
    );
    const missing = await runOne("@acme/jobs/email:nope");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /handlers module "@acme\/jobs\/email" has no export named "nope"/,
    );
    const wrong = await runOne("@acme/jobs/email:notAHandler");
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(
      /export "notAHandler" of handlers module "@acme\/jobs\/email" is not a handler/,
    );
  });

  it("JOBS_SCHEDULE_JSON targets in the same package resolve the same way", async () => {
    const out = await runOne("@acme/jobs", [
      { name: "nightly", interval_seconds: 0.02, target: "@acme/jobs/tasks/nightly:run" },
      { name: "t", interval_seconds: 0.3, job_name: "greet" },
    ]);
    expect(out.code).toBe(0);
    expect(ran(out.stdout)).toContain("nightly");
    const bad = await runOne("@acme/jobs", [
      { name: "nightly", interval_seconds: 1, target: "@acme/jobs/hidden:run" },
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /JOBS_SCHEDULE_JSON\[0\]\.target "@acme\/jobs\/hidden:run": cannot import/,
    );
  });
});

describe("the driver table", () => {
  it("the worker started line describes the memory driver's queue, and warns it is not shared", async () => {
    const out = await runOne("@acme/jobs");
    const started = startedLine(out.stdout);
    expect(started).toMatchObject({ driver: "memory", prefix: "memory" });
    expect(started).not.toHaveProperty("redisUrl");
    expect(out.stdout).toContain("memory driver: the queue lives inside this process");
  });

  it("an unknown driver names every driver of the table with what it is for", async () => {
    const out = await runBin(
      ["run", "--handlers", "@acme/jobs"],
      { JOBS_DRIVER: "mongodb" },
      { cwd: app },
    );
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(
      /JOBS_DRIVER is "mongodb": set it to "memory" \(one process, for development\), "redis" \(shared, for production\), "sqlite" \(one file, durable, for one host\) or "postgres" \(shared on PostgreSQL, for production\)/,
    );
  });
});
