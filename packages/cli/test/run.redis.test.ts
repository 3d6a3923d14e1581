import { RedisJobQueue } from "@svc-jobs/redis";
import { freePort, uniquePrefix } from "@svc-jobs/test-servers";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { outcomes, runBin, startBin } from "./helpers.js";

const redis = redisFixture(Redis);

const REGISTRY = "./test/fixtures/registry-handlers.mjs";

function env(prefix: string, extra: Record<string, string> = {}) {
  return { JOBS_DRIVER: "redis", REDIS_URL: redis.url, JOBS_PREFIX: prefix, ...extra };
}

async function withQueue<T>(prefix: string, fn: (q: RedisJobQueue) => Promise<T>): Promise<T> {
  const queue = new RedisJobQueue(redis.client, { prefix });
  try {
    return await fn(queue);
  } finally {
    await queue.close();
  }
}

async function readyIds(prefix: string): Promise<string[]> {
  return redis.client.lrange(`${prefix}:ready`, 0, -1);
}

describe("svc-jobs run", () => {
  it("processes jobs with a JobRegistry module, logs one line per outcome, exits 0 on SIGTERM", async () => {
    const prefix = uniquePrefix("run");
    const ids = await withQueue(prefix, async (q) => {
      const jobs = await q.enqueueMany(
        Array.from({ length: 12 }, (_, i) => ({
          name: "work",
          payload: { ms: 5, secret: `s${i}` },
        })),
      );
      return jobs.map((j) => j.id);
    });
    const bin = startBin(["run", "--handlers", REGISTRY, "--concurrency", "3"], env(prefix));
    await bin.waitFor((b) => outcomes(b, "completed").length === 12, "12 completed jobs");
    expect(await bin.stop("SIGTERM")).toBe(0);

    const done = outcomes(bin, "completed");
    expect(done.map((l) => l.jobId).sort()).toEqual([...ids].sort());
    for (const line of done) {
      expect(line).toMatchObject({
        jobName: "work",
        attempts: 1,
        status: "completed",
        msg: "job completed",
      });
      expect(typeof line.durationMs).toBe("number");
    }
    // Payloads (and the secrets in them) stay out of the logs.
    expect(bin.stdout).not.toContain("s1");
    expect(bin.logs().at(-1)).toMatchObject({ msg: "worker stopped", processed: 12 });
    await withQueue(prefix, async (q) =>
      expect(await q.stats()).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 0 }),
    );
  });

  it("on SIGTERM hands back jobs still running after --grace: nothing is lost", async () => {
    const prefix = uniquePrefix("run-handback");
    const ids = await withQueue(prefix, async (q) => {
      const quick = await q.enqueueMany(
        Array.from({ length: 4 }, () => ({ name: "work", payload: { ms: 1 } })),
      );
      const slow = await q.enqueueMany(
        Array.from({ length: 6 }, () => ({ name: "work", payload: { ms: 60_000 } })),
      );
      return [...quick, ...slow].map((j) => j.id);
    });
    const bin = startBin(
      ["jobs", "run", "--handlers", REGISTRY, "--concurrency", "2", "--grace", "0.3"],
      env(prefix),
    );
    await bin.waitFor((b) => outcomes(b, "completed").length === 4, "the quick jobs");
    await withQueue(prefix, async (q) => {
      // Two slow jobs are in flight, four still wait.
      for (let i = 0; i < 50 && (await q.stats()).processing < 2; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect((await q.stats()).processing).toBe(2);
    });
    expect(await bin.stop("SIGTERM")).toBe(0);

    const completed = outcomes(bin, "completed").map((l) => l.jobId as string);
    const released = outcomes(bin, "released").map((l) => l.jobId as string);
    expect(released).toHaveLength(2);
    const waiting = await readyIds(prefix);
    expect([...completed, ...waiting].sort()).toEqual([...ids].sort());
    await withQueue(prefix, async (q) => {
      expect(await q.stats()).toMatchObject({ ready: 6, delayed: 0, processing: 0, dlq: 0 });
      // A handed-back job does not lose an attempt.
      const again = await q.reserveNext();
      expect(released).toContain(again?.id);
      expect(again?.attempts).toBe(1);
    });
  });

  it("on SIGTERM lets an in-flight job finish within the grace period", async () => {
    const prefix = uniquePrefix("run-finish");
    const [id] = await withQueue(prefix, async (q) => [(await q.enqueue("work", { ms: 800 })).id]);
    const bin = startBin(["run", "--handlers", REGISTRY, "--grace", "20"], env(prefix));
    await withQueue(prefix, async (q) => {
      for (let i = 0; i < 100 && (await q.stats()).processing < 1; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    expect(await bin.stop("SIGTERM")).toBe(0);
    expect(outcomes(bin).map((l) => [l.jobId, l.status])).toEqual([[id, "completed"]]);
    await withQueue(prefix, async (q) =>
      expect(await q.stats()).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 0 }),
    );
  });

  it("never acks a job it has no handler for: it fails, retries, then dead-letters", async () => {
    const prefix = uniquePrefix("run-unknown");
    await withQueue(prefix, async (q) => {
      await q.enqueue("mystery", {}, { maxAttempts: 1 });
      await q.enqueue("mystery", {}, { maxAttempts: 3, backoffSeconds: 600 });
    });
    const bin = startBin(["run", "--handlers", REGISTRY], env(prefix));
    await bin.waitFor((b) => outcomes(b, "failed").length === 2, "two failures");
    expect(await bin.stop()).toBe(0);
    const failed = outcomes(bin, "failed");
    expect(failed[0]).toMatchObject({ jobName: "mystery", dead: true });
    expect(failed[1]).toMatchObject({ jobName: "mystery", dead: false });
    expect(String(failed[0]?.err)).toMatch(/mystery/);
    await withQueue(prefix, async (q) => {
      expect(await q.stats()).toMatchObject({ ready: 0, delayed: 1, processing: 0, dlq: 1 });
      const [dead] = await q.dlq.list();
      expect(dead?.lastError).toMatch(/mystery/);
    });
  });

  it("--max-jobs exits 0 after that many jobs and leaves the rest queued", async () => {
    const prefix = uniquePrefix("run-max");
    await withQueue(prefix, (q) =>
      q.enqueueMany(Array.from({ length: 5 }, () => ({ name: "work", payload: {} }))),
    );
    const out = await runBin(["run", "--handlers", REGISTRY, "--max-jobs", "3"], env(prefix));
    expect(out.code).toBe(0);
    expect(out.stdout.split("\n").filter((l) => l.includes('"job completed"'))).toHaveLength(3);
    await withQueue(prefix, async (q) => expect((await q.stats()).ready).toBe(2));
  });

  it("runs a bare handler function module and retries its failures", async () => {
    const prefix = uniquePrefix("run-fn");
    await withQueue(prefix, async (q) => {
      await q.enqueue("anything", {});
      await q.enqueue("anything", { fail: "card declined" }, { backoffSeconds: 600 });
    });
    const bin = startBin(
      ["run", "--handlers", "./test/fixtures/function-handler.mjs"],
      env(prefix),
    );
    await bin.waitFor((b) => outcomes(b).length === 2, "two outcomes");
    expect(await bin.stop()).toBe(0);
    expect(outcomes(bin, "failed")[0]).toMatchObject({
      err: "card declined",
      dead: false,
      msg: "job failed; will retry",
    });
    await withQueue(prefix, async (q) =>
      expect(await q.stats()).toMatchObject({ delayed: 1, ready: 0 }),
    );
  });

  it("runs a { jobName: fn } handlers map", async () => {
    const prefix = uniquePrefix("run-map");
    await withQueue(prefix, async (q) => {
      await q.enqueue("greet", {});
      await q.enqueue("explode", {}, { maxAttempts: 1 });
    });
    const out = await runBin(
      ["run", "--handlers", "./test/fixtures/handlers-map.mjs", "--max-jobs", "2"],
      env(prefix),
    );
    expect(out.code).toBe(0);
    await withQueue(prefix, async (q) => {
      const [dead] = await q.dlq.list();
      expect(dead).toMatchObject({ name: "explode", lastError: "explode always fails" });
    });
  });

  it("applies JOB_DEFAULT_TIMEOUT_SECONDS: a job over it times out and is retried, not acked", async () => {
    const prefix = uniquePrefix("run-timeout");
    await withQueue(prefix, (q) => q.enqueue("work", { ms: 30_000 }, { backoffSeconds: 600 }));
    const bin = startBin(
      ["run", "--handlers", REGISTRY],
      env(prefix, { JOB_DEFAULT_TIMEOUT_SECONDS: "0.3" }),
    );
    // Only the worker times jobs out (the registry adds no timer), so this is a timeout.
    await bin.waitFor((b) => outcomes(b).length === 1, "an outcome");
    expect(await bin.stop()).toBe(0);
    const [outcome] = outcomes(bin);
    expect(outcome).toMatchObject({ status: "timeout", msg: "job timeout; will retry" });
    expect(String(outcome?.err)).toMatch(/timed out after 0.3s/);
    expect(outcome?.dead).toBe(false);
    await withQueue(prefix, async (q) =>
      expect(await q.stats()).toMatchObject({ delayed: 1, processing: 0 }),
    );
  });

  it("--timeout wins over JOB_DEFAULT_TIMEOUT_SECONDS: a registry job longer than the env default completes", async () => {
    const prefix = uniquePrefix("run-timeout-flag");
    await withQueue(prefix, (q) => q.enqueue("work", { ms: 2000 }, { maxAttempts: 1 }));
    const out = await runBin(
      ["run", "--handlers", REGISTRY, "--timeout", "5", "--max-jobs", "1"],
      env(prefix, { JOB_DEFAULT_TIMEOUT_SECONDS: "1" }),
    );
    expect(out.code).toBe(0);
    const lines = out.stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ msg: "worker started", timeoutSeconds: 5 });
    const settled = lines.filter((l) => typeof l.status === "string");
    expect(settled).toHaveLength(1);
    expect(settled[0]).toMatchObject({ jobName: "work", status: "completed" });
    expect(Number(settled[0]?.durationMs)).toBeGreaterThanOrEqual(1900);
    await withQueue(prefix, async (q) =>
      expect(await q.stats()).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 0 }),
    );
  });

  it("a registry job past --timeout is reported as a timeout of --timeout, not of the env default", async () => {
    const prefix = uniquePrefix("run-timeout-over");
    await withQueue(prefix, (q) => q.enqueue("work", { ms: 30_000 }, { backoffSeconds: 600 }));
    const bin = startBin(
      ["run", "--handlers", REGISTRY, "--timeout", "1"],
      env(prefix, { JOB_DEFAULT_TIMEOUT_SECONDS: "0.3" }),
    );
    await bin.waitFor((b) => outcomes(b).length === 1, "an outcome");
    expect(await bin.stop()).toBe(0);
    const [outcome] = outcomes(bin);
    expect(outcome).toMatchObject({ jobName: "work", status: "timeout", dead: false });
    expect(String(outcome?.err)).toMatch(/timed out after 1s/);
    expect(Number(outcome?.durationMs)).toBeGreaterThanOrEqual(900);
    await withQueue(prefix, async (q) =>
      expect(await q.stats()).toMatchObject({ delayed: 1, processing: 0 }),
    );
  });

  it("loads JOBS_SCHEDULE_JSON: scheduled jobs are enqueued (on the leader) and processed", async () => {
    const prefix = uniquePrefix("run-schedule");
    const schedule = JSON.stringify([
      { name: "tick", interval_seconds: 0.2, job_name: "work", payload: { ms: 1 } },
    ]);
    const bin = startBin(
      ["run", "--handlers", REGISTRY],
      env(prefix, { JOBS_SCHEDULE_JSON: schedule }),
    );
    await bin.waitFor((b) => outcomes(b, "completed").length >= 2, "two scheduled jobs processed");
    expect(await bin.stop()).toBe(0);
    expect(bin.logs()[0]).toMatchObject({ msg: "worker started", scheduledTasks: 1 });
  });

  it("with the memory driver runs scheduled jobs in one process", async () => {
    const schedule = JSON.stringify([{ name: "tick", interval_seconds: 0.1, job_name: "work" }]);
    const out = await runBin(["run", "--handlers", REGISTRY, "--max-jobs", "2"], {
      JOBS_SCHEDULE_JSON: schedule,
    });
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("memory driver: the queue lives inside this process");
    expect(out.stdout.split("\n").filter((l) => l.includes('"job completed"'))).toHaveLength(2);
  });

  it("--metrics-port serves /metrics, /healthz and /readyz", async () => {
    const prefix = uniquePrefix("run-metrics");
    await withQueue(prefix, async (q) => {
      await q.enqueue("work", {});
      await q.enqueue("later", {}, { delaySeconds: 600 });
    });
    const port = await freePort();
    const bin = startBin(
      ["run", "--handlers", REGISTRY, "--metrics-port", String(port)],
      env(prefix),
    );
    await bin.waitFor((b) => outcomes(b, "completed").length === 1, "one job");
    const base = `http://127.0.0.1:${port}`;
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/jobs_processed_total\{job_name="work",status="success"\} 1/);
    expect(metrics).toContain(`jobs_queue_size{queue="${prefix}",state="delayed"} 1`);
    expect(metrics).toContain(`jobs_queue_size{queue="${prefix}",state="dlq"} 0`);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(await bin.stop()).toBe(0);
  });
});
