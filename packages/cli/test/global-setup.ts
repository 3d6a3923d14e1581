import { ensureBuilt } from "@svc-jobs/test-servers";

// The tests run the real, built `svc-jobs` binary, so build it and what it imports
// first (the root `npm test` has done it already; this keeps
// `pnpm --filter @svc-jobs/cli test` honest on its own).
export function setup(): void {
  // Under CI the PostgreSQL cases must run against the server `.ci/run` / `scripts/test.mjs`
  // started: a missing PG_URL fails the run instead of starting (or skipping) a server here.
  if (process.env.CI === "true" && !process.env.PG_URL && !process.env.DATABASE_URL) {
    throw new Error(
      "CI=true but neither PG_URL nor DATABASE_URL is set: the @svc-jobs/cli PostgreSQL tests need the server scripts/test.mjs starts (or unset CI to let the tests start their own)",
    );
  }
  ensureBuilt("@svc-jobs/cli...");
}
