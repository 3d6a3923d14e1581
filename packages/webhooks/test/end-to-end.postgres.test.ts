import { it } from "vitest";
import { createPostgresDatabase } from "./helpers/databases.js";
import { runEndToEnd } from "./helpers/end-to-end.js";

it("postgres: outbox to webhook, exactly once across a 500, a timeout and duplicate jobs", async () => {
  await runEndToEnd(createPostgresDatabase);
}, 30_000);
