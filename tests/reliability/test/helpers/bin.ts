import { type ProcessResult, runNodeScript } from "@svc-jobs/test-servers";
import { SVC_JOBS_BIN } from "./chaos.js";

/** What one `svc-jobs` invocation printed and returned. */
export type BinResult = ProcessResult;

/** Runs `svc-jobs args...` with only `env` (plus PATH/HOME) and waits for it to exit. */
export function runBin(
  args: string[],
  env: Record<string, string>,
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<BinResult> {
  return runNodeScript(SVC_JOBS_BIN, args, env, options);
}
