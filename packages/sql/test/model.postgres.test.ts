import { createPostgresDatabase } from "./helpers/databases.js";
import { model } from "./helpers/suites.js";

model("PostgreSQL", createPostgresDatabase, 50);
