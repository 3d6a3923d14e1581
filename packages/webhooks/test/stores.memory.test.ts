import { InMemoryInboxStore, InMemoryOutboxStore } from "@svc-jobs/webhooks";
import { describeStores } from "./helpers/store-cases.js";

describeStores("memory", async (clock) => ({
  outbox: new InMemoryOutboxStore({ clock }),
  inbox: new InMemoryInboxStore({ clock }),
  destroy: async () => {},
}));
