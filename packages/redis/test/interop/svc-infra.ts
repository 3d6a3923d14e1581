// The svc-infra side of the interop tests: one svc-infra-style operation per run of
// interop/svc_infra_cli.py (Debian's python3 with python3-redis), on a queue of a Redis the
// test runs (docs/redis-layout.md, "Sharing a queue with svc-infra").
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The python3 that has redis-py (Debian's, not a pyenv one on the PATH). */
export const PYTHON = "/usr/bin/python3";
/** The script that runs one svc-infra operation: `python3 <it> <redis url> <prefix> <op> ...`. */
export const SVC_INFRA_CLI = fileURLToPath(new URL("svc_infra_cli.py", import.meta.url));

/** A job as svc-infra's `Job` dataclass prints it. */
export interface PyJob {
  id: string;
  name: string;
  payload: unknown;
  available_at: string;
  attempts: number;
  max_attempts: number;
  backoff_seconds: number;
  last_error: string | null;
}

/**
 * A function that runs one svc-infra operation (`enqueue`, `reserve`, `ack`, `fail`, ...)
 * on queue `prefix` of the Redis at `url`, resolving to its JSON result.
 */
export function svcInfra(
  url: () => string,
): <T = PyJob | null>(prefix: string, ...args: (string | number)[]) => Promise<T> {
  return async (prefix, ...args) => {
    const { stdout } = await run(PYTHON, [SVC_INFRA_CLI, url(), prefix, ...args.map(String)]);
    return JSON.parse(stdout.trim().split("\n").at(-1) ?? "null");
  };
}
