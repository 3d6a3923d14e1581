// Real servers for the svc-jobs tests, on loopback, started and stopped by pid.
// Plain JavaScript so the root test script can use it before anything is built.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  accessSync,
  chownSync,
  constants,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
} from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

const HOST = "127.0.0.1";
const started = new Set();

process.once("exit", () => {
  for (const child of started) {
    try {
      child.kill("SIGKILL");
    } catch {}
  }
});

export function requireBinary(name, hint) {
  const dirs = (process.env.PATH ?? "")
    .split(path.delimiter)
    .concat(["/usr/sbin", "/usr/bin", "/usr/local/bin"]);
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  throw new Error(
    `${name} is not installed or not on PATH, and the tests need a real one: ${hint}. ` +
      "Running the tests with `npm test` at the repository root installs it on Debian/Ubuntu.",
  );
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function uniquePrefix(name = "t") {
  return `t:${randomBytes(4).toString("hex")}:${name}`;
}

export function redisCommand(port, command, host = HOST) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let data = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis ${host}:${port} did not answer ${command}`));
    }, 2000);
    socket.on("connect", () => socket.write(`${command}\r\n`));
    socket.on("data", (chunk) => {
      data += chunk.toString();
      // Simple and bulk replies are enough for PING and CLUSTER INFO.
      if (/^[+\-:]/.test(data) && data.endsWith("\r\n")) done();
      else if (data.startsWith("$")) {
        const len = Number.parseInt(data.slice(1), 10);
        const header = data.indexOf("\r\n") + 2;
        if (len < 0 || data.length >= header + len + 2) done();
      }
    });
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    function done() {
      clearTimeout(timer);
      socket.end();
      resolve(data);
    }
  });
}

async function waitFor(check, what, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${lastError.message}` : ""}`);
}

function spawnRedis(bin, port, dir, args) {
  const child = spawn(
    bin,
    [
      "--port",
      String(port),
      "--bind",
      HOST,
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--daemonize",
      "no",
      "--logfile",
      path.join(dir, "redis.log"),
      ...args,
    ],
    { stdio: "ignore" },
  );
  started.add(child);
  child.once("exit", () => started.delete(child));
  return child;
}

export async function startRedis(options = {}) {
  const bin = requireBinary(
    "redis-server",
    "apt-get install redis-server (Debian/Ubuntu) or brew install redis (macOS)",
  );
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), "svc-jobs-redis-"));
  const args = options.args ?? [];
  let child = spawnRedis(bin, port, dir, args);
  const ready = () =>
    waitFor(
      async () => (await redisCommand(port, "PING")).startsWith("+PONG"),
      `redis-server on port ${port}`,
    );
  await ready();
  const exited = (c) =>
    new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("exit", r)));
  const server = {
    host: HOST,
    port,
    url: `redis://${HOST}:${port}`,
    dir,
    get pid() {
      return child.pid;
    },
    async stop({ keepDir = false } = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
        await exited(child);
        clearTimeout(timer);
      }
      if (!keepDir && !options.dir) rmSync(dir, { recursive: true, force: true });
    },
    async crash() {
      child.kill("SIGKILL");
      await exited(child);
    },
    async restart() {
      if (child.exitCode === null && child.signalCode === null) await server.crash();
      child = spawnRedis(bin, port, dir, args);
      await ready();
    },
  };
  return server;
}

export async function startRedisCluster({ masters = 3 } = {}) {
  const cli = requireBinary("redis-cli", "apt-get install redis-tools (Debian/Ubuntu)");
  const servers = [];
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freePort();
      servers.push(
        await startRedis({
          port,
          args: [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            `nodes-${port}.conf`,
            "--cluster-node-timeout",
            "5000",
          ],
        }),
      );
    }
    execFileSync(
      cli,
      [
        "--cluster",
        "create",
        ...servers.map((s) => `${HOST}:${s.port}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ],
      { stdio: "pipe", timeout: 30000 },
    );
    for (const s of servers) {
      await waitFor(
        async () => (await redisCommand(s.port, "CLUSTER INFO")).includes("cluster_state:ok"),
        `cluster_state:ok on port ${s.port}`,
        30000,
      );
    }
  } catch (err) {
    await Promise.all(servers.map((s) => s.stop()));
    throw err;
  }
  return {
    nodes: servers.map((s) => ({ host: HOST, port: s.port })),
    servers,
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}

function postgresBinDir() {
  const fromEnv = process.env.PG_BIN_DIR;
  if (fromEnv) return fromEnv;
  const root = "/usr/lib/postgresql";
  try {
    const versions = readdirSync(root)
      .filter((v) => statSync(path.join(root, v, "bin", "initdb"), { throwIfNoEntry: false }))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(root, versions[0], "bin");
  } catch {}
  const initdb = requireBinary(
    "initdb",
    "apt-get install postgresql (Debian/Ubuntu), or set PG_BIN_DIR",
  );
  return path.dirname(initdb);
}

export async function startPostgres() {
  const bin = postgresBinDir();
  const isRoot = process.getuid?.() === 0;
  const base = mkdtempSync(path.join(tmpdir(), "svc-jobs-pg-"));
  const data = path.join(base, "data");
  const run = (cmd, args) => {
    const full = path.join(bin, cmd);
    if (isRoot) execFileSync("runuser", ["-u", "postgres", "--", full, ...args], { stdio: "pipe" });
    else execFileSync(full, args, { stdio: "pipe" });
  };
  if (isRoot) chownSync(base, uidOf("postgres"), gidOf("postgres"));
  run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  const start = () =>
    run("pg_ctl", [
      "-D",
      data,
      "-o",
      `-p ${port} -k ${base} -c listen_addresses=${HOST} -c fsync=off`,
      "-l",
      path.join(base, "pg.log"),
      "-w",
      "start",
    ]);
  start();
  return {
    port,
    url: `postgres://postgres@${HOST}:${port}/postgres`,
    async restart({ mode = "immediate" } = {}) {
      if (mode !== "immediate" && mode !== "fast") {
        throw new Error(`restart mode is ${JSON.stringify(mode)}: use "immediate" or "fast"`);
      }
      // "immediate" ends every backend at once without a checkpoint (a crash: the start
      // replays the WAL); "fast" is a clean shutdown. Same data directory, same port.
      run("pg_ctl", ["-D", data, "-m", mode, "-w", "stop"]);
      start();
    },
    async stop() {
      try {
        run("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]);
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    },
  };
}

function uidOf(user) {
  return Number(execFileSync("id", ["-u", user]).toString().trim());
}
function gidOf(user) {
  return Number(execFileSync("id", ["-g", user]).toString().trim());
}

export async function useRedis() {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => {} };
  const server = await startRedis();
  return { url: server.url, stop: () => server.stop() };
}

export async function useRedisCluster() {
  const env = process.env.REDIS_CLUSTER_NODES;
  if (env) {
    const nodes = env.split(",").map((hp) => {
      const [host, port] = hp.trim().split(":");
      return { host, port: Number(port) };
    });
    return { nodes, stop: async () => {} };
  }
  const cluster = await startRedisCluster();
  return { nodes: cluster.nodes, stop: () => cluster.stop() };
}

export async function usePostgres() {
  const env = process.env.PG_URL ?? process.env.DATABASE_URL;
  if (env) return { url: env, stop: async () => {} };
  const server = await startPostgres();
  return { url: server.url, stop: () => server.stop() };
}

/**
 * Builds workspace packages (a pnpm `--filter`, e.g. "@svc-jobs/cli...") for tests that
 * run built code. Skipped when SVC_JOBS_BUILT=1: the root `npm test` has built
 * everything already, and rebuilding while other packages' tests read dist/ could hand
 * them half-written files.
 */
export function ensureBuilt(filter) {
  if (process.env.SVC_JOBS_BUILT === "1") return;
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../..");
  // Under pnpm, npm_execpath is pnpm's own entry point: use it rather than hoping that
  // a `pnpm` binary is on PATH (npm test may have fetched pnpm through npx).
  const execPath = process.env.npm_execpath;
  let cmd = "pnpm";
  let pre = [];
  if (execPath && /pnpm/.test(path.basename(execPath))) {
    // pnpm ships as a JS entry point or as a native executable.
    if (/\.[cm]?js$/.test(execPath)) [cmd, pre] = [process.execPath, [execPath]];
    else cmd = execPath;
  }
  let lastError;
  // A concurrent install may be rewriting node_modules for a moment: retry once.
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      execFileSync(cmd, [...pre, "--filter", filter, "run", "build"], {
        cwd: root,
        stdio: "pipe",
        encoding: "utf8",
      });
      return;
    } catch (error) {
      lastError = error;
    }
  }
  throw new Error(
    `building ${filter} failed:\n${lastError?.stdout ?? ""}\n${lastError?.stderr ?? lastError?.message ?? ""}`,
  );
}

/**
 * Runs `node script args...` with exactly `env` (plus PATH and HOME, so a developer's
 * own variables never leak in) and waits for it to exit; rejects after `timeoutMs`.
 */
export function runNodeScript(script, args, env = {}, options = {}) {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 20000;
  const childEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      ...(options.cwd ? { cwd: options.cwd } : {}),
      env: childEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `${path.basename(script)} ${args.join(" ")} did not exit within ${timeoutMs} ms\n${stdout}\n${stderr}`,
        ),
      );
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}
