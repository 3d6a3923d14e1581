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
      prefixes.map((prefix) => ({ prefix, ready: 2, delayed: 0, processing: 0, dlq: 0 })),
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
});
