// JOBS_DRIVER=sqlite: easyJobs() and the built `svc-jobs` binary on one SQLite file, shared
// by several processes.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { easyJobsIn, outcomes, runBin, startBin } from "./helpers.js";

const REGISTRY = "./test/fixtures/registry-handlers.mjs";
const work = mkdtempSync(path.join(tmpdir(), "svc-jobs-cli-sqlite-"));
let files = 0;

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** A new file in a folder that does not exist yet. */
function newFile(): string {
  return path.join(work, `case-${++files}`, "nested", "jobs.sqlite");
}

function env(file: string, extra: Record<string, string> = {}) {
  return { JOBS_DRIVER: "sqlite", JOBS_SQLITE_PATH: file, ...extra };
}

describe("easyJobs() with JOBS_DRIVER=sqlite", () => {
  it("creates the file and its folder, migrates it, and keeps jobs across close and reopen", async () => {
    const file = newFile();
    const out = await easyJobsIn("reopen", env(file));
    expect(out).toMatchObject({
      driver: "sqlite",
      prefix: "jobs",
      where: file,
      stats: { ready: 1, delayed: 1 },
      reserved: { sameId: true, payload: { to: "a@example.com" } },
      journalMode: "wal",
    });
  });

  it("JOBS_PREFIX names the queue: two prefixes are two queues in one file", async () => {
    const out = await easyJobsIn("prefixes", env(newFile()));
    expect(out).toEqual({ mailReserved: null, billingReserved: "charge" });
  });

  it("elects one scheduler leader among the processes of a file (a lease row); close hands it over", async () => {
    const out = await easyJobsIn("leader", env(newFile()));
    expect(out).toEqual({
      name: "jobs:scheduler",
      steps: [true, false, true],
      leading: [true, false],
      runs: ["a"],
      afterClose: true,
    });
  });

  it("a JOBS_SQLITE_PATH whose folder cannot be created is a ConfigError saying so", async () => {
    const blocker = path.join(work, "a-file");
    writeFileSync(blocker, "not a folder");
    const bad = path.join(blocker, "sub", "jobs.sqlite");
    const out = await easyJobsIn("open", env(bad));
    expect(out.error).toMatchObject({ name: "ConfigError", code: "ERR_JOBS_SQLITE_PATH" });
    expect(out.error.message).toContain(`its folder ${path.dirname(bad)} cannot be created`);
    expect(out.error.message).toContain("set JOBS_SQLITE_PATH to a file in a folder");
    const folder = await easyJobsIn("open", env(work));
    expect(folder.error?.message).toMatch(/is a folder/);
    const unknown = await easyJobsIn("unknown-option", env(newFile()));
    expect(unknown.error).toMatchObject({ name: "ConfigError" });
    expect(unknown.error.message).toContain("sqlitePath");
  });
});

describe("svc-jobs with JOBS_DRIVER=sqlite", () => {
  it("svc-jobs run processes jobs that svc-jobs enqueue adds from other processes, each once across two workers", async () => {
    const file = newFile();
    const workers = [1, 2].map(() =>
      startBin(["run", "--handlers", REGISTRY, "--poll-interval", "0.05"], env(file)),
    );
    for (const w of workers) await w.waitFor((b) => b.stdout.includes("worker started"), "start");
    const started = workers[0]!.logs().find((l) => l.msg === "worker started");
    expect(started).toMatchObject({ driver: "sqlite", prefix: "jobs", sqlitePath: file });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const added = await Promise.all(
        [0, 1].map((j) => runBin(["enqueue", "work", JSON.stringify({ n: i * 2 + j })], env(file))),
      );
      for (const out of added) {
        expect(out.stderr).toBe("");
        expect(out.code).toBe(0);
        ids.push(out.stdout.trim());
      }
    }
    const done = () => workers.flatMap((w) => outcomes(w, "completed"));
    await Promise.race(
      workers.map((w) => w.waitFor(() => done().length >= 6, "6 completed jobs", 20_000)),
    );
    for (const w of workers) expect(await w.stop("SIGTERM")).toBe(0);
    expect(
      done()
        .map((l) => l.jobId)
        .sort(),
    ).toEqual([...ids].sort());
    for (const w of workers) expect(w.stderr).toBe("");
  });

  it("the admin commands work on the file: enqueue, stats, jobs, dlq, limits, pause", async () => {
    const file = newFile();
    const e = env(file);
    expect((await runBin(["enqueue", "report", '{"day":1}'], e)).stdout.trim()).toBe("1");
    const dead = await runBin(["enqueue", "fragile", "{}", "--max-attempts", "1"], e);
    expect(dead.code).toBe(0);
    await runBin(["enqueue", "other", "{}", "--prefix", "billing"], e);

    // Fail the fragile job through the queue, as a worker would.
    const { failed } = await easyJobsIn("fail-second", e);
    expect(failed).toBe("2");

    const stats = await runBin(["stats", "--all", "--json"], e);
    expect(stats.stderr).toBe("");
    expect(JSON.parse(stats.stdout)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ prefix: "billing", ready: 1 }),
        expect.objectContaining({ prefix: "jobs", ready: 0, dlq: 1 }),
      ]),
    );
    const list = await runBin(["dlq", "list", "--json"], e);
    expect(list.code).toBe(0);
    expect(JSON.stringify(JSON.parse(list.stdout))).toContain("boom");
    const show = await runBin(["jobs", "show", failed, "--json"], e);
    expect(JSON.parse(show.stdout)).toMatchObject({ id: failed, state: "dead" });
    const requeue = await runBin(["dlq", "requeue", "--all"], e);
    expect(requeue.code, requeue.stderr).toBe(0);
    const count = await runBin(["jobs", "count", "--state", "ready", "--json"], e);
    expect(JSON.parse(count.stdout)).toMatchObject({ total: 1, byName: { fragile: 1 } });

    const limits = await runBin(["limits", "set", "--rate", "10/1", "--json"], e);
    expect(limits.code, limits.stderr).toBe(0);
    const shown = await runBin(["limits", "show", "--json"], e);
    expect(JSON.parse(shown.stdout)).toMatchObject({ rateLimit: { max: 10, perSeconds: 1 } });
    expect((await runBin(["pause"], e)).code).toBe(0);
    const paused = await runBin(["stats", "--json"], e);
    expect(JSON.parse(paused.stdout)).toEqual([expect.objectContaining({ paused: true })]);
    expect((await runBin(["resume"], e)).code).toBe(0);
  });

  it("--driver sqlite and --sqlite-path select the file without the environment", async () => {
    const file = newFile();
    const args = ["--driver", "sqlite", "--sqlite-path", file];
    expect((await runBin([...args, "enqueue", "x", "{}"], {})).code).toBe(0);
    const stats = await runBin([...args, "stats", "--json"], {});
    expect(JSON.parse(stats.stdout)).toEqual([
      expect.objectContaining({ prefix: "jobs", ready: 1 }),
    ]);
  });

  it("a bad JOBS_SQLITE_PATH is exit 2 with one line saying what to set", async () => {
    const blocker = path.join(work, "another-file");
    writeFileSync(blocker, "not a folder");
    const out = await runBin(["stats"], env(path.join(blocker, "x", "jobs.sqlite")));
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(
      /^svc-jobs: error: JOBS_SQLITE_PATH is ".*": its folder .* cannot be created .*set JOBS_SQLITE_PATH to a file in a folder this process can write/,
    );
  });

  it("svc-jobs dashboard serves the queues of the file", async () => {
    const file = newFile();
    expect(await easyJobsIn("enqueue", env(file))).toEqual({ id: "1" });
    const token = "cli-dashboard-token-0123456789";
    const bin = startBin(
      ["dashboard", "--port", "0"],
      env(file, { SVC_JOBS_DASHBOARD_TOKEN: token }),
    );
    await bin.waitFor((p) => /on http:\/\/127\.0\.0\.1:\d+\//.test(p.stdout), "the start line");
    const url = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(bin.stdout)![1]!;
    const res = await fetch(`${url}/api/queues`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject([{ name: "jobs", stats: { ready: 1 } }]);
    expect(await bin.stop("SIGTERM")).toBe(0);
    expect(bin.stderr).toBe("");
  });
});
