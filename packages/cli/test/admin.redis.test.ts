import { RedisJobQueue } from "@svc-jobs/redis";
import { uniquePrefix } from "@svc-jobs/test-servers";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { runBin, startBin } from "./helpers.js";

const redis = redisFixture(Redis);

function env(prefix: string) {
  return { JOBS_DRIVER: "redis", REDIS_URL: redis.url, JOBS_PREFIX: prefix };
}

/** Puts `count` jobs in the DLQ of `prefix`, each failed once with its own message. */
async function deadJobs(prefix: string, count: number): Promise<string[]> {
  const queue = new RedisJobQueue(redis.client, { prefix });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const job = await queue.enqueue(`task_${i}`, { i }, { maxAttempts: 1 });
    const reserved = await queue.reserveNext();
    expect(reserved?.id).toBe(job.id);
    await queue.fail(reserved!, new Error(`boom ${i}`));
    ids.push(job.id);
  }
  await queue.close();
  return ids;
}

async function statsOf(prefix: string) {
  const queue = new RedisJobQueue(redis.client, { prefix });
  const stats = await queue.stats();
  await queue.close();
  return stats;
}

describe("svc-jobs enqueue", () => {
  it("validates the JSON, enqueues and prints the job id", async () => {
    const prefix = uniquePrefix("enqueue");
    const first = await runBin(["enqueue", "send_email", '{"to":"a@example.com"}'], env(prefix));
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const second = await runBin(["enqueue", "send_email", '{"to":"b@example.com"}'], env(prefix));
    expect(second.stdout.trim()).toBe(String(Number(first.stdout.trim()) + 1));

    const queue = new RedisJobQueue(redis.client, { prefix });
    const job = await queue.reserveNext();
    expect(job).toMatchObject({
      id: first.stdout.trim(),
      name: "send_email",
      payload: { to: "a@example.com" },
    });
    await queue.close();
  });

  it("--delay makes the job delayed; --max-attempts and --json carry through", async () => {
    const prefix = uniquePrefix("enqueue-delay");
    const out = await runBin(
      [
        "enqueue",
        "report",
        '{"day":"2025-01-15"}',
        "--delay",
        "300",
        "--max-attempts",
        "2",
        "--json",
      ],
      env(prefix),
    );
    expect(out.code).toBe(0);
    const job = JSON.parse(out.stdout) as { id: string; maxAttempts: number; availableAt: string };
    expect(job.maxAttempts).toBe(2);
    expect(new Date(job.availableAt).getTime()).toBeGreaterThan(Date.now() + 200_000);
    expect(await statsOf(prefix)).toMatchObject({ ready: 0, delayed: 1, processing: 0, dlq: 0 });
  });

  it.each([
    ["malformed JSON", ["enqueue", "x", "{not json"], /payload is not valid JSON/],
    ["a JSON array", ["enqueue", "x", "[1,2]"], /payload must be a plain JSON object/],
    ["a JSON string", ["enqueue", "x", '"hi"'], /payload must be a plain JSON object/],
    ["an empty name", ["enqueue", "", "{}"], /job name must be a non-empty string/],
    [
      "a negative delay",
      ["enqueue", "x", "{}", "--delay", "-5"],
      /--delay must be a number of seconds >= 0/,
    ],
    ["a missing payload", ["enqueue", "x"], /missing required argument 'json'/],
  ])("refuses %s with one line, exit 2, and enqueues nothing", async (_what, args, message) => {
    const prefix = uniquePrefix("enqueue-bad");
    const out = await runBin(args, env(prefix));
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(message);
    expect(out.stderr.trim().split("\n")).toHaveLength(1);
    expect(out.stdout).toBe("");
    expect(await statsOf(prefix)).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 0 });
  });
});

describe("svc-jobs stats", () => {
  it("shows ready, delayed, processing and DLQ counts per prefix", async () => {
    const a = uniquePrefix("stats-a");
    const b = uniquePrefix("stats-b");
    const qa = new RedisJobQueue(redis.client, { prefix: a });
    await qa.enqueue("one", {});
    await qa.enqueue("two", {});
    await qa.enqueue("later", {}, { delaySeconds: 600 });
    await qa.enqueue("busy", {});
    await qa.close();
    await deadJobs(b, 1);
    const qb = new RedisJobQueue(redis.client, { prefix: b });
    await qb.enqueue("x", {});
    await qb.enqueue("y", {});
    await qb.reserveNext(); // "x" is processing now
    await qb.close();

    const json = await runBin(["stats", "--prefix", `${a},${b}`, "--json"], env("unused"));
    expect(json.code).toBe(0);
    const idle = { completed: 0, cancelled: 0, paused: false };
    expect(JSON.parse(json.stdout)).toEqual([
      { prefix: a, ready: 3, delayed: 1, processing: 0, dlq: 0, ...idle },
      { prefix: b, ready: 1, delayed: 0, processing: 1, dlq: 1, ...idle },
    ]);

    const table = await runBin(["stats", "--prefix", `${a},${b}`], env("unused"));
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]?.split(/\s+/)).toEqual([
      "prefix",
      "ready",
      "delayed",
      "processing",
      "dlq",
      "completed",
      "cancelled",
      "paused",
    ]);
    expect(lines[1]?.split(/\s+/)).toEqual([a, "3", "1", "0", "0", "0", "0", "no"]);
    expect(lines[2]?.split(/\s+/)).toEqual([b, "1", "0", "1", "1", "0", "0", "no"]);
  });

  it("--all finds every prefix in Redis", async () => {
    const a = uniquePrefix("stats-all");
    const q = new RedisJobQueue(redis.client, { prefix: a });
    await q.enqueue("one", {});
    await q.close();
    const out = await runBin(["stats", "--all", "--json"], env(uniquePrefix("none")));
    const rows = JSON.parse(out.stdout) as { prefix: string; ready: number }[];
    expect(rows.find((r) => r.prefix === a)).toMatchObject({ ready: 1 });
  });

  it("--watch refreshes live until SIGINT and exits 0", async () => {
    const prefix = uniquePrefix("stats-watch");
    const bin = startBin(["stats", "--watch", "--interval", "0.2", "--json"], env(prefix));
    const rows = () =>
      bin.stdout
        .split("\n")
        .filter((l) => l.startsWith("["))
        .map((l) => (JSON.parse(l) as { ready: number }[])[0]?.ready);
    await bin.waitFor(() => rows().includes(0), "a first refresh");
    const q = new RedisJobQueue(redis.client, { prefix });
    await q.enqueue("one", {});
    await q.enqueue("two", {});
    await q.close();
    await bin.waitFor(() => rows().includes(2), "a refresh that sees 2 ready jobs");
    expect(await bin.stop("SIGINT")).toBe(0);
  });
});

describe("svc-jobs dlq", () => {
  it("list shows id, name, attempts and last error", async () => {
    const prefix = uniquePrefix("dlq-list");
    const ids = await deadJobs(prefix, 3);
    const out = await runBin(["dlq", "list"], env(prefix));
    expect(out.code).toBe(0);
    const lines = out.stdout.trim().split("\n");
    expect(lines[0]?.split(/\s+/)).toEqual(["id", "name", "attempts", "last_error"]);
    expect(lines[1]?.split(/\s+/)).toEqual([ids[0], "task_0", "1/1", "boom", "0"]);
    expect(lines[3]?.split(/\s+/)).toEqual([ids[2], "task_2", "1/1", "boom", "2"]);

    const limited = await runBin(["dlq", "list", "--limit", "2", "--json"], env(prefix));
    expect(JSON.parse(limited.stdout)).toEqual([
      expect.objectContaining({ id: ids[0], name: "task_0", attempts: 1, lastError: "boom 0" }),
      expect.objectContaining({ id: ids[1], name: "task_1", attempts: 1, lastError: "boom 1" }),
    ]);
  });

  it("requeue <id> moves one job back to ready with attempts reset", async () => {
    const prefix = uniquePrefix("dlq-requeue");
    const ids = await deadJobs(prefix, 2);
    const out = await runBin(["dlq", "requeue", ids[1]!], env(prefix));
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(new RegExp(`requeued job ${ids[1]}`));
    expect(await statsOf(prefix)).toMatchObject({ ready: 1, delayed: 0, processing: 0, dlq: 1 });
    const queue = new RedisJobQueue(redis.client, { prefix });
    const job = await queue.reserveNext();
    expect(job?.id).toBe(ids[1]);
    // Reset to 0, then counted once by this reserve.
    expect(job?.attempts).toBe(1);
    await queue.close();
  });

  it("requeue --all moves every dead job back", async () => {
    const prefix = uniquePrefix("dlq-requeue-all");
    await deadJobs(prefix, 3);
    const out = await runBin(["dlq", "requeue", "--all"], env(prefix));
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/requeued 3 dead job/);
    expect(await statsOf(prefix)).toMatchObject({ ready: 3, delayed: 0, processing: 0, dlq: 0 });
  });

  it("requeue of an id not in the DLQ, or without id and --all, fails and changes nothing", async () => {
    const prefix = uniquePrefix("dlq-requeue-bad");
    await deadJobs(prefix, 1);
    const missing = await runBin(["dlq", "requeue", "999"], env(prefix));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/job "999" is not in the DLQ/);
    const neither = await runBin(["dlq", "requeue"], env(prefix));
    expect(neither.code).toBe(2);
    expect(neither.stderr).toMatch(/a job id or --all/);
    expect(await statsOf(prefix)).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 1 });
  });

  it("purge needs --yes, then deletes every dead job", async () => {
    const prefix = uniquePrefix("dlq-purge");
    await deadJobs(prefix, 2);
    const refused = await runBin(["dlq", "purge"], env(prefix));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/deletes all 2 dead job.*--yes/);
    expect((await statsOf(prefix)).dlq).toBe(2);

    const out = await runBin(["dlq", "purge", "--yes"], env(prefix));
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/purged 2 dead job/);
    expect(await statsOf(prefix)).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 0 });
    const empty = await runBin(["dlq", "list"], env(prefix));
    expect(empty.stdout).toMatch(/is empty/);
  });
});
