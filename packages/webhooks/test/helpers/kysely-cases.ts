import { ConfigError, JobValidationError } from "@svc-jobs/core";
import {
  KyselyInboxStore,
  KyselyOutboxStore,
  migrateWebhookTables,
  OUTBOX_TABLE,
} from "@svc-jobs/webhooks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createUsersTable, type TestDatabase } from "./databases.js";

/** What only the Kysely stores do: transactions, migrations, several connections. */
export function describeKyselyStores(name: string, create: () => Promise<TestDatabase>): void {
  describe(`${name}: Kysely stores`, () => {
    let t: TestDatabase;
    beforeEach(async () => {
      t = await create();
      await migrateWebhookTables(t.db);
      await createUsersTable(t.db);
    });
    afterEach(async () => {
      await t.destroy();
    });

    it("enqueue with { trx } commits and rolls back with the business change", async () => {
      const outbox = new KyselyOutboxStore(t.db);
      await t.db.transaction().execute(async (trx) => {
        await trx.insertInto("users").values({ id: 1, email: "a@example.com" }).execute();
        await outbox.enqueue("user.created", { user_id: 1 }, { trx });
      });
      const failure = new Error("business rule broke after the event was written");
      await expect(
        t.db.transaction().execute(async (trx) => {
          await trx.insertInto("users").values({ id: 2, email: "b@example.com" }).execute();
          await outbox.enqueue("user.created", { user_id: 2 }, { trx });
          throw failure;
        }),
      ).rejects.toBe(failure);
      const users = await t.db.selectFrom("users").select("id").execute();
      expect(users.map((u) => Number(u.id))).toEqual([1]);
      const rows = await t.db.selectFrom(OUTBOX_TABLE).select("payload").execute();
      expect(rows.map((r) => JSON.parse(r.payload))).toEqual([{ user_id: 1 }]);
    });

    it("enqueue rejects something that is not a transaction", async () => {
      const outbox = new KyselyOutboxStore(t.db);
      await expect(outbox.enqueue("t", {}, { trx: { query: () => {} } })).rejects.toBeInstanceOf(
        JobValidationError,
      );
      expect((await outbox.stats()).pending).toBe(0);
    });

    it("migrations run again without harm and detect the dialect", async () => {
      await migrateWebhookTables(t.db);
      await migrateWebhookTables(t.db, { dialect: t.dialect });
      const outbox = new KyselyOutboxStore(t.db);
      await outbox.enqueue("t", { ok: 1 });
      expect((await outbox.stats()).pending).toBe(1);
      expect(() => new KyselyOutboxStore(t.db, { dialect: "mysql" as never })).toThrow(ConfigError);
    });

    it("the inbox agrees across connections", async () => {
      const a = new KyselyInboxStore(t.db);
      const b = new KyselyInboxStore(t.connectAgain());
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).markIfNew("shared", 60)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await b.isMarked("shared")).toBe(true);
    });
  });
}
