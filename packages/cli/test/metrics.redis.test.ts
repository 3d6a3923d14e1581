// One metrics module: whatever the handlers module exports, `svc-jobs run` records each
// job once, through the runner's onJobSettled, with the same names and labels.
import type { JsonObject } from "@svc-jobs/core";
import { RedisJobQueue } from "@svc-jobs/redis";
import { freePort, uniquePrefix } from "@svc-jobs/test-servers";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { outcomes, startBin } from "./helpers.js";

const redis = redisFixture(Redis);

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function samples(text: string, name: string): Sample[] {
  const found: Sample[] = [];
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)) {
      labels[key!] = value!;
    }
    found.push({ name, labels, value: Number(match[3]) });
  }
  return found;
}

const total = (list: Sample[]) => list.reduce((sum, s) => sum + s.value, 0);

/** Runs `svc-jobs run` on `jobs` with `handlers` until every job settled; returns /metrics. */
async function scrapeAfter(
  handlers: string,
  jobs: { name: string; payload: JsonObject }[],
): Promise<{ text: string; prefix: string }> {
  const prefix = uniquePrefix("metrics");
  const queue = new RedisJobQueue(redis.client, { prefix });
  await queue.enqueueMany(jobs.map((j) => ({ ...j, opts: { maxAttempts: 1 } })));
  await queue.close();
  const port = await freePort();
  const bin = startBin(["run", "--handlers", handlers, "--metrics-port", String(port)], {
    JOBS_DRIVER: "redis",
    REDIS_URL: redis.url,
    JOBS_PREFIX: prefix,
  });
  try {
    await bin.waitFor((b) => outcomes(b).length === jobs.length, `${jobs.length} outcomes`);
    // Hooks run right after the outcome line; give a double count every chance to show.
    await new Promise((r) => setTimeout(r, 200));
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return { text, prefix };
  } finally {
    expect(await bin.stop()).toBe(0);
  }
}

describe("svc-jobs run metrics", () => {
  it("one job of a JobRegistry module increments jobs_processed_total exactly once", async () => {
    const { text, prefix } = await scrapeAfter("./test/fixtures/registry-handlers.mjs", [
      { name: "work", payload: {} },
    ]);
    // The registry's handler hook and the worker's hook both report the job to the same
    // metrics: it is counted once, observed once.
    expect(samples(text, "jobs_processed_total")).toEqual([
      { name: "jobs_processed_total", labels: { job_name: "work", status: "success" }, value: 1 },
    ]);
    expect(total(samples(text, "jobs_duration_seconds_count"))).toBe(1);
    expect(samples(text, "jobs_failures_total")).toEqual([]);
    expect(text).toContain(`jobs_queue_size{queue="${prefix}",state="ready"} 0`);
    // One set of metrics: every name appears once in the exposition.
    expect(text.match(/^# TYPE jobs_processed_total /gm)).toHaveLength(1);
  });

  it("a registry module's failures are counted once, with the registry's statuses", async () => {
    const { text } = await scrapeAfter("./test/fixtures/registry-handlers.mjs", [
      { name: "work", payload: { fail: "boom" } },
      { name: "mystery", payload: {} },
    ]);
    const processed = samples(text, "jobs_processed_total");
    expect(total(processed)).toBe(2);
    expect(processed).toContainEqual({
      name: "jobs_processed_total",
      labels: { job_name: "work", status: "error" },
      value: 1,
    });
    expect(processed).toContainEqual({
      name: "jobs_processed_total",
      labels: { job_name: "mystery", status: "error" },
      value: 1,
    });
    const failures = samples(text, "jobs_failures_total").map((s) => [s.labels, s.value]);
    expect(failures).toContainEqual([{ job_name: "work", error_type: "Error" }, 1]);
    expect(failures).toContainEqual([{ job_name: "mystery", error_type: "UnknownJobError" }, 1]);
    // No handler ran for the unknown name: no run time observed.
    const counts = samples(text, "jobs_duration_seconds_count").map((s) => s.labels.job_name);
    expect(counts).toEqual(["work"]);
  });

  it("a bare handler function gets the same metrics, each job counted once", async () => {
    const { text, prefix } = await scrapeAfter("./test/fixtures/function-handler.mjs", [
      { name: "anything", payload: {} },
      { name: "anything", payload: { fail: "card declined" } },
    ]);
    const processed = samples(text, "jobs_processed_total").map((s) => [s.labels, s.value]);
    expect(processed.sort()).toEqual(
      [
        [{ job_name: "anything", status: "success" }, 1],
        [{ job_name: "anything", status: "error" }, 1],
      ].sort(),
    );
    expect(samples(text, "jobs_failures_total").map((s) => [s.labels, s.value])).toEqual([
      [{ job_name: "anything", error_type: "Error" }, 1],
    ]);
    expect(total(samples(text, "jobs_duration_seconds_count"))).toBe(2);
    expect(text).toContain(`jobs_queue_size{queue="${prefix}",state="dlq"} 1`);
  });

  it("a { jobName: fn } map counts each job once", async () => {
    const { text } = await scrapeAfter("./test/fixtures/handlers-map.mjs", [
      { name: "greet", payload: {} },
      { name: "explode", payload: {} },
    ]);
    expect(total(samples(text, "jobs_processed_total"))).toBe(2);
    expect(samples(text, "jobs_failures_total").map((s) => [s.labels, s.value])).toEqual([
      [{ job_name: "explode", error_type: "Error" }, 1],
    ]);
  });
});
