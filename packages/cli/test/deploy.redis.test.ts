import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { RedisJobQueue } from "@svc-jobs/redis";
import { freePort, uniquePrefix } from "@svc-jobs/test-servers";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { outcomes, startBin } from "./helpers.js";

const deploy = (file: string) =>
  readFileSync(fileURLToPath(new URL(`../../../deploy/${file}`, import.meta.url)), "utf8");

const redis = redisFixture();

describe("deploy/ matches the worker", () => {
  it("every jobs_* metric in the alert rules and the dashboard is served by a running worker", async () => {
    const prefix = uniquePrefix("deploy");
    const client = new Redis(redis.url);
    const queue = new RedisJobQueue(client, { prefix });
    await queue.enqueue("work", {});
    await queue.enqueue("work", { fail: "boom" }, { maxAttempts: 1 });
    await queue.close();
    await client.quit();
    const port = await freePort();
    const bin = startBin(
      [
        "run",
        "--handlers",
        "./test/fixtures/registry-handlers.mjs",
        "--metrics-port",
        String(port),
      ],
      { JOBS_DRIVER: "redis", REDIS_URL: redis.url, JOBS_PREFIX: prefix },
    );
    await bin.waitFor((b) => outcomes(b).length === 2, "two outcomes");
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(await bin.stop()).toBe(0);

    const served = new Set<string>();
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      served.add(name!);
      if (type === "histogram") for (const s of ["_bucket", "_sum", "_count"]) served.add(name + s);
    }
    const used = (source: string) => new Set(source.match(/\bjobs_[a-z_]+\b/g) ?? []);
    const alerts = used(deploy("prometheus/alerts.yml"));
    const dashboard = used(deploy("grafana/svc-jobs-dashboard.json"));
    expect(alerts.size).toBeGreaterThan(2);
    expect(dashboard.size).toBeGreaterThan(3);
    for (const name of [...alerts, ...dashboard]) expect(served, name).toContain(name);
    // The label values the rules filter on exist too.
    expect(text).toContain(`jobs_queue_size{queue="${prefix}",state="dlq"} 1`);
    expect(text).toMatch(/jobs_processed_total\{job_name="work",status="success"\} 1/);
  });

  it("the Kubernetes grace period is longer than the worker's --grace", () => {
    const manifest = deploy("kubernetes/worker-deployment.yaml");
    const podGrace = Number(manifest.match(/terminationGracePeriodSeconds: (\d+)/)?.[1]);
    const workerGrace = Number(manifest.match(/- --grace\s+- "(\d+)"/)?.[1]);
    expect(workerGrace).toBeGreaterThan(0);
    expect(podGrace).toBeGreaterThan(workerGrace);
    const compose = deploy("docker-compose.yml");
    const stopGrace = Number(compose.match(/stop_grace_period: (\d+)s/)?.[1]);
    const composeGrace = Number(compose.match(/- --grace\s+- "(\d+)"/)?.[1]);
    expect(stopGrace).toBeGreaterThan(composeGrace);
  });
});
