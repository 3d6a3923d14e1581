import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ensureBuilt } from "@svc-jobs/test-servers";

// The chaos and CLI tests run the built `svc-jobs` binary, and the SQL chaos workers the
// built @svc-jobs/sql: build them (and what they import) when running this package alone;
// the root `npm test` has built them already.
export function setup(): void {
  ensureBuilt("@svc-jobs/cli...");
  ensureBuilt("@svc-jobs/sql...");
  // The PostgreSQL chaos run restarts its database, so it starts a private server from the
  // PostgreSQL binaries (never the shared PG_URL). Under CI their absence fails the run
  // here instead of failing (or being skipped) later.
  if (process.env.CI === "true" && !postgresBinariesFound()) {
    throw new Error(
      "CI=true but PostgreSQL's initdb was not found (PG_BIN_DIR, /usr/lib/postgresql/*/bin or PATH): the SQL chaos run starts and restarts its own server; install postgresql (scripts/test.mjs does) or set PG_BIN_DIR",
    );
  }
}

function postgresBinariesFound(): boolean {
  const dirs = [process.env.PG_BIN_DIR, ...(process.env.PATH ?? "").split(":")];
  try {
    for (const v of readdirSync("/usr/lib/postgresql")) dirs.push(`/usr/lib/postgresql/${v}/bin`);
  } catch {}
  return dirs.some((dir) => dir && existsSync(join(dir, "initdb")));
}
