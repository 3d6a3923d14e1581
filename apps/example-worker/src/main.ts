// The example app as a long-running service: `pnpm --filter @svc-jobs/example-worker start`
// (or `node dist/main.js` in the image). EXAMPLE_ROLE=all runs the API, the worker and the
// scheduler in this process; EXAMPLE_ROLE=api runs only the API, with workers started as
// `svc-jobs run --handlers ./dist/worker-handlers.js` (see deploy/).
import { createLogger } from "@svc-jobs/cli";
import { startExampleApp } from "./app.js";
import { loadConfig } from "./config.js";

const log = createLogger();
const config = loadConfig();
if (!process.env.WEBHOOK_SECRET) {
  log.warn("WEBHOOK_SECRET is not set: using the development secret; set your own in production");
}
const app = await startExampleApp(config, {
  onStep: ({ kind, message, ...fields }) => log.info({ step: kind, ...fields }, message),
  onJobSettled: ({ job, status, durationMs }) =>
    log.info(
      { jobId: job.id, jobName: job.name, attempts: job.attempts, status, durationMs },
      `job ${status}`,
    ),
});
log.info(
  { url: app.url, role: config.role, driver: app.jobs.driver, database: app.database.dialect },
  "example app started",
);
const graceSeconds = Number(process.env.GRACE_SECONDS ?? 30);
let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal, graceSeconds }, "stopping");
  app
    .stop({ graceSeconds })
    .then(() => {
      log.info("stopped");
      process.exit(0);
    })
    .catch((error: unknown) => {
      log.error({ err: String(error) }, "stop failed");
      process.exit(1);
    });
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
