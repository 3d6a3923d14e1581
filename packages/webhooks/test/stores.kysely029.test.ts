// The stores and migrations on a Kysely 0.29 instance. In the default test project the
// package itself resolves Kysely 0.28 (its devDependency), so the instance comes from a
// second copy of another version, as when an application brings its own Kysely. In the
// "kysely-0.29" project "kysely" is aliased to 0.29 everywhere: one copy, as a user on
// kysely 0.29 installs it.
import { KyselyInboxStore, KyselyOutboxStore, migrateWebhookTables } from "@svc-jobs/webhooks";
import * as packageKysely from "kysely";
import * as kysely029 from "kysely029";
import { describe, expect, inject, it } from "vitest";
import { resolveDialect } from "../src/webhook-tables.js";
import { createPostgresDatabase, createSqliteDatabase } from "./helpers/databases.js";
import { describeDialectDetection } from "./helpers/dialect-cases.js";
import { describeKyselyStores } from "./helpers/kysely-cases.js";
import { describeStores } from "./helpers/store-cases.js";

const lane = inject("kyselyCopies");

describe("kysely 0.29 test lane", () => {
  it(`the package's Kysely and the test's are ${lane === "one" ? "one copy" : "two copies"}`, () => {
    expect(packageKysely.Kysely === kysely029.Kysely).toBe(lane === "one");
    const db = new kysely029.Kysely({
      dialect: new kysely029.PostgresDialect({ pool: {} as never }),
    });
    expect(db.getExecutor().adapter instanceof packageKysely.PostgresAdapter).toBe(lane === "one");
  });
});

describeDialectDetection("kysely 0.29", kysely029);

describe("kysely 0.29: dialects new in 0.29", () => {
  it("PGlite is PostgreSQL", async () => {
    const db = new kysely029.Kysely({
      dialect: new kysely029.PGliteDialect({ pglite: {} as never }),
    });
    expect(resolveDialect(db, undefined)).toBe("postgres");
    await db.destroy();
  });
});

describeStores("sqlite, kysely 0.29", async (clock) => {
  const t = await createSqliteDatabase(kysely029);
  await migrateWebhookTables(t.db);
  return {
    outbox: new KyselyOutboxStore(t.db, { clock }),
    inbox: new KyselyInboxStore(t.db, { clock }),
    destroy: () => t.destroy(),
  };
});

describeKyselyStores("sqlite, kysely 0.29", () => createSqliteDatabase(kysely029));

describeStores("postgres, kysely 0.29", async (clock) => {
  const t = await createPostgresDatabase(kysely029);
  await migrateWebhookTables(t.db);
  return {
    outbox: new KyselyOutboxStore(t.db, { clock }),
    inbox: new KyselyInboxStore(t.db, { clock }),
    destroy: () => t.destroy(),
  };
});

describeKyselyStores("postgres, kysely 0.29", () => createPostgresDatabase(kysely029));
