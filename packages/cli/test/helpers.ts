import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type ProcessResult, runNodeScript } from "@svc-jobs/test-servers";

export const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
export const CLI_DIR = fileURLToPath(new URL("..", import.meta.url));

export type BinResult = ProcessResult;

/** Environment for the binary: only what the test sets, so a developer's JOBS_* never leaks in. */
export function binEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

/** Runs `svc-jobs args...` to completion. */
export function runBin(
  args: string[],
  env: Record<string, string | undefined>,
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<BinResult> {
  return runNodeScript(BIN, args, env, {
    cwd: options.cwd ?? CLI_DIR,
    timeoutMs: options.timeoutMs ?? 15_000,
  });
}

// biome-ignore lint/suspicious/noExplicitAny: what the fixture prints, checked by the tests.
type FixtureOutput = Record<string, any>;

/**
 * Runs a scenario of fixtures/sql-easy-jobs.mjs (easyJobs() of the built package in a plain
 * Node.js process) with exactly `env`, and returns the JSON line it prints.
 */
export async function easyJobsIn(
  scenario: string,
  env: Record<string, string | undefined>,
): Promise<FixtureOutput> {
  const script = fileURLToPath(new URL("./fixtures/sql-easy-jobs.mjs", import.meta.url));
  const result = await runNodeScript(script, [scenario], env, { cwd: CLI_DIR, timeoutMs: 20_000 });
  if (result.code !== 0) throw new Error(`${scenario} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split("\n").pop() ?? "{}") as FixtureOutput;
}

/** A long-running `svc-jobs` process (run, stats --watch). */
export interface RunningBin {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** JSON log lines so far. */
  logs(): Record<string, unknown>[];
  /** Waits until `predicate` holds over the output (polling on each chunk). */
  waitFor(predicate: (bin: RunningBin) => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  exited: Promise<number | null>;
}

export function startBin(
  args: string[],
  env: Record<string, string | undefined>,
  options: { cwd?: string } = {},
): RunningBin {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? CLI_DIR,
    env: binEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const l of listeners) l();
  };
  child.stdout?.on("data", (d) => {
    stdout += d;
    notify();
  });
  child.stderr?.on("data", (d) => {
    stderr += d;
    notify();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on("close", (code) => {
      notify();
      resolve(code);
    });
  });
  const bin: RunningBin = {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    logs() {
      return stdout
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    waitFor(predicate, what, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (predicate(bin)) {
            done();
            resolve();
          } else if (child.exitCode !== null) {
            done();
            reject(
              new Error(`svc-jobs exited (${child.exitCode}) before ${what}\n${stdout}\n${stderr}`),
            );
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(`timed out waiting for ${what}\nstdout:\n${stdout}\nstderr:\n${stderr}`),
          );
        }, timeoutMs);
        function done() {
          clearTimeout(timer);
          listeners.delete(check);
        }
        listeners.add(check);
        check();
      });
    },
    async stop(signal = "SIGTERM", timeoutMs = 15_000) {
      if (child.exitCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    exited,
  };
  return bin;
}

/** Job outcome lines of a worker's logs. */
export function outcomes(bin: RunningBin, status?: string): Record<string, unknown>[] {
  return bin
    .logs()
    .filter((l) => typeof l.jobId === "string" && (status === undefined || l.status === status));
}
