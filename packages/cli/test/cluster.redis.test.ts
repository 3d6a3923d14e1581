import { uniquePrefix } from "@svc-jobs/test-servers";
import { clusterFixture } from "@svc-jobs/test-servers/fixtures";
import { describe, expect, it } from "vitest";
import { runBin } from "./helpers.js";

const cluster = clusterFixture();

function env(prefix: string): Record<string, string> {
  const nodes = cluster.nodes.map((n) => `${n.host}:${n.port}`).join(",");
  return { JOBS_DRIVER: "redis", REDIS_CLUSTER_NODES: nodes, JOBS_PREFIX: prefix };
}

describe("svc-jobs on a Redis Cluster (REDIS_CLUSTER_NODES)", () => {
  it("enqueues, shows stats, runs and dead-letters across several queues", async () => {
    const prefixes = [uniquePrefix("cl-a"), uniquePrefix("cl-b"), uniquePrefix("cl-c")];
    for (const prefix of prefixes) {
      const ok = await runBin(["enqueue", "work", '{"ms":1}'], env(prefix));
      expect(ok.stderr).toBe("");
      const bad = await runBin(
        ["enqueue", "work", '{"fail":"nope"}', "--max-attempts", "1"],
        env(prefix),
      );
      expect(bad.code).toBe(0);
    }
    const before = await runBin(["stats", "--prefix", prefixes.join(","), "--json"], env("x"));
    expect(JSON.parse(before.stdout)).toEqual(
      prefixes.map((prefix) => ({
        prefix,
        ready: 2,
        delayed: 0,
        processing: 0,
        dlq: 0,
        completed: 0,
        cancelled: 0,
        paused: false,
      })),
    );
    const all = await runBin(["stats", "--all", "--json"], env("x"));
    const found = (JSON.parse(all.stdout) as { prefix: string }[]).map((r) => r.prefix);
    for (const prefix of prefixes) expect(found).toContain(prefix);

    const run = await runBin(
      ["run", "--handlers", "./test/fixtures/registry-handlers.mjs", "--max-jobs", "2"],
      env(prefixes[0]!),
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const dlq = await runBin(["dlq", "list", "--json"], env(prefixes[0]!));
    expect(JSON.parse(dlq.stdout)).toEqual([
      expect.objectContaining({ name: "work", lastError: "nope" }),
    ]);
    const requeued = await runBin(["dlq", "requeue", "--all"], env(prefixes[0]!));
    expect(requeued.stdout).toMatch(/requeued 1 dead job/);
  });

  it("lists, shows, cancels, pauses and reads events on a cluster", async () => {
    const prefix = uniquePrefix("cl-jobs");
    const first = (
      await runBin(["enqueue", "work", '{"ms":1}', "--priority", "2"], env(prefix))
    ).stdout.trim();
    const second = (await runBin(["enqueue", "work", '{"ms":2}'], env(prefix))).stdout.trim();
    const list = await runBin(["jobs", "list", "--state", "ready", "--json"], env(prefix));
    expect(list.stderr).toBe("");
    expect(JSON.parse(list.stdout)).toEqual({
      jobs: [
        expect.objectContaining({ id: first, priority: 2 }),
        expect.objectContaining({ id: second, priority: 0 }),
      ],
      cursor: null,
    });
    const show = await runBin(["jobs", "show", second, "--json"], env(prefix));
    expect(JSON.parse(show.stdout)).toMatchObject({ id: second, payload: { ms: 2 } });
    expect((await runBin(["jobs", "cancel", second], env(prefix))).code).toBe(0);
    expect((await runBin(["pause"], env(prefix))).code).toBe(0);
    const stats = await runBin(["stats", "--json"], env(prefix));
    expect(JSON.parse(stats.stdout)).toEqual([
      expect.objectContaining({ prefix, ready: 1, paused: true }),
    ]);
    const resume = await runBin(["resume", "--json"], env(prefix));
    expect(JSON.parse(resume.stdout)).toEqual({ prefix, paused: false });
    const events = await runBin(["events", "--after", "0", "--json"], env(prefix));
    expect(events.code).toBe(0);
    const types = events.stdout
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { type: string; jobId: string }).type);
    expect(types).toEqual(["enqueued", "enqueued", "cancelled"]);
  });
});
