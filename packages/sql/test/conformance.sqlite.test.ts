import { createSqliteDatabase } from "./helpers/databases.js";
import { conformance } from "./helpers/suites.js";

conformance("SQLite file", createSqliteDatabase);
