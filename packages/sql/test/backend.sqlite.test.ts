import { backendCases } from "./helpers/backend-cases.js";
import { createSqliteDatabase } from "./helpers/databases.js";

backendCases("SQLite file", createSqliteDatabase, false);
