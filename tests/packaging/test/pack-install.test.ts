// The packages as a user gets them: `pnpm pack`ed, installed with plain npm into an empty
// folder next to the current and the previous majors of their peers, type-checked under
// `strict` NodeNext (with every README snippet), run against a real redis-server, bundled
// with esbuild and run from another folder. publint and attw check every tarball.
import { execFileSync, spawnSync } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBuilt, useRedis } from "@svc-jobs/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extractSnippets } from "./helpers/snippets.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");
const fixtures = path.resolve(here, "../fixtures/app");
const PACKAGES = [
  "core",
  "redis",
  "registry",
  "scheduler",
  "webhooks",
  "sql",
  "cli",
  "dashboard",
] as const;

let work: string;
let tarballs: string[] = [];
let redisUrl: string;
let stopRedis: () => Promise<void>;

interface Result {
  code: number | null;
  out: string;
  ms: number;
}

/** Runs a command with a clean environment (no pnpm or npm_config_* variables leak in). */
function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Result {
  const started = Date.now();
  const result = spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      TMPDIR: process.env.TMPDIR ?? tmpdir(),
      ...env,
    },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 280_000,
  });
  return {
    code: result.status,
    out: `${result.stdout ?? ""}${result.stderr ?? ""}${result.error ? String(result.error) : ""}`,
    ms: Date.now() - started,
  };
}

/** pnpm as the test runner was started with it (a JS entry point or a native binary). */
function pnpm(args: string[], cwd: string): string {
  const execPath = process.env.npm_execpath;
  let cmd = "pnpm";
  let pre: string[] = [];
  if (execPath && /pnpm/.test(path.basename(execPath))) {
    if (/\.[cm]?js$/.test(execPath)) [cmd, pre] = [process.execPath, [execPath]];
    else cmd = execPath;
  }
  return execFileSync(cmd, [...pre, ...args], { cwd, encoding: "utf8", stdio: "pipe" });
}

/** Every `<name>/package.json` under a node_modules tree (nested copies included). */
function findPackageCopies(nodeModules: string, name: string): string[] {
  const found: string[] = [];
  const visit = (dir: string) => {
    if (!existsSync(dir)) return;
    const own = path.join(dir, name, "package.json");
    if (existsSync(own)) found.push(own);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
      const scoped = entry.name.startsWith("@")
        ? readdirSync(path.join(dir, entry.name)).map((n) => path.join(dir, entry.name, n))
        : [path.join(dir, entry.name)];
      for (const pkg of scoped) visit(path.join(pkg, "node_modules"));
    }
  };
  visit(nodeModules);
  return found;
}

function installApp(name: string, peers: string[]): { dir: string; install: Result } {
  const dir = path.join(work, name);
  mkdirSync(dir);
  writeFileSync(
    path.join(dir, "package.json"),
    `${JSON.stringify({ name: `app-${name}`, private: true, type: "module" }, null, 2)}\n`,
  );
  const install = run(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--no-update-notifier",
      ...tarballs,
      ...peers,
      "pg@8",
      "@types/pg@8",
      // The optional tracing peer and an SDK, for the docs/tracing.md snippets. api 1.9:
      // the SDK's 2.x line accepts api <1.10.
      "@opentelemetry/api@1.9",
      "@opentelemetry/sdk-trace-base@2",
      "@opentelemetry/context-async-hooks@2",
      "typescript@5.9.3",
      "@types/node@20.19.43",
      "esbuild@0.25",
    ],
    dir,
  );
  console.log(`npm install (${name}): ${(install.ms / 1000).toFixed(1)} s, exit ${install.code}`);
  return { dir, install };
}

/** `tsc -p` with the TypeScript installed in the app (the user's compiler, not ours). */
function typecheck(project: string): Result {
  const tsc = path.join(project, "node_modules/typescript/bin/tsc");
  const fallback = path.join(path.dirname(project), "node_modules/typescript/bin/tsc");
  return run(process.execPath, [existsSync(tsc) ? tsc : fallback, "-p", project], project);
}

beforeAll(async () => {
  ensureBuilt("./packages/*");
  work = mkdtempSync(path.join(tmpdir(), "svc-jobs-pack-"));
  const packed = path.join(work, "tarballs");
  mkdirSync(packed);
  for (const name of PACKAGES) {
    pnpm(["pack", "--pack-destination", packed], path.join(root, "packages", name));
  }
  tarballs = readdirSync(packed)
    .filter((f) => f.endsWith(".tgz"))
    .map((f) => path.join(packed, f));
  ({ url: redisUrl, stop: stopRedis } = await useRedis());
});

afterAll(async () => {
  await stopRedis?.();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.each([
  {
    label: "latest peers (ioredis 6, kysely 0.29, prom-client 15)",
    peers: ["ioredis@6", "kysely@0.29", "prom-client@15"],
  },
  {
    label: "previous majors (ioredis 5, kysely 0.28, prom-client 14)",
    peers: ["ioredis@5", "kysely@0.28", "prom-client@14"],
  },
])("installed with plain npm next to $label", ({ label, peers }) => {
  let dir: string;

  it("npm install of every tarball finishes without ERESOLVE", () => {
    expect(tarballs).toHaveLength(PACKAGES.length);
    const result = installApp(label.startsWith("latest") ? "latest" : "previous", peers);
    dir = result.dir;
    expect(result.install.out).not.toMatch(/ERESOLVE|peer dep(endency)? conflict/i);
    expect(result.install.code, result.install.out).toBe(0);
    // One copy of each peer, the major asked for: no package brought its own.
    for (const [name, major] of peers.map((p) => p.split("@") as [string, string])) {
      const copies = findPackageCopies(path.join(dir, "node_modules"), name);
      expect(copies, `${name} installed more than once`).toHaveLength(1);
      const { version } = JSON.parse(readFileSync(copies[0] as string, "utf8"));
      expect(version.startsWith(`${major}.`), `${name}@${version}`).toBe(true);
    }
  });

  it("an app using every package type-checks under strict NodeNext, with the README snippets", () => {
    cpSync(fixtures, dir, { recursive: true });
    const snippets = extractSnippets(root);
    expect(snippets.length).toBeGreaterThan(15);
    mkdirSync(path.join(dir, "snippets"), { recursive: true });
    for (const s of snippets) writeFileSync(path.join(dir, "snippets", s.file), s.source);
    const app = typecheck(dir);
    expect(app.out).toBe("");
    expect(app.code).toBe(0);
    const readmes = typecheck(path.join(dir, "snippets"));
    expect(readmes.out).toBe("");
    expect(readmes.code).toBe(0);
  });

  it("the compiled app runs against a real redis-server", () => {
    const result = run(process.execPath, ["out/app.js"], dir, { REDIS_URL: redisUrl });
    expect(result.code, result.out).toBe(0);
    const line = JSON.parse(result.out.trim().split("\n").pop() ?? "{}");
    expect(line).toMatchObject({
      ok: true,
      ticks: 1,
      isLeader: true,
      ready: 0,
      dispatched: true,
      metrics: true,
      dashboard: true,
    });
  });

  it("a CommonJS app require()s every package (require(esm), Node 20.19+)", () => {
    const script = PACKAGES.map((name) => `require("@svc-jobs/${name}");`).join("");
    const result = run(process.execPath, ["-e", `${script}console.log("required")`], dir);
    expect(result.code, result.out).toBe(0);
    expect(result.out.trim()).toBe("required");
  });

  it("the installed svc-jobs binary answers on Redis", () => {
    const prefix = `pack-cli-${label.slice(0, 6)}-${process.pid}`;
    const bin = path.join(dir, "node_modules/.bin/svc-jobs");
    const env = { REDIS_URL: redisUrl, JOBS_DRIVER: "redis", JOBS_PREFIX: prefix };
    const enqueued = run(bin, ["enqueue", "ping", '{"n":1}'], dir, env);
    expect(enqueued.code, enqueued.out).toBe(0);
    const stats = run(bin, ["stats", "--json"], dir, env);
    expect(stats.code, stats.out).toBe(0);
    expect(JSON.parse(stats.out)).toEqual([
      {
        prefix,
        ready: 1,
        delayed: 0,
        processing: 0,
        dlq: 0,
        completed: 0,
        cancelled: 0,
        paused: false,
      },
    ]);
    const dlq = run(bin, ["dlq", "list", "--json"], dir, env);
    expect(dlq.code, dlq.out).toBe(0);
    expect(JSON.parse(dlq.out)).toEqual([]);
  });

  it("an esbuild bundle of a Redis user runs from another folder", () => {
    const elsewhere = mkdtempSync(path.join(work, "bundle-"));
    const outfile = path.join(elsewhere, "bundle.mjs");
    const bundled = run(
      path.join(dir, "node_modules/.bin/esbuild"),
      [
        "redis-user.ts",
        "--bundle",
        "--platform=node",
        "--format=esm",
        "--target=node20",
        `--outfile=${outfile}`,
        // ioredis is CommonJS: give its require() calls of Node built-ins a require.
        "--banner:js=import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      ],
      dir,
    );
    expect(bundled.code, bundled.out).toBe(0);
    expect(readdirSync(elsewhere)).toEqual(["bundle.mjs"]);
    const result = run(process.execPath, [outfile], elsewhere, { REDIS_URL: redisUrl });
    expect(result.code, result.out).toBe(0);
    expect(JSON.parse(result.out.trim().split("\n").pop() ?? "{}")).toEqual({
      bundled: true,
      leading: true,
      ready: 0,
      delayed: 0,
      processing: 0,
      dlq: 0,
      completed: 0,
      cancelled: 0,
      paused: false,
    });
  });
});

describe("the svc-jobs binary on SQLite, installed into an empty folder", () => {
  it("npm install @svc-jobs/cli better-sqlite3 kysely, then JOBS_DRIVER=sqlite svc-jobs enqueue and stats", () => {
    const dir = path.join(work, "sqlite-user");
    mkdirSync(dir);
    writeFileSync(
      path.join(dir, "package.json"),
      `${JSON.stringify({ name: "app-sqlite", private: true }, null, 2)}\n`,
    );
    // What `npm install @svc-jobs/cli` brings from a registry: the CLI's tarball and those of
    // the @svc-jobs packages it depends on (webhooks is not one of them).
    const cli = tarballs.filter((t) => !path.basename(t).startsWith("svc-jobs-webhooks-"));
    // better-sqlite3's install script downloads a prebuilt binary, else compiles one from
    // source (3 to 7 minutes on a loaded 2-core CI machine, where no download is reachable).
    // The test installs the same version as the workspace without install scripts (none of
    // the other packages has one) and gives it the binary the workspace's install built,
    // so it checks everything of the user's install but the C++ compiler.
    const workspaceSqlite = path.dirname(
      createRequire(path.join(root, "packages/sql/package.json")).resolve(
        "better-sqlite3/package.json",
      ),
    );
    const sqliteVersion = JSON.parse(
      readFileSync(path.join(workspaceSqlite, "package.json"), "utf8"),
    ).version as string;
    const install = run(
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        "--no-update-notifier",
        "--ignore-scripts",
        ...cli,
        `better-sqlite3@${sqliteVersion}`,
        "kysely@0.28",
      ],
      dir,
    );
    console.log(`npm install (sqlite-user): ${(install.ms / 1000).toFixed(1)} s`);
    expect(install.code, install.out).toBe(0);
    const binary = "build/Release/better_sqlite3.node";
    mkdirSync(path.join(dir, "node_modules/better-sqlite3/build/Release"), { recursive: true });
    copyFileSync(
      path.join(workspaceSqlite, binary),
      path.join(dir, "node_modules/better-sqlite3", binary),
    );
    const bin = path.join(dir, "node_modules/.bin/svc-jobs");
    const env = { JOBS_DRIVER: "sqlite" };
    const enqueued = run(bin, ["enqueue", "send_email", '{"to":"a@example.com"}'], dir, env);
    expect(enqueued.code, enqueued.out).toBe(0);
    expect(enqueued.out.trim()).toBe("1");
    expect(existsSync(path.join(dir, "data/svc-jobs.sqlite"))).toBe(true);
    const stats = run(bin, ["stats", "--json"], dir, env);
    expect(stats.code, stats.out).toBe(0);
    expect(JSON.parse(stats.out)).toEqual([
      expect.objectContaining({ prefix: "jobs", ready: 1, dlq: 0, paused: false }),
    ]);
    const list = run(bin, ["jobs", "list", "--state", "ready", "--json"], dir, env);
    expect(list.code, list.out).toBe(0);
    expect(JSON.parse(list.out).jobs).toEqual([
      expect.objectContaining({ id: "1", name: "send_email", payload: { to: "a@example.com" } }),
    ]);
  }, 300_000);
});

describe("every tarball", () => {
  it.each(PACKAGES)("@svc-jobs/%s: publint reports nothing", (name) => {
    const tgz = tarballs.find((t) => path.basename(t).startsWith(`svc-jobs-${name}-`));
    expect(tgz).toBeDefined();
    const bin = path.join(here, "../node_modules/publint/src/cli.js");
    const result = run(process.execPath, [bin, "--strict", tgz as string], work);
    expect(result.code, result.out).toBe(0);
    expect(result.out).not.toMatch(/warning|error|suggestion/i);
  });

  it.each(PACKAGES)("@svc-jobs/%s: attw finds no type problem (ESM-only profile)", (name) => {
    const tgz = tarballs.find((t) => path.basename(t).startsWith(`svc-jobs-${name}-`));
    const bin = path.join(here, "../node_modules/@arethetypeswrong/cli/dist/index.js");
    const result = run(process.execPath, [bin, tgz as string, "--profile", "esm-only"], work);
    expect(result.code, result.out).toBe(0);
  });
});
