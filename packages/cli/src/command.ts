// `@svc-jobs/cli/command`: everything of the main entry, plus the parts of the command
// that load commander, pino and prom-client when imported (for tools that embed it).
export * from "./index.js";
export { runCli } from "./run-cli.js";
export { JOBS_SCHEDULE_ENV, runWorker } from "./run-worker.js";
export { workerMetrics } from "./worker-metrics.js";
