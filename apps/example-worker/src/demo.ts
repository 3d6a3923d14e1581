// The reference composition, end to end, in one process: run `pnpm demo` at the
// repository root (or `pnpm --filter @svc-jobs/example-worker demo`). It places a
// few orders, one of whose webhooks fails twice before it succeeds, prints each step,
// and exits 0 once every webhook was verified by the receiver (1 if not within 45 s).
// Add --serve to keep the API running afterwards. The queue lives in the app's database
// (the SQLite file ./data/example.sqlite unless SQLITE_FILE or DATABASE_URL say otherwise),
// so jobs still queued when it stops are run by the next start.
import { startExampleApp } from "./app.js";
import { loadConfig } from "./config.js";
import type { Step } from "./steps.js";

const serve = process.argv.includes("--serve");
const t0 = Date.now();
const say = (message: string) =>
  console.log(`[${((Date.now() - t0) / 1000).toFixed(2).padStart(6)}s] ${message}`);

const config = loadConfig({
  // Quick retries and relay so the demo finishes in seconds; the defaults suit production.
  WEBHOOK_BACKOFF_SECONDS: "0.3",
  OUTBOX_INTERVAL_SECONDS: "0.2",
  CLEANUP_INTERVAL_SECONDS: "1",
  PORT: serve ? "3000" : "0",
  ...process.env,
});

const steps: Step[] = [];
const waiters = new Set<() => void>();
const app = await startExampleApp(config, {
  onStep(step) {
    steps.push(step);
    say(step.message);
    for (const wake of waiters) wake();
  },
});

const orders = [
  { customer: "ada@example.com", item: "keyboard", quantity: 1, unit_price_cents: 8900 },
  { customer: "grace@example.com", item: "monitor", quantity: 2, unit_price_cents: 19900 },
  {
    customer: "linus@example.com",
    item: "laptop",
    quantity: 1,
    unit_price_cents: 149900,
    demo_fail_webhook_times: 2,
  },
];

let exitCode = 1;
try {
  say(
    `example app on ${app.url}: queue ${app.jobs.describe()}, database ${app.database.dialect} (${app.database.where})`,
  );
  const placed: number[] = [];
  for (const order of orders) {
    const res = await fetch(`${app.url}/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(order),
    });
    if (res.status !== 201)
      throw new Error(`POST /orders answered ${res.status}: ${await res.text()}`);
    placed.push(((await res.json()) as { id: number }).id);
  }

  const bad = await fetch(`${app.url}/orders`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      customer: "x@example.com",
      item: "pen",
      quantity: 0,
      unit_price_cents: 1,
    }),
  });
  say(`a bad order is refused: ${bad.status} ${await bad.text()}`);

  const forged = await fetch(`${app.url}/webhooks/order-events`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-signature": "0".repeat(64) },
    body: JSON.stringify({ order_id: placed[0], total_cents: 1 }),
  });
  say(`a forged webhook is refused by the receiver: ${forged.status}`);

  const done = () => {
    const verified = new Set(
      steps.filter((s) => s.kind === "receiver.verified").map((s) => s.orderId),
    );
    const confirmed = new Set(
      steps.filter((s) => s.kind === "confirmation.sent").map((s) => s.orderId),
    );
    const delivered = new Set(
      steps.filter((s) => s.kind === "webhook.delivered").map((s) => s.orderId),
    );
    return placed.every((id) => verified.has(id) && delivered.has(id) && confirmed.has(id));
  };
  const finished = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 45_000);
    const check = () => {
      if (done()) {
        clearTimeout(timer);
        waiters.delete(check);
        resolve(true);
      }
    };
    waiters.add(check);
    check();
  });
  if (!finished) throw new Error("not every webhook was verified within 45 s");

  const flaky = placed[2];
  const delivered = steps.find((s) => s.kind === "webhook.delivered" && s.orderId === flaky);
  if (delivered?.attempts !== 3) {
    throw new Error(
      `order ${flaky}'s webhook should succeed on attempt 3, got ${String(delivered?.attempts)}`,
    );
  }
  const stats = (await (await fetch(`${app.url}/stats`)).json()) as unknown;
  say(`every webhook verified and every confirmation sent; stats: ${JSON.stringify(stats)}`);
  const metrics = (await (await fetch(`${app.url}/metrics`)).text())
    .split("\n")
    .filter((l) => l.startsWith("jobs_processed_total") || l.startsWith("jobs_queue_size"));
  say(`/metrics:\n    ${metrics.join("\n    ")}`);
  exitCode = 0;
} catch (error) {
  say(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
}

if (serve && exitCode === 0) {
  say(`serving on ${app.url} (POST /orders, GET /stats, GET /metrics); Ctrl-C to stop`);
  say(
    app.dashboard.generatedToken === undefined
      ? `dashboard on ${app.dashboard.url} (log in with SVC_JOBS_DASHBOARD_TOKEN)`
      : `dashboard on ${app.dashboard.url} (log in with this run's token ${app.dashboard.generatedToken}; set SVC_JOBS_DASHBOARD_TOKEN to choose one)`,
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
}
await app.stop({ graceSeconds: 5 });
say(exitCode === 0 ? "demo finished: OK" : "demo finished: FAILED");
process.exit(exitCode);
