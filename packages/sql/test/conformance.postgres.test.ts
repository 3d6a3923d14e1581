import { createPostgresDatabase } from "./helpers/databases.js";
import { conformance } from "./helpers/suites.js";

conformance("PostgreSQL", createPostgresDatabase);
