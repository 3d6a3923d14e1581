// Shared set-up for `npm test` and `npm run demo` on a fresh machine that has only
// Node 20 and npm: the pinned pnpm (through npx), the dependencies, the build, and
// the Debian packages of the servers the tests need.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pinned = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).packageManager; // "pnpm@12.4.2"
const pinnedVersion = pinned.split("@")[1];

export function log(message) {
  process.stdout.write(`\n\u001b[1m▶ ${message}\u001b[0m\n`);
}

/** Runs a command in the repo, streaming its output; exits on failure unless `allowFail`. */
export function run(cmd, args, { env = {}, allowFail = false } = {}) {
  const result = spawnSync(cmd, args, {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, ...env },
  });
  if (result.error) throw result.error;
  if (result.status !== 0 && !allowFail) {
    console.error(`\n✖ ${cmd} ${args.join(" ")} exited with ${result.status ?? result.signal}`);
    process.exit(result.status || 1);
  }
  return result.status ?? 1;
}

/** The pinned pnpm: the installed one when it is the right version, else through npx. */
export function pnpmCommand() {
  try {
    const version = execFileSync("pnpm", ["--version"], { stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
    if (version === pinnedVersion) return ["pnpm"];
  } catch {}
  return ["npx", "--yes", pinned];
}

export function pnpm(args, opts) {
  const [cmd, ...pre] = pnpmCommand();
  return run(cmd, [...pre, ...args], opts);
}

/** Installs the workspace's dependencies exactly as locked. */
export function installDependencies() {
  log(`Installing dependencies with ${pinned}`);
  // better-sqlite3 compiles from source here; node-gyp must find Node's headers locally.
  const env = existsSync("/usr/include/node/node.h") ? { npm_config_nodedir: "/usr" } : {};
  pnpm(["install", "--frozen-lockfile"], { env });
}

export function build() {
  log("Building every package");
  pnpm(["turbo", "run", "build"]);
}

function have(bin) {
  return spawnSync("sh", ["-c", `command -v ${bin}`], { stdio: "ignore" }).status === 0;
}

/** The system python3 (not a pyenv or venv one) with redis-py importable. */
export const SYSTEM_PYTHON = "/usr/bin/python3";
function haveSystemPythonRedis() {
  return spawnSync(SYSTEM_PYTHON, ["-c", "import redis, json"], { stdio: "ignore" }).status === 0;
}

function havePostgres() {
  if (process.env.PG_BIN_DIR || have("initdb")) return true;
  try {
    return (
      execFileSync("sh", ["-c", "ls /usr/lib/postgresql/*/bin/initdb"], { stdio: "pipe" })
        .toString()
        .trim().length > 0
    );
  } catch {
    return false;
  }
}

/**
 * Makes sure redis-server, redis-cli and PostgreSQL are installed: installs them with
 * apt-get where possible, otherwise stops with a message that says how.
 */
export function ensureServerPackages() {
  const missing = [];
  if (!have("redis-server")) missing.push("redis-server");
  if (!have("redis-cli")) missing.push("redis-tools");
  if (!havePostgres()) missing.push("postgresql");
  // Interop tests run a Python producer and consumer (svc-infra's wire format) with
  // Debian's python3 and redis-py; webhook tests compare with CPython's json module.
  if (!haveSystemPythonRedis()) missing.push("python3", "python3-redis");
  // The dashboard's browser tests drive Debian's Chromium with playwright-core (which
  // never downloads a browser of its own).
  if (!have("chromium")) missing.push("chromium");
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  const sudo = !isRoot && have("sudo") && spawnSync("sudo", ["-n", "true"]).status === 0;
  if (have("apt-get") && (isRoot || sudo)) {
    log(`Installing ${missing.join(", ")} with apt-get`);
    const pre = isRoot ? [] : ["sudo", "-n"];
    const aptEnv = { DEBIAN_FRONTEND: "noninteractive" };
    const cmd = (args) =>
      pre.length
        ? run(pre[0], [...pre.slice(1), ...args], { env: aptEnv })
        : run(args[0], args.slice(1), { env: aptEnv });
    cmd(["apt-get", "update", "-qq"]);
    cmd(["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...missing]);
    return;
  }
  console.error(
    `\n✖ The tests need real servers, and these are missing: ${missing.join(", ")}.\n` +
      `  Debian/Ubuntu: sudo apt-get install -y ${missing.join(" ")}\n` +
      "  macOS: brew install redis postgresql@15 (and put initdb on PATH, or set PG_BIN_DIR),\n" +
      "  a Chromium at /usr/bin/chromium for the dashboard's browser tests,\n" +
      "  and a python3 at /usr/bin/python3 with redis-py (pip install redis)\n" +
      "  Then run `npm test` again. No test is skipped for want of a server.",
  );
  process.exit(1);
}
