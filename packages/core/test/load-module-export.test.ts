import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import {
  ConfigError,
  importModule,
  loadModuleExport,
  ModuleLoadError,
  parseModuleExport,
  resolveModuleUrl,
} from "@svc-jobs/core";
import { afterAll, describe, expect, it } from "vitest";

// An app folder: its own modules, packages in node_modules (one with a conditional
// exports map, an import-only one, a scoped one, a legacy CommonJS one), and a
// subfolder to resolve from.
const app = mkdtempSync(path.join(tmpdir(), "svc-jobs-loader-"));
afterAll(() => rmSync(app, { recursive: true, force: true }));

function write(file: string, text: string): void {
  mkdirSync(path.dirname(path.join(app, file)), { recursive: true });
  writeFileSync(path.join(app, file), text);
}

write("package.json", '{ "name": "app", "type": "module" }');
write("jobs.mjs", 'export const where = "app"; export function run() { return "ran"; }\n');
write("throws.mjs", 'throw new Error("DATABASE_URL missing at import time");\n');
write("deep/sub/dir/.keep", "");
write(
  "node_modules/dual/package.json",
  JSON.stringify({
    name: "dual",
    exports: {
      ".": { require: "./cjs.cjs", import: "./esm.mjs" },
      "./ops": {
        browser: "./browser.mjs",
        node: { import: "./ops.mjs" },
        default: "./browser.mjs",
      },
      "./tasks/*": "./tasks/*.mjs",
      "./tasks/internal/*": null,
      "./fallback": ["./missing-but-first.mjs", "./esm.mjs"],
      "./package.json": "./package.json",
    },
  }),
);
write("node_modules/dual/cjs.cjs", 'exports.flavour = "cjs";\n');
write("node_modules/dual/esm.mjs", 'export const flavour = "esm";\n');
write("node_modules/dual/ops.mjs", 'export const flavour = "node-import";\n');
write("node_modules/dual/browser.mjs", 'export const flavour = "browser";\n');
write("node_modules/dual/tasks/nightly.mjs", "export function run() { return 'nightly'; }\n");
write("node_modules/dual/tasks/internal/secret.mjs", "export const secret = 1;\n");
write(
  "node_modules/import-only/package.json",
  JSON.stringify({ name: "import-only", type: "module", exports: { import: "./index.js" } }),
);
write("node_modules/import-only/index.js", 'export const flavour = "import-only";\n');
write(
  "node_modules/@acme/tasks/package.json",
  JSON.stringify({ name: "@acme/tasks", type: "module", exports: "./main.js" }),
);
write("node_modules/@acme/tasks/main.js", "export function ping() { return 'pong'; }\n");
write("node_modules/legacy/package.json", JSON.stringify({ name: "legacy", main: "lib/entry" }));
write("node_modules/legacy/lib/entry.js", 'module.exports = { flavour: "legacy" };\n');
write("node_modules/legacy/lib/extra.js", 'module.exports = { flavour: "legacy-extra" };\n');

const fileUrl = (file: string) => pathToFileURL(path.join(app, file)).href;

describe("parseModuleExport", () => {
  it.each([
    ["./dist/tasks.js:cleanup", "./dist/tasks.js", "cleanup"],
    ["./dist/tasks.js#cleanup", "./dist/tasks.js", "cleanup"],
    ["@acme/tasks:ping", "@acme/tasks", "ping"],
    ["@acme/tasks/sub:ping", "@acme/tasks/sub", "ping"],
    ["node:os:freemem", "node:os", "freemem"],
    ["C:\\app\\tasks.js:run", "C:\\app\\tasks.js", "run"],
    [" ./tasks.js : run ", "./tasks.js", "run"],
    ["./dist/jobs.js", "./dist/jobs.js", undefined],
    ["@acme/jobs", "@acme/jobs", undefined],
    ["node:os", "node:os", undefined],
    ["file:///srv/app/jobs.js", "file:///srv/app/jobs.js", undefined],
    ["C:\\app\\jobs.js", "C:\\app\\jobs.js", undefined],
  ])("%j is module %j, export %j", (target, module, exportName) => {
    expect(parseModuleExport(target)).toEqual({ module, exportName });
  });
});

describe("resolveModuleUrl", () => {
  it("resolves ./ and ../ paths against cwd, and absolute paths and file: URLs as they are", () => {
    expect(resolveModuleUrl("./jobs.mjs", { cwd: app })).toBe(fileUrl("jobs.mjs"));
    expect(resolveModuleUrl("../../../jobs.mjs", { cwd: path.join(app, "deep/sub/dir") })).toBe(
      fileUrl("jobs.mjs"),
    );
    expect(resolveModuleUrl(path.join(app, "jobs.mjs"))).toBe(fileUrl("jobs.mjs"));
    expect(resolveModuleUrl(fileUrl("jobs.mjs"))).toBe(fileUrl("jobs.mjs"));
    expect(resolveModuleUrl("node:os")).toBe("node:os");
    expect(resolveModuleUrl("os")).toBe("node:os");
  });

  it("finds packages from cwd up through the exports map with the import conditions", () => {
    const cwd = path.join(app, "deep/sub/dir");
    expect(resolveModuleUrl("dual", { cwd })).toBe(fileUrl("node_modules/dual/esm.mjs"));
    expect(resolveModuleUrl("dual/ops", { cwd })).toBe(fileUrl("node_modules/dual/ops.mjs"));
    expect(resolveModuleUrl("dual/tasks/nightly", { cwd })).toBe(
      fileUrl("node_modules/dual/tasks/nightly.mjs"),
    );
    expect(resolveModuleUrl("dual/fallback", { cwd })).toBe(
      fileUrl("node_modules/dual/missing-but-first.mjs"),
    );
    expect(resolveModuleUrl("import-only", { cwd })).toBe(
      fileUrl("node_modules/import-only/index.js"),
    );
    expect(resolveModuleUrl("@acme/tasks", { cwd })).toBe(
      fileUrl("node_modules/@acme/tasks/main.js"),
    );
  });

  it("uses Node's legacy lookup (main, extensions) for a package without exports", () => {
    expect(resolveModuleUrl("legacy", { cwd: app })).toBe(
      fileUrl("node_modules/legacy/lib/entry.js"),
    );
    expect(resolveModuleUrl("legacy/lib/extra", { cwd: app })).toBe(
      fileUrl("node_modules/legacy/lib/extra.js"),
    );
  });

  it.each([
    ["./missing.mjs", /module "\.\/missing\.mjs" not found \(looked for .*missing\.mjs\)/],
    ["no-such-package-xyz", /no package no-such-package-xyz is installed in /],
    ["dual/internal", /package dual .* does not export "\.\/internal" for import/],
    ["dual/tasks/internal/secret", /does not export "\.\/tasks\/internal\/secret"/],
    ["", /empty/],
  ])("%j is a ModuleLoadError ERR_MODULE_UNRESOLVED", (specifier, message) => {
    let error: unknown;
    try {
      resolveModuleUrl(specifier, { cwd: app });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModuleLoadError);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: "ERR_MODULE_UNRESOLVED", specifier });
    expect((error as Error).message).toMatch(message);
  });
});

describe("importModule and loadModuleExport", () => {
  it("import a package's ESM entry, not its require one", async () => {
    const { namespace, url } = await importModule("dual", { cwd: app });
    expect(namespace.flavour).toBe("esm");
    expect(url).toBe(fileUrl("node_modules/dual/esm.mjs"));
    expect((await importModule("legacy", { cwd: app })).namespace.default).toEqual({
      flavour: "legacy",
    });
  });

  it("load one export of a path or a package (with a subpath from its exports map)", async () => {
    const fromPath = await loadModuleExport("./jobs.mjs:run", { cwd: app });
    expect((fromPath.value as () => string)()).toBe("ran");
    expect(fromPath).toMatchObject({ exportName: "run", url: fileUrl("jobs.mjs") });
    const fromPackage = await loadModuleExport("dual/tasks/nightly#run", { cwd: app });
    expect((fromPackage.value as () => string)()).toBe("nightly");
    const scoped = await loadModuleExport("@acme/tasks:ping", { cwd: app });
    expect((scoped.value as () => string)()).toBe("pong");
    const builtin = await loadModuleExport("node:os:freemem");
    expect(typeof builtin.value).toBe("function");
  });

  it("a module that throws on import is ERR_MODULE_IMPORT with the cause", async () => {
    const error = await importModule("./throws.mjs", { cwd: app }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModuleLoadError);
    expect(error).toMatchObject({ code: "ERR_MODULE_IMPORT", specifier: "./throws.mjs" });
    expect((error as Error).message).toMatch(
      /module "\.\/throws\.mjs" failed to load: DATABASE_URL missing at import time/,
    );
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it("a missing export or a target without one is ERR_MODULE_EXPORT, listing the exports", async () => {
    const missing = await loadModuleExport("./jobs.mjs:nope", { cwd: app }).catch((e) => e);
    expect(missing).toMatchObject({ code: "ERR_MODULE_EXPORT" });
    expect(missing.message).toMatch(
      /has no export named "nope" \(it exports: (run, where|where, run)\)/,
    );
    const none = await loadModuleExport("./jobs.mjs", { cwd: app }).catch((e) => e);
    expect(none).toMatchObject({ code: "ERR_MODULE_EXPORT" });
    expect(none.message).toMatch(/must look like "module:export"/);
  });
});
