import { createSqliteDatabase } from "./helpers/databases.js";
import { model } from "./helpers/suites.js";

model("SQLite file", createSqliteDatabase, 100);
