import { spawn } from "node:child_process";
import { SVC_JOBS_BIN } from "./chaos.js";

/** What one `svc-jobs` invocation printed and returned. */
export interface BinResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `svc-jobs args...` with only `env` (plus PATH/HOME) and waits for it to exit. */
export function runBin(
  args: string[],
  env: Record<string, string>,
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<BinResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SVC_JOBS_BIN, ...args], {
      ...(options.cwd ? { cwd: options.cwd } : {}),
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
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
    const timeoutMs = options.timeoutMs ?? 20_000;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(`svc-jobs ${args.join(" ")} still running after ${timeoutMs} ms\n${stderr}`),
      );
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}
