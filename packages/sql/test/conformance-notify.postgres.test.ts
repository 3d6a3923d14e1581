import { createPostgresDatabase } from "./helpers/databases.js";
import { conformance } from "./helpers/suites.js";

// The whole suite again with LISTEN/NOTIFY wake-ups and a 5 s poll: the blocking and event
// cases pass on notifications, not on polling.
conformance("PostgreSQL, LISTEN/NOTIFY", createPostgresDatabase, { notify: true });
