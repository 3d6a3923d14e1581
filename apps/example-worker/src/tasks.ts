// Periodic tasks for a separate worker, named in JOBS_SCHEDULE_JSON:
//   [{"name":"outbox_relay","interval_seconds":1,"target":"./dist/tasks.js:outboxTick"},
//    {"name":"cleanup","interval_seconds":3600,"target":"./dist/tasks.js:cleanup"}]
// `svc-jobs run` fires them on the leader replica only.
import { type EasyJobs, easyJobs } from "@svc-jobs/cli";
import { KyselyInboxStore, KyselyOutboxStore } from "@svc-jobs/webhooks";
import { loadConfig } from "./config.js";
import { openDatabase } from "./database.js";
import { createCleanup, createOutboxTick } from "./job-handlers.js";

let ready:
  | Promise<{ relay: () => Promise<number>; clean: () => Promise<void>; jobs: EasyJobs }>
  | undefined;

function setup() {
  ready ??= (async () => {
    const config = loadConfig();
    const database = await openDatabase(config);
    const outbox = new KyselyOutboxStore(database.db);
    const inbox = new KyselyInboxStore(database.db);
    // Its own connection to the same queue (JOBS_DRIVER, REDIS_URL, JOBS_PREFIX).
    const jobs = easyJobs();
    return {
      jobs,
      relay: createOutboxTick(outbox, jobs.queue, config.webhookBackoffSeconds),
      clean: createCleanup(outbox, inbox, jobs.queue),
    };
  })();
  return ready;
}

/** Moves pending outbox events into the queue. */
export async function outboxTick(): Promise<number> {
  return (await setup()).relay();
}

/** Purges expired inbox marks and marks dead deliveries failed. */
export async function cleanup(): Promise<void> {
  await (await setup()).clean();
}
