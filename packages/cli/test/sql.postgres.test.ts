// JOBS_DRIVER=postgres: easyJobs() and the built `svc-jobs` binary on a real PostgreSQL
// (PG_URL / DATABASE_URL, else one started on loopback), in a database of their own.
import { randomBytes } from "node:crypto";
import { usePostgres } from "@svc-jobs/test-servers";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { easyJobsIn, outcomes, runBin, startBin } from "./helpers.js";

const REGISTRY = "./test/fixtures/registry-handlers.mjs";
let server: { url: string; stop(): Promise<void> } | undefined;
let databaseUrl = "";
const database = `cli_${randomBytes(6).toString("hex")}`;

async function admin<T>(body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: server!.url });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  server = await usePostgres();
  await admin((c) => c.query(`CREATE DATABASE ${database}`));
  const url = new URL(server.url);
  url.pathname = `/${database}`;
  databaseUrl = url.toString();
});

afterAll(async () => {
  if (!server) return;
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  await server.stop();
});

let queues = 0;
/** The environment of a queue no other test uses. */
function env(extra: Record<string, string> = {}) {
  return {
    JOBS_DRIVER: "postgres",
    DATABASE_URL: databaseUrl,
    JOBS_PREFIX: `q${++queues}-${randomBytes(3).toString("hex")}`,
    ...extra,
  };
}

describe("easyJobs() with JOBS_DRIVER=postgres", () => {
  it("migrates at open and keeps jobs across close and reopen", async () => {
    const e = env();
    const out = await easyJobsIn("reopen", e);
    expect(out).toMatchObject({
      driver: "postgres",
      prefix: e.JOBS_PREFIX,
      stats: { ready: 1, delayed: 1 },
      reserved: { sameId: true, payload: { to: "a@example.com" } },
    });
    expect(out.where).toContain(`/${database}`);
  });

  it("the scheduler's leader is a PostgresLeader: one of two processes' schedulers fires, close hands over", async () => {
    const e = env();
    const out = await easyJobsIn("leader", e);
    expect(out).toEqual({
      name: `${e.JOBS_PREFIX}:scheduler`,
      steps: [true, false, true],
      leading: [true, false],
      runs: ["a"],
      afterClose: true,
    });
  });

  it("without DATABASE_URL, or with one that is not postgres://, is a ConfigError saying what to set", async () => {
    const missing = await easyJobsIn("open", { JOBS_DRIVER: "postgres" });
    expect(missing.error).toMatchObject({ name: "ConfigError", code: "ERR_DATABASE_URL" });
    expect(missing.error.message).toContain("JOBS_DRIVER=postgres needs DATABASE_URL");
    const bad = await runBin(["stats"], { JOBS_DRIVER: "postgres", DATABASE_URL: "mysql://x/y" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/DATABASE_URL must start with postgres:\/\/ or postgresql:\/\//);
  });
});

describe("svc-jobs with JOBS_DRIVER=postgres", () => {
  it("svc-jobs run processes jobs that svc-jobs enqueue adds from other processes", async () => {
    const e = env();
    const worker = startBin(["run", "--handlers", REGISTRY], e);
    await worker.waitFor((b) => b.stdout.includes("worker started"), "start");
    const started = worker.logs().find((l) => l.msg === "worker started");
    expect(started).toMatchObject({ driver: "postgres", prefix: e.JOBS_PREFIX });
    expect(String(started?.databaseUrl)).toContain(`/${database}`);
    const added = await Promise.all(
      [1, 2, 3].map((n) => runBin(["enqueue", "work", JSON.stringify({ n })], e)),
    );
    const ids = added.map((out) => {
      expect(out.stderr).toBe("");
      return out.stdout.trim();
    });
    await worker.waitFor((b) => outcomes(b, "completed").length === 3, "3 completed jobs");
    expect(await worker.stop("SIGTERM")).toBe(0);
    expect(
      outcomes(worker, "completed")
        .map((l) => l.jobId)
        .sort(),
    ).toEqual([...ids].sort());
    expect(worker.stderr).toBe("");
  });

  it("the admin commands work on the database: enqueue, stats --all, jobs, dlq, limits", async () => {
    const e = env();
    expect((await runBin(["enqueue", "report", "{}"], e)).stdout.trim()).toBe("1");
    expect((await runBin(["enqueue", "fragile", "{}", "--max-attempts", "1"], e)).code).toBe(0);
    const { failed } = await easyJobsIn("fail-second", e);
    const stats = await runBin(["stats", "--all", "--json"], e);
    expect(stats.stderr).toBe("");
    expect(JSON.parse(stats.stdout)).toEqual(
      expect.arrayContaining([expect.objectContaining({ prefix: e.JOBS_PREFIX, dlq: 1 })]),
    );
    const show = await runBin(["jobs", "show", failed, "--json"], e);
    expect(JSON.parse(show.stdout)).toMatchObject({ id: failed, state: "dead" });
    const list = await runBin(["dlq", "list", "--json"], e);
    expect(list.stdout).toContain("boom");
    expect((await runBin(["dlq", "requeue", failed], e)).code).toBe(0);
    const count = await runBin(["jobs", "count", "--state", "ready", "--json"], e);
    expect(JSON.parse(count.stdout)).toMatchObject({ total: 1, byName: { fragile: 1 } });
    expect((await runBin(["limits", "set", "--group-concurrency", "2"], e)).code).toBe(0);
    const limits = await runBin(["limits", "show", "--json"], e);
    expect(JSON.parse(limits.stdout)).toMatchObject({ groupLimits: { concurrency: 2 } });
  });
});
