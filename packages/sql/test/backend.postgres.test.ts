import { backendCases } from "./helpers/backend-cases.js";
import { createPostgresDatabase } from "./helpers/databases.js";

backendCases("PostgreSQL", createPostgresDatabase, true);
