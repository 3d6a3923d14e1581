import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { KyselyInboxStore, KyselyOutboxStore, migrateWebhookTables } from "@svc-jobs/webhooks";
import { describe, expect, it } from "vitest";
import { createSqliteDatabase } from "./helpers/databases.js";
import { describeKyselyStores } from "./helpers/kysely-cases.js";
import { describeStores } from "./helpers/store-cases.js";

describeStores("sqlite", async (clock) => {
  const t = await createSqliteDatabase();
  await migrateWebhookTables(t.db);
  return {
    outbox: new KyselyOutboxStore(t.db, { clock }),
    inbox: new KyselyInboxStore(t.db, { clock }),
    destroy: () => t.destroy(),
  };
});

describeKyselyStores("sqlite", createSqliteDatabase);

describe("sqlite: several relays", () => {
  it("relays in separate processes never share a message", async () => {
    const t = await createSqliteDatabase();
    try {
      await migrateWebhookTables(t.db);
      const outbox = new KyselyOutboxStore(t.db);
      for (let i = 0; i < 60; i++) await outbox.enqueue("t", { i });
      const relay = fileURLToPath(new URL("./fixtures/sqlite-relay.ts", import.meta.url));
      const runs = await Promise.all(
        [1, 2, 3].map(() =>
          run(process.execPath, [
            "--import",
            "tsx",
            "--conditions=@svc-jobs/source",
            relay,
            t.file,
          ]),
        ),
      );
      const seen = runs.flatMap((out) => JSON.parse(out) as string[]);
      expect(seen).toHaveLength(60);
      expect(new Set(seen).size).toBe(60);
      expect(await outbox.stats()).toMatchObject({ pending: 0, dispatched: 60 });
    } finally {
      await t.destroy();
    }
  }, 60_000);
});

const packageDir = fileURLToPath(new URL("..", import.meta.url));

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: packageDir, timeout: 50_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}
