import { KyselyInboxStore, KyselyOutboxStore, migrateWebhookTables } from "@svc-jobs/webhooks";
import { describe, expect, it } from "vitest";
import { createPostgresDatabase } from "./helpers/databases.js";
import { describeKyselyStores } from "./helpers/kysely-cases.js";
import { describeStores } from "./helpers/store-cases.js";

describeStores("postgres", async (clock) => {
  const t = await createPostgresDatabase();
  await migrateWebhookTables(t.db);
  return {
    outbox: new KyselyOutboxStore(t.db, { clock }),
    inbox: new KyselyInboxStore(t.db, { clock }),
    destroy: () => t.destroy(),
  };
});

describeKyselyStores("postgres", createPostgresDatabase);

describe("postgres: several relays", () => {
  it("two connections dispatching at once never share a message", async () => {
    const t = await createPostgresDatabase();
    await migrateWebhookTables(t.db);
    const other = t.connectAgain();
    const a = new KyselyOutboxStore(t.db);
    const b = new KyselyOutboxStore(other);
    for (let i = 0; i < 40; i++) await a.enqueue("t", { i });
    const seen: string[] = [];
    const relay = async (store: KyselyOutboxStore) => {
      for (;;) {
        const got = await store.dispatchPending({ limit: 3 }, async (messages) => {
          seen.push(...messages.map((m) => m.id));
        });
        if (got.length === 0) return;
      }
    };
    await Promise.all([relay(a), relay(b), relay(a), relay(b)]);
    await t.destroy();
    expect(seen).toHaveLength(40);
    expect(new Set(seen).size).toBe(40);
  });

  it("a second relay takes other rows while the first still holds its batch", async () => {
    const t = await createPostgresDatabase();
    try {
      await migrateWebhookTables(t.db);
      const a = new KyselyOutboxStore(t.db);
      const b = new KyselyOutboxStore(t.connectAgain());
      for (let i = 0; i < 6; i++) await a.enqueue("t", { i });
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let startedA!: () => void;
      const aStarted = new Promise<void>((resolve) => {
        startedA = resolve;
      });
      const first = a.dispatchPending({ limit: 3 }, async () => {
        startedA();
        await held; // keeps the transaction and its row locks open
      });
      await aStarted;
      // Without SKIP LOCKED this would wait for relay A's locks, which wait for `held`.
      const second = await b.dispatchPending({ limit: 10 }, async () => {});
      release();
      const firstIds = (await first).map((m) => m.id);
      const secondIds = second.map((m) => m.id);
      expect(firstIds).toHaveLength(3);
      expect(secondIds).toHaveLength(3);
      expect(new Set([...firstIds, ...secondIds]).size).toBe(6);
      expect(await a.stats()).toMatchObject({ pending: 0, dispatched: 6 });
    } finally {
      await t.destroy();
    }
  });
});
