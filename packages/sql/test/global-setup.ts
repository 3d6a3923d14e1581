// Under CI the PostgreSQL suites must run against the server `.ci/run` / `scripts/test.mjs`
// started: a missing PG_URL fails the run instead of starting (or skipping) a server here.
export default function setup(): void {
  if (process.env.CI === "true" && !process.env.PG_URL && !process.env.DATABASE_URL) {
    throw new Error(
      "CI=true but neither PG_URL nor DATABASE_URL is set: the @svc-jobs/sql PostgreSQL suites need the server scripts/test.mjs starts (or unset CI to let the tests start their own)",
    );
  }
}
