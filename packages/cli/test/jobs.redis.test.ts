import { RedisJobQueue } from "@svc-jobs/redis";
import { uniquePrefix } from "@svc-jobs/test-servers";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { runBin, startBin } from "./helpers.js";

// The binary's "Seeing and controlling jobs" commands (docs/contract.md) on a real Redis.

const redis = redisFixture(Redis);

function env(prefix: string) {
  return { JOBS_DRIVER: "redis", REDIS_URL: redis.url, JOBS_PREFIX: prefix };
}

async function withQueue<T>(
  prefix: string,
  body: (queue: RedisJobQueue) => Promise<T>,
): Promise<T> {
  const queue = new RedisJobQueue(redis.client, { prefix });
  try {
    return await body(queue);
  } finally {
    await queue.close();
  }
}

/** Puts a job of `name` in the DLQ of `prefix`, failed once with `error`. */
function deadJob(prefix: string, name: string, error: string): Promise<string> {
  return withQueue(prefix, async (queue) => {
    const job = await queue.enqueue(name, { n: 1 }, { maxAttempts: 1 });
    const reserved = await queue.reserveNext();
    expect(reserved?.id).toBe(job.id);
    await queue.fail(reserved!, new Error(error));
    return job.id;
  });
}

interface ListedJob {
  id: string;
  name: string;
  state: string;
  createdAt: string;
  lastError: string | null;
}

describe("svc-jobs jobs list", () => {
  it("pages with --cursor, prints a table and the next cursor, and --json { jobs, cursor }", async () => {
    const prefix = uniquePrefix("jobs-list");
    const ids = await withQueue(prefix, async (queue) => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await queue.enqueue(`task_${i % 2}`, { i })).id);
      return ids;
    });
    const first = await runBin(
      ["jobs", "list", "--state", "ready", "--limit", "2", "--json"],
      env(prefix),
    );
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const page1 = JSON.parse(first.stdout) as { jobs: ListedJob[]; cursor: string | null };
    expect(page1.jobs.map((j) => j.id)).toEqual(ids.slice(0, 2));
    expect(page1.jobs[0]).toMatchObject({
      name: "task_0",
      state: "ready",
      createdAt: expect.stringMatching(/Z$/),
    });
    expect(page1.cursor).toEqual(expect.any(String));

    const second = await runBin(
      ["jobs", "list", "--state", "ready", "--limit", "2", "--cursor", page1.cursor!],
      env(prefix),
    );
    expect(second.code).toBe(0);
    const lines = second.stdout.trimEnd().split("\n");
    expect(lines[0]?.split(/\s+/)).toEqual([
      "id",
      "name",
      "state",
      "attempts",
      "priority",
      "group",
      "created",
      "available",
      "finished",
      "last_error",
    ]);
    expect(lines[1]?.split(/\s+/).slice(0, 5)).toEqual([ids[2], "task_0", "ready", "0/5", "0"]);
    expect(lines[2]?.split(/\s+/)[0]).toBe(ids[3]);
    const cursor = /next page: --cursor (\S+)$/.exec(lines[3] ?? "")?.[1];
    expect(cursor).toBeDefined();

    const last = await runBin(
      ["jobs", "list", "--state", "ready", "--limit", "2", "--cursor", cursor!, "--json"],
      env(prefix),
    );
    expect(JSON.parse(last.stdout)).toEqual({
      jobs: [expect.objectContaining({ id: ids[4] })],
      cursor: null,
    });

    const all = await runBin(
      ["jobs", "list", "--state", "ready", "--name", "task_1", "--all", "--json"],
      env(prefix),
    );
    expect(JSON.parse(all.stdout)).toEqual({
      jobs: [expect.objectContaining({ id: ids[1] }), expect.objectContaining({ id: ids[3] })],
      cursor: null,
    });
  });

  it("dead jobs show their last error, cut to one line in the table", async () => {
    const prefix = uniquePrefix("jobs-list-dead");
    const id = await deadJob(prefix, "resize", `disk full\n${"x".repeat(200)}`);
    const out = await runBin(["jobs", "list", "--state", "dead"], env(prefix));
    expect(out.code).toBe(0);
    const row = out.stdout.split("\n")[1] ?? "";
    expect(row.split(/\s+/).slice(0, 4)).toEqual([id, "resize", "dead", "1/1"]);
    expect(row).toMatch(/disk full x+…$/);
    expect(out.stdout).toMatch(/1 dead job\(s\) in ".*" \(last page\)/);
  });

  it("a bad --cursor is exit 2 with one line", async () => {
    const out = await runBin(
      ["jobs", "list", "--state", "ready", "--cursor", "bogus"],
      env(uniquePrefix("jobs-cursor")),
    );
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(
      /^svc-jobs: error: --cursor "bogus" is not a cursor of a "ready" page/,
    );
  });
});

describe("svc-jobs jobs show", () => {
  it("prints the whole job with its payload; --json; exit 1 for an unknown id", async () => {
    const prefix = uniquePrefix("jobs-show");
    const id = await withQueue(
      prefix,
      async (queue) =>
        (await queue.enqueue("send_email", { to: "a@example.com" }, { priority: 7 })).id,
    );
    const text = await runBin(["jobs", "show", id], env(prefix));
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^state:\s+ready$/m);
    expect(text.stdout).toMatch(/^priority:\s+7$/m);
    expect(text.stdout).toMatch(/^payload:\s+\{\n\s+"to": "a@example.com"\n\s+\}$/m);

    const json = await runBin(["jobs", "show", id, "--json"], env(prefix));
    expect(JSON.parse(json.stdout)).toMatchObject({
      id,
      name: "send_email",
      state: "ready",
      priority: 7,
      payload: { to: "a@example.com" },
      finishedAt: null,
    });

    const missing = await runBin(["jobs", "show", "424242"], env(prefix));
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toMatch(/^svc-jobs: error: job "424242" not found in ".*"/);
  });
});

describe("svc-jobs jobs cancel and retry", () => {
  it("cancel succeeds once; again, or for a dead job, it is exit 1 saying why", async () => {
    const prefix = uniquePrefix("jobs-cancel");
    const id = await withQueue(prefix, async (queue) => (await queue.enqueue("report", {})).id);
    const ok = await runBin(["jobs", "cancel", id, "--reason", "not needed"], env(prefix));
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(`cancelled job ${id}`);
    expect(await withQueue(prefix, (q) => q.stats())).toMatchObject({ ready: 0 });

    const again = await runBin(["jobs", "cancel", id], env(prefix));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/nothing cancelled: job .* not found/);

    const dead = await deadJob(prefix, "broken", "boom");
    const deadOut = await runBin(["jobs", "cancel", dead, "--json"], env(prefix));
    expect(deadOut.code).toBe(1);
    expect(deadOut.stderr).toMatch(/nothing cancelled: .* it is dead, in the DLQ/);
  });

  it("cancel of a running job says so; a kept completed job shows its result and is not cancelled", async () => {
    const prefix = uniquePrefix("jobs-finished");
    const worker = new RedisJobQueue(redis.client, { prefix, keepCompleted: true });
    try {
      const running = await worker.enqueue("long", {});
      const done = await worker.enqueue("short", { n: 2 });
      const first = await worker.reserveNext();
      expect(first?.id).toBe(running.id);
      const second = await worker.reserveNext();
      await worker.ack(second!, { result: { sent: 2 } });

      const cancel = await runBin(["jobs", "cancel", running.id, "--json"], env(prefix));
      expect(cancel.code).toBe(0);
      expect(JSON.parse(cancel.stdout)).toEqual({
        id: running.id,
        cancelled: true,
        previousState: "processing",
        reason: null,
      });
      expect(await worker.checkReservations([first!])).toEqual([
        { id: running.id, status: "cancelled", reason: null },
      ]);

      const show = await runBin(["jobs", "show", done.id], env(prefix));
      expect(show.code).toBe(0);
      expect(show.stdout).toMatch(/^state:\s+completed$/m);
      expect(show.stdout).toMatch(/^result:\s+\{\n\s+"sent": 2\n\s+\}$/m);
      expect(show.stdout).toMatch(/^finished:\s+\d{4}-.*Z$/m);
      const list = await runBin(["jobs", "list", "--state", "completed", "--json"], env(prefix));
      expect(JSON.parse(list.stdout)).toEqual({
        jobs: [
          expect.objectContaining({
            id: done.id,
            result: { sent: 2 },
            finishedAt: expect.stringMatching(/Z$/),
          }),
        ],
        cursor: null,
      });

      const again = await runBin(["jobs", "cancel", done.id], env(prefix));
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/nothing cancelled: job \d+ in ".*" it is already completed/);
    } finally {
      await worker.close();
    }
  });

  it("retry moves a dead job back to ready; a job that is not dead is exit 1", async () => {
    const prefix = uniquePrefix("jobs-retry");
    const dead = await deadJob(prefix, "broken", "boom");
    const out = await runBin(["jobs", "retry", dead], env(prefix));
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(`requeued job ${dead}`);
    expect(await withQueue(prefix, (q) => q.stats())).toMatchObject({ ready: 1, dlq: 0 });

    const notDead = await runBin(["jobs", "retry", dead], env(prefix));
    expect(notDead.code).toBe(1);
    expect(notDead.stderr).toMatch(/is ready, not dead/);
  });

  it("count gives the jobs of each name in a state", async () => {
    const prefix = uniquePrefix("jobs-count");
    await withQueue(prefix, async (queue) => {
      await queue.enqueue("a", {});
      await queue.enqueue("b", {});
      await queue.enqueue("b", {});
    });
    const out = await runBin(["jobs", "count", "--state", "ready", "--json"], env(prefix));
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual({ state: "ready", total: 3, byName: { a: 1, b: 2 } });
  });
});

describe("svc-jobs pause and resume", () => {
  it("print the new state, which stats shows", async () => {
    const prefix = uniquePrefix("pause");
    const paused = await runBin(["pause"], env(prefix));
    expect(paused.code).toBe(0);
    expect(paused.stdout).toMatch(/is paused/);
    const stats = await runBin(["stats", "--json"], env(prefix));
    expect(JSON.parse(stats.stdout)).toEqual([expect.objectContaining({ prefix, paused: true })]);
    expect(await withQueue(prefix, (q) => q.isPaused())).toBe(true);

    const resumed = await runBin(["resume", "--json"], env(prefix));
    expect(JSON.parse(resumed.stdout)).toEqual({ prefix, paused: false });
    const table = await runBin(["stats"], env(prefix));
    expect(table.stdout.split("\n")[1]?.split(/\s+/).at(-1)).toBe("no");
  });
});

describe("svc-jobs pause and a worker", () => {
  it("a running worker takes nothing while paused, and the job once resumed", async () => {
    const prefix = uniquePrefix("pause-worker");
    expect((await runBin(["pause"], env(prefix))).code).toBe(0);
    const worker = startBin(
      ["run", "--handlers", "./test/fixtures/registry-handlers.mjs", "--max-jobs", "1"],
      env(prefix),
    );
    try {
      await worker.waitFor((b) => b.stdout.includes("worker started"), "the worker to start");
      const id = (await runBin(["enqueue", "work", "{}"], env(prefix))).stdout.trim();
      await new Promise((r) => setTimeout(r, 1500));
      const waiting = await runBin(["jobs", "show", id, "--json"], env(prefix));
      expect(JSON.parse(waiting.stdout)).toMatchObject({ id, state: "ready", attempts: 0 });

      expect((await runBin(["resume"], env(prefix))).code).toBe(0);
      expect(await worker.exited).toBe(0);
      expect(await withQueue(prefix, (q) => q.stats())).toMatchObject({ ready: 0, paused: false });
    } finally {
      await worker.stop();
    }
  });
});

describe("svc-jobs events", () => {
  it("--follow prints events made by another connection, then exits 0 on SIGINT", async () => {
    const prefix = uniquePrefix("events");
    const bin = startBin(["events", "--follow", "--json"], env(prefix));
    const lines = () =>
      bin.stdout
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as { id: string; type: string; jobId: string; reason?: string });
    // The stream starts with the next event: enqueue a warm-up job until the command shows one.
    const id = await withQueue(prefix, async (queue) => {
      const deadline = Date.now() + 15_000;
      while (lines().length === 0 && Date.now() < deadline) {
        await queue.enqueue("warm_up", {});
        await new Promise((r) => setTimeout(r, 200));
      }
      const job = await queue.enqueue("send_email", {});
      await queue.cancel(job.id, { reason: "oops" });
      return job.id;
    });
    const events = () => lines().filter((e) => e.jobId === id || e.type !== "enqueued");
    await bin.waitFor(() => events().length >= 2, "two events");
    expect(events().map((e) => [e.type, e.jobId])).toEqual([
      ["enqueued", id],
      ["cancelled", id],
    ]);
    expect(events()[1]?.reason).toBe("oops");
    expect(await bin.stop("SIGINT")).toBe(0);
    expect(bin.stderr).toBe("");

    // Without --follow, --after prints what is held after that event and exits.
    const held = await runBin(["events", "--after", events()[0]!.id], env(prefix));
    expect(held.code).toBe(0);
    expect(held.stdout.trimEnd().split("\n")).toEqual([
      expect.stringMatching(new RegExp(`cancelled\\s+job ${id}  send_email  reason="oops"$`)),
    ]);
  });

  it("an --after that is not an event id is exit 2", async () => {
    const out = await runBin(["events", "--after", "yesterday"], env(uniquePrefix("events-bad")));
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/^svc-jobs: error: --after "yesterday" is not an event id/);
  });

  it("--follow also exits 0 on SIGTERM", async () => {
    const prefix = uniquePrefix("events-term");
    const bin = startBin(["events", "--follow"], env(prefix));
    await withQueue(prefix, async (queue) => {
      const deadline = Date.now() + 15_000;
      while (!bin.stdout.includes("enqueued") && Date.now() < deadline) {
        await queue.enqueue("warm_up", {});
        await new Promise((r) => setTimeout(r, 200));
      }
    });
    expect(bin.stdout).toMatch(
      /^\S+ {2}\S+Z {2}enqueued\s+job \d+ {2}warm_up {2}priority=0 delay=0s$/m,
    );
    expect(await bin.stop("SIGTERM")).toBe(0);
  });
});
