import * as kysely from "kysely";
import { expect, it } from "vitest";
import { createSqliteDatabase } from "./helpers/databases.js";
import { conformance } from "./helpers/suites.js";

// The suite on a SQLite file with kysely 0.29 (the project aliases "kysely" to it).
it("runs on kysely 0.29 (which exports Migrator only from kysely/migration)", () => {
  expect((kysely as Record<string, unknown>).Migrator).toBeUndefined();
});

conformance("SQLite file, kysely 0.29", createSqliteDatabase);
