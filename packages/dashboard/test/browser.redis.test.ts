// The dashboard in a real headless Chromium (Debian's `chromium`, driven by playwright-core,
// which never downloads a browser) against a dashboard on a real redis-server. The
// screenshots it takes are the ones packages/dashboard/README.md shows.
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WorkerRunner } from "@svc-jobs/core";
import { RedisJobQueue } from "@svc-jobs/redis";
import { requireBinary } from "@svc-jobs/test-servers";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Served, serve, TOKEN } from "./helpers.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const shots = path.resolve(here, "../docs/screenshots");
const XSS = "<img src=x onerror=alert(1)>";

/** Debian's Chromium, or SVC_JOBS_CHROMIUM; missing, the test fails and says how to get it. */
function chromiumPath(): string {
  const fromEnv = process.env.SVC_JOBS_CHROMIUM;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  return requireBinary(
    "chromium",
    "apt-get install -y chromium (Debian/Ubuntu; `npm test` installs it), or set SVC_JOBS_CHROMIUM to a Chromium binary",
  );
}

describe("the dashboard in Chromium, on Redis", () => {
  const redis = redisFixture(Redis);
  let browser: Browser;
  let served: Served;
  let emails: RedisJobQueue;
  let webhooks: RedisJobQueue;
  let worker: WorkerRunner;
  let page: Page;
  const alerts: string[] = [];
  let deadId: string;
  let cancelledBySignal: unknown = null;
  let runningId = "";

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    browser = await chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox"] });
    emails = new RedisJobQueue(redis.client, {
      prefix: redis.prefix("emails"),
      keepCancelled: true,
    });
    webhooks = new RedisJobQueue(redis.client, {
      prefix: redis.prefix("webhooks"),
      keepCompleted: { count: 100 },
      keepCancelled: true,
    });
    served = await serve({ queues: { emails, webhooks }, title: "svc-jobs · acme" });

    // Some history for the chart: webhooks that complete, and some that fail.
    worker = new WorkerRunner(
      webhooks,
      async (job, { signal }) => {
        if (job.name === "slow_export") {
          runningId = job.id;
          await new Promise<void>((resolve) => {
            signal.addEventListener("abort", () => {
              cancelledBySignal = signal.reason;
              resolve();
            });
          });
          return;
        }
        if ((job.payload as { fail?: boolean }).fail) throw new Error("HTTP 503 from endpoint");
        return { delivered: true };
      },
      { concurrency: 4, pollIntervalSeconds: 0.05 },
    );
    void worker.start();
    await webhooks.enqueueMany(
      Array.from({ length: 30 }, (_, i) => ({
        name: "deliver_webhook",
        payload: { endpoint: `https://hooks.example/${i}`, fail: i % 7 === 0 },
        opts: { maxAttempts: 2, backoffSeconds: 0 },
      })),
    );
    // A dead job whose payload and error are an XSS attempt (the only job, so reserved first).
    const dead = await emails.enqueue("render_html", { html: XSS }, { maxAttempts: 1 });
    const held = await emails.reserveNext();
    expect(held?.id).toBe(dead.id);
    await emails.fail(held!, new Error(`template failed near ${XSS}`));
    deadId = dead.id;
    // 1,000 ready emails to page through (paused, so nothing takes them), one delayed.
    await emails.pause();
    await emails.enqueueMany(
      Array.from({ length: 1000 }, (_, i) => ({
        name: "send_email",
        payload: { to: `user${i}@example.com`, template: "welcome" },
      })),
    );
    await emails.enqueue("send_email", { to: "later@example.com" }, { delaySeconds: 3600 });

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on("dialog", async (dialog) => {
      if (dialog.type() === "confirm") await dialog.accept();
      else {
        alerts.push(dialog.message());
        await dialog.dismiss();
      }
    });
  }, 120_000);

  afterAll(async () => {
    await worker?.stop({ graceSeconds: 1 }).catch(() => {});
    await served?.close();
    await browser?.close();
    await emails?.close();
    await webhooks?.close();
  });

  it("without credentials: 401, and the login page", async () => {
    const res = await page.goto(`${served.url}/`);
    expect(res?.status()).toBe(401);
    await expect(page.locator('input[name="token"]').count()).resolves.toBe(1);
    await page.screenshot({ path: path.join(shots, "login.png") });
    const anonymous = await browser.newContext();
    const api = await anonymous.request.get(`${served.url}/api/queues`);
    expect(api.status()).toBe(401);
    await anonymous.close();
  });

  it("logs in and loads the overview: counts, paused, DLQ, the last hour", async () => {
    await page.fill('input[name="token"]', TOKEN);
    await page.click('button[type="submit"]');
    await page.waitForURL(`${served.url}/`);
    await page.locator('tr[data-queue="emails"]').waitFor();
    const ready = page.locator('tr[data-queue="emails"] td[data-state="ready"]');
    await expect(ready.textContent()).resolves.toBe("1000");
    await page.waitForFunction(
      () =>
        Number(
          document.querySelector('tr[data-queue="webhooks"] td[data-state="completed"]')
            ?.textContent,
        ) >= 20,
      undefined,
      { timeout: 15_000 },
    );
    await expect(
      page.locator('tr[data-queue="webhooks"] svg.chart rect').count(),
    ).resolves.toBeGreaterThan(0);
    await page.screenshot({ path: path.join(shots, "overview.png"), fullPage: true });
  });

  it("pages through 1,000 jobs, 50 at a time, each exactly once", async () => {
    await page.goto(`${served.url}/queues/emails/jobs?state=ready`);
    const ids: string[] = [];
    for (let pageNo = 1; ; pageNo++) {
      await page.locator("tr[data-job-id]").first().waitFor();
      ids.push(
        ...(await page
          .locator("tr[data-job-id]")
          .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-job-id") ?? ""))),
      );
      if (pageNo === 2)
        await page.screenshot({ path: path.join(shots, "jobs.png"), fullPage: false });
      const next = page.locator('a[rel="next"]');
      if ((await next.count()) === 0) break;
      await next.click();
      await page.waitForURL(/cursor=/);
      expect(pageNo).toBeLessThan(25);
    }
    expect(ids).toHaveLength(1000);
    expect(new Set(ids).size).toBe(1000);
  });

  it("opens a job from the list", async () => {
    await page.goto(`${served.url}/queues/emails/jobs?state=ready`);
    const first = page.locator("tr[data-job-id] a").first();
    const id = await first.textContent();
    await first.click();
    await page.waitForURL(new RegExp(`/queues/emails/jobs/${id}$`));
    await expect(page.locator("#payload").textContent()).resolves.toContain("user0@example.com");
    await expect(page.locator("[data-job-state]").textContent()).resolves.toBe("ready");
  });

  it("shows the XSS payload as text, then retries the dead job and sees it ready", async () => {
    await page.goto(`${served.url}/queues/emails/jobs/${deadId}`);
    await expect(page.locator("#payload").textContent()).resolves.toContain(XSS);
    await expect(page.locator("#last-error").textContent()).resolves.toContain(XSS);
    await expect(page.locator("main img").count()).resolves.toBe(0);
    await page.screenshot({ path: path.join(shots, "job.png"), fullPage: true });

    await page.click('button[data-action="retry"]');
    await expect(page.locator("#flash .flash.ok").textContent()).resolves.toContain(
      `Job ${deadId} is back in ready`,
    );
    await page.locator('[data-job-state="ready"]').waitFor({ timeout: 5000 });
    expect((await emails.getJob(deadId))?.state).toBe("ready");
    await page.screenshot({ path: path.join(shots, "retried.png") });
    expect(alerts).toEqual([]);
  });

  it("cancels a running job: its handler's signal aborts and the page shows it cancelled", async () => {
    const job = await webhooks.enqueue("slow_export", { report: "q3" });
    await expect.poll(() => runningId, { timeout: 5000 }).toBe(job.id);
    await page.goto(`${served.url}/queues/webhooks/jobs/${job.id}`);
    await expect(page.locator("[data-job-state]").textContent()).resolves.toBe("processing");
    await page.click('button[data-action="cancel"]');
    await expect(page.locator("#flash .flash.ok").textContent()).resolves.toContain("cancelled");
    await page.locator('[data-job-state="cancelled"]').waitFor({ timeout: 5000 });
    await expect.poll(() => cancelledBySignal, { timeout: 5000 }).not.toBeNull();
    expect((await webhooks.getJob(job.id))?.state).toBe("cancelled");
  });

  it("refuses an action sent without the CSRF token", async () => {
    const wasPaused = await emails.isPaused();
    const status = await page.evaluate(async () => {
      const res = await fetch("/api/queues/emails/resume", { method: "POST" });
      return res.status;
    });
    expect(status).toBe(403);
    expect(await emails.isPaused()).toBe(wasPaused);
    // The same request with the page's token goes through.
    const ok = await page.evaluate(async () => {
      const headers = JSON.parse(document.body.getAttribute("hx-headers") ?? "{}");
      const res = await fetch("/api/queues/emails/resume", { method: "POST", headers });
      return res.status;
    });
    expect(ok).toBe(200);
    expect(await emails.isPaused()).toBe(false);
  });
});
