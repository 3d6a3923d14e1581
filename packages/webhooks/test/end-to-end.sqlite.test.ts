import { it } from "vitest";
import { createSqliteDatabase } from "./helpers/databases.js";
import { runEndToEnd } from "./helpers/end-to-end.js";

it("sqlite: outbox to webhook, exactly once across a 500, a timeout and duplicate jobs", async () => {
  await runEndToEnd(createSqliteDatabase);
}, 30_000);
