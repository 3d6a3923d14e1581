// The command's entry points for the package's main entry: they import the command
// (commander, pino, prom-client) only when called, so `import { easyJobs } from
// "@svc-jobs/cli"` loads none of it.
import type * as RunCli from "./run-cli.js";
import type * as RunWorker from "./run-worker.js";

/** The environment variable holding the schedule `svc-jobs run` loads. */
export const JOBS_SCHEDULE_ENV: typeof RunWorker.JOBS_SCHEDULE_ENV = "JOBS_SCHEDULE_JSON";

/**
 * Runs the `svc-jobs` command with `argv` (without `node` and the script) and
 * resolves to the exit code: 0 on success, 2 for usage errors (bad arguments,
 * JSON or configuration), 1 for runtime failures (Redis unreachable, a module
 * that throws). Errors are printed as one line on stderr. Loads the command on the
 * first call.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(process.argv.slice(2));
 * ```
 */
export async function runCli(
  ...args: Parameters<typeof RunCli.runCli>
): ReturnType<typeof RunCli.runCli> {
  const { runCli } = await import("./run-cli.js");
  return runCli(...args);
}

/**
 * Runs workers until SIGTERM/SIGINT (or `maxJobs`), as `svc-jobs run` does: loads the
 * handlers module, builds the queue with `easyJobs`, loads `JOBS_SCHEDULE_JSON`, serves
 * metrics, logs one JSON line per job outcome, and drains gracefully on a signal. Loads
 * the worker (pino, prom-client) on the first call.
 *
 * @example
 * ```ts
 * await runWorker({ handlers: "./dist/jobs.js", concurrency: 4, metricsPort: 9464 });
 * ```
 */
export async function runWorker(
  ...args: Parameters<typeof RunWorker.runWorker>
): ReturnType<typeof RunWorker.runWorker> {
  const { runWorker } = await import("./run-worker.js");
  return runWorker(...args);
}
