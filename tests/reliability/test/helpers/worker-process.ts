import { type ChildProcess, spawn } from "node:child_process";
import { SVC_JOBS_BIN } from "./chaos.js";

/** A real `svc-jobs run` process. */
export interface WorkerProcess {
  child: ChildProcess;
  /** Everything it printed, for the failure message. */
  output: () => string;
  /** Resolves once it logged "worker started". */
  started: Promise<void>;
  /** Signals it and resolves with its exit code once it has exited. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** How to start a {@link WorkerProcess}. */
export interface WorkerProcessOptions {
  /** The handler module (`--handlers`). */
  handlers: string;
  prefix: string;
  redisUrl: string;
  concurrency: number;
  visibilityTimeoutSeconds: number;
  /** More environment for the handler module. */
  env?: Record<string, string>;
  /** Told when the process is stopped, so a suite can stop what is left after each test. */
  registry?: Set<WorkerProcess>;
}

/** Starts a real `svc-jobs run` process on the Redis queue `prefix`. */
export function startWorkerProcess(options: WorkerProcessOptions): WorkerProcess {
  const child = spawn(
    process.execPath,
    [
      SVC_JOBS_BIN,
      "run",
      "--handlers",
      options.handlers,
      "--prefix",
      options.prefix,
      "--concurrency",
      String(options.concurrency),
      "--poll-interval",
      "0.2",
      "--visibility-timeout",
      String(options.visibilityTimeoutSeconds),
      "--grace",
      "5",
    ],
    {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        JOBS_DRIVER: "redis",
        REDIS_URL: options.redisUrl,
        ...options.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  const started = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("worker started")) resolve();
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    void exited.then(() => reject(new Error(`worker exited before it started:\n${output}`)));
  });
  started.catch(() => {});
  const worker: WorkerProcess = {
    child,
    output: () => output,
    started,
    async stop(signal = "SIGTERM") {
      options.registry?.delete(worker);
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  options.registry?.add(worker);
  return worker;
}

/** Polls `check` every 20 ms until it holds; fails after `timeoutMs` with `describe()`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  describe: () => string = () => "",
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`condition not met in ${timeoutMs} ms\n${describe()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
