import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, uniquePrefix } from "@svc-jobs/test-servers";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { afterAll, describe, expect, it } from "vitest";
import { type Proc, SVC_JOBS, start, TSX } from "./helpers.js";

const redis = redisFixture();
const dir = mkdtempSync(join(tmpdir(), "example-split-"));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("with Redis", () => {
  it("the demo runs with JOBS_DRIVER=redis", async () => {
    const demo = start([TSX, "--conditions=@svc-jobs/source", "src/demo.ts"], {
      JOBS_DRIVER: "redis",
      REDIS_URL: redis.url,
      JOBS_PREFIX: uniquePrefix("demo"),
    });
    expect(await demo.exited, demo.output).toBe(0);
    expect(demo.output).toContain("queue redis");
  });

  it("runs as deployed: the API process plus svc-jobs run workers with the schedule from JOBS_SCHEDULE_JSON", async () => {
    const port = await freePort();
    const env = {
      JOBS_DRIVER: "redis",
      REDIS_URL: redis.url,
      JOBS_PREFIX: uniquePrefix("split"),
      SQLITE_FILE: join(dir, "app.sqlite"),
      WEBHOOK_SECRET: "split-test-secret",
      WEBHOOK_URL: `http://127.0.0.1:${port}/webhooks/order-events`,
      WEBHOOK_BACKOFF_SECONDS: "0.2",
    };
    const procs: Proc[] = [];
    try {
      const api = start(["dist/main.js"], { ...env, EXAMPLE_ROLE: "api", PORT: String(port) });
      procs.push(api);
      await api.waitFor(/example app started/, "the API");
      const schedule = JSON.stringify([
        { name: "outbox_relay", interval_seconds: 0.2, target: "./dist/tasks.js:outboxTick" },
        { name: "cleanup", interval_seconds: 0.5, target: "./dist/tasks.js:cleanup" },
      ]);
      // Two worker replicas: both take jobs, only the leader fires the schedule.
      for (let i = 0; i < 2; i++) {
        const worker = start(
          [SVC_JOBS, "run", "--handlers", "./dist/worker-handlers.js", "--concurrency", "2"],
          { ...env, JOBS_SCHEDULE_JSON: schedule },
        );
        procs.push(worker);
        await worker.waitFor(/worker started/, "a worker");
      }
      const base = `http://127.0.0.1:${port}`;
      for (const [i, failTimes] of [0, 2, 0].entries()) {
        const res = await fetch(`${base}/orders`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            customer: `c${i}@example.com`,
            item: "widget",
            quantity: 1,
            unit_price_cents: 100,
            demo_fail_webhook_times: failTimes,
          }),
        });
        expect(res.status).toBe(201);
      }
      let stats: { outbox: Record<string, number>; queue: Record<string, number> } | undefined;
      for (let i = 0; i < 300; i++) {
        stats = (await (await fetch(`${base}/stats`)).json()) as typeof stats;
        if (stats?.outbox.processed === 6) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(stats?.outbox).toMatchObject({ processed: 6, pending: 0, failed: 0 });
      expect(api.output.match(/"step":"receiver.verified"/g)).toHaveLength(3);
      expect(api.output).toMatch(/answers 503 on purpose/);
      // Workers drain and exit 0 on SIGTERM, then the API does.
      for (const proc of procs.slice(1)) expect(await proc.stop()).toBe(0);
      expect(await api.stop()).toBe(0);
    } finally {
      await Promise.all(procs.map((p) => p.stop()));
    }
  });
});
