// The handlers module for a separate worker process:
//   svc-jobs run --handlers ./dist/worker-handlers.js
// It opens the same database as the API and exports the same JobRegistry.
import { ConfigError } from "@svc-jobs/core";
import { KyselyInboxStore, KyselyOutboxStore } from "@svc-jobs/webhooks";
import { loadConfig } from "./config.js";
import { openDatabase } from "./database.js";
import { createRegistry } from "./job-handlers.js";

const config = loadConfig();
if (!config.webhookUrl) {
  throw new ConfigError(
    "WEBHOOK_URL must be set for a separate worker (the receiver's URL, e.g. http://api:3000/webhooks/order-events)",
  );
}
const database = await openDatabase(config);

/** The app's job handlers, for `svc-jobs run`. */
export const registry = createRegistry({
  db: database.db,
  outbox: new KyselyOutboxStore(database.db),
  inbox: new KyselyInboxStore(database.db),
  config,
  webhookUrl: config.webhookUrl,
}).registry;
