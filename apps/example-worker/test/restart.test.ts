import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type ExampleApp, startExampleApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import type { Step } from "../src/steps.js";

const dir = mkdtempSync(join(tmpdir(), "example-restart-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the app on `file` with the defaults (queue in the database), recording its steps. */
async function startOn(file: string): Promise<{ app: ExampleApp; steps: Step[]; until: Until }> {
  const steps: Step[] = [];
  const waiters = new Set<() => void>();
  const config = loadConfig({
    SQLITE_FILE: file,
    PORT: "0",
    WEBHOOK_BACKOFF_SECONDS: "0.5",
    CLEANUP_INTERVAL_SECONDS: "3600",
  });
  // An empty environment: no JOBS_DRIVER, so the queue is the SQLite file's.
  const app = await startExampleApp(config, {
    env: {},
    onStep(step) {
      steps.push(step);
      for (const wake of waiters) wake();
    },
  });
  const until: Until = (what, check) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(test);
        reject(
          new Error(
            `timed out waiting for ${what}; steps:\n${steps.map((s) => s.message).join("\n")}`,
          ),
        );
      }, 20_000);
      function test() {
        if (!check(steps)) return;
        clearTimeout(timer);
        waiters.delete(test);
        resolve();
      }
      waiters.add(test);
      test();
    });
  return { app, steps, until };
}
type Until = (what: string, check: (steps: Step[]) => boolean) => Promise<void>;

async function placeOrder(app: ExampleApp, order: Record<string, unknown>): Promise<number> {
  const res = await fetch(`${app.url}/orders`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ quantity: 1, unit_price_cents: 100, ...order }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: number }).id;
}

describe("the app restarted on the same SQLite file", () => {
  it("runs the jobs that were still queued (delayed and ready) when it stopped", async () => {
    const file = join(dir, "app.sqlite");
    const first = await startOn(file);
    expect(first.app.jobs.driver).toBe("sqlite");
    // Order 1's webhook fails once: its retry waits, delayed, when the app stops.
    const retried = await placeOrder(first.app, {
      customer: "a@example.com",
      item: "lamp",
      demo_fail_webhook_times: 1,
    });
    await first.until(
      "order 1's first webhook attempt to fail and its email",
      (steps) =>
        steps.some((s) => s.kind === "webhook.attempt_failed" && s.orderId === retried) &&
        steps.some((s) => s.kind === "confirmation.sent" && s.orderId === retried),
    );
    // Order 2 is placed while the queue is paused: its two jobs are ready when it stops.
    await first.app.jobs.queue.pause();
    const waiting = await placeOrder(first.app, { customer: "b@example.com", item: "desk" });
    await first.app.stop({ graceSeconds: 5 });
    expect(first.steps.some((s) => s.orderId === waiting && s.kind !== "order.placed")).toBe(false);

    const second = await startOn(file);
    try {
      // The jobs, and the pause, were in the file.
      const stats = await second.app.jobs.queue.stats();
      expect(stats.paused).toBe(true);
      expect(stats.ready + stats.delayed).toBe(3);
      expect(stats.processing).toBe(0);
      await second.app.jobs.queue.resume();
      await second.until(
        "both orders' webhooks and order 2's email",
        (steps) =>
          steps.some((s) => s.kind === "webhook.delivered" && s.orderId === retried) &&
          steps.some((s) => s.kind === "webhook.delivered" && s.orderId === waiting) &&
          steps.some((s) => s.kind === "confirmation.sent" && s.orderId === waiting),
      );
      const delivered = second.steps.find(
        (s) => s.kind === "webhook.delivered" && s.orderId === retried,
      );
      expect(delivered?.attempts).toBe(2);
      // Order 1's email was sent before the restart, once.
      expect(
        [...first.steps, ...second.steps].filter(
          (s) => s.kind === "confirmation.sent" && s.orderId === retried,
        ),
      ).toHaveLength(1);
      const after = (await (await fetch(`${second.app.url}/stats`)).json()) as {
        queue: { ready: number; delayed: number; processing: number };
        outbox: { processed: number };
      };
      expect(after.outbox.processed).toBe(4);
      expect(after.queue.ready + after.queue.delayed + after.queue.processing).toBe(0);
    } finally {
      await second.app.stop({ graceSeconds: 5 });
    }
  });

  it("refuses a JOBS_DRIVER that does not match the database, saying what to set", async () => {
    const config = loadConfig({ SQLITE_FILE: join(dir, "other.sqlite"), PORT: "0" });
    await expect(startExampleApp(config, { env: { JOBS_DRIVER: "postgres" } })).rejects.toThrow(
      /JOBS_DRIVER is "postgres": leave it unset for a queue in the app's database \(sqlite here/,
    );
  });
});
