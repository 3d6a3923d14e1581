import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { usePostgres } from "@svc-jobs/test-servers";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { start, TSX } from "./helpers.js";

const DEMO = [TSX, "--conditions=@svc-jobs/source", "src/demo.ts"];

let postgres: { url: string; stop(): Promise<void> } | undefined;
// The demo's default file is ./data/example.sqlite, kept across runs; each test gets its own.
const dir = mkdtempSync(join(tmpdir(), "example-demo-"));
let files = 0;
const sqliteFile = () => join(dir, `demo-${++files}.sqlite`);
afterAll(async () => {
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("the demo", () => {
  it("runs on the defaults (queue and orders in one SQLite file) and exits 0 once every webhook is verified", async () => {
    const demo = start(DEMO, { SQLITE_FILE: sqliteFile() });
    const code = await demo.exited;
    expect(code, demo.output).toBe(0);
    expect(demo.output).toContain(
      `queue sqlite (in the app's database, queue "jobs"), database sqlite`,
    );
    // The jobs commit with the order: no relay runs.
    expect(
      demo.output.match(/order, outbox events and their jobs committed in one transaction/g),
    ).toHaveLength(3);
    expect(demo.output).not.toContain("outbox relay moved");
    // The flaky order's webhook fails twice, then succeeds.
    expect(demo.output).toMatch(/order 3's webhook \(attempt 1\) and answers 503/);
    expect(demo.output).toMatch(/order 3's webhook \(attempt 2\) and answers 503/);
    expect(demo.output).toMatch(/webhook for order 3 delivered on attempt 3/);
    expect(demo.output.match(/receiver verified webhook order\.created/g)).toHaveLength(3);
    expect(demo.output).toMatch(/a forged webhook is refused by the receiver: 401/);
    expect(demo.output).toContain("demo finished: OK");
  });

  it("with JOBS_DRIVER=memory, moves the outbox with the relay", async () => {
    const demo = start(DEMO, { JOBS_DRIVER: "memory", SQLITE_FILE: sqliteFile() });
    expect(await demo.exited, demo.output).toBe(0);
    expect(demo.output).toContain("queue memory, database sqlite");
    expect(demo.output).toMatch(/order and outbox events committed in one transaction/);
    expect(demo.output).toMatch(/outbox relay moved \d+ event\(s\) into the queue/);
  });

  it("with OTEL_TRACES_EXPORTER=console and the memory queue, prints the spans of each order's trace (docs/tracing.md)", async () => {
    const demo = start(DEMO, {
      OTEL_TRACES_EXPORTER: "console",
      JOBS_DRIVER: "memory",
      SQLITE_FILE: sqliteFile(),
    });
    const code = await demo.exited;
    expect(code, demo.output).toBe(0);
    // The ConsoleSpanExporter's objects: find the flaky order's webhook attempts.
    const spans = [...demo.output.matchAll(/^\{\n[\s\S]*?^\}$/gm)].map((m) => m[0]);
    const field = (span: string, name: string) =>
      new RegExp(`^  ${name}: '([^']*)'`, "m").exec(span)?.[1];
    const named = (name: string) => spans.filter((s) => field(s, "name") === name);
    const deliveries = named("process memory").filter((s) =>
      s.includes("'messaging.svc_jobs.job.name': 'outbox.order.created'"),
    );
    // Three orders: three deliveries at the first attempt, the flaky one twice more.
    expect(deliveries).toHaveLength(5);
    const flaky = deliveries.filter((s) => s.includes("'messaging.svc_jobs.outcome': 'failed'"));
    expect(flaky).toHaveLength(2);
    const traceId = field(flaky[0] as string, "traceId");
    const trace = spans.filter((s) => field(s, "traceId") === traceId);
    const names = trace.map((s) => field(s, "name"));
    expect(names).toContain("POST /orders");
    expect(names.filter((n) => n === "process memory")).toHaveLength(4); // email + 3 attempts
    expect(names.filter((n) => n === "POST")).toHaveLength(3);
    expect(names.filter((n) => n === "POST /webhooks/order-events")).toHaveLength(3);
  });

  it("with OTEL_TRACES_EXPORTER=console on the default queue, the jobs' enqueue is a span of the order's request", async () => {
    const demo = start(DEMO, { OTEL_TRACES_EXPORTER: "console", SQLITE_FILE: sqliteFile() });
    expect(await demo.exited, demo.output).toBe(0);
    const spans = [...demo.output.matchAll(/^\{\n[\s\S]*?^\}$/gm)].map((m) => m[0]);
    const field = (span: string, name: string) =>
      new RegExp(`^  ${name}: '([^']*)'`, "m").exec(span)?.[1];
    const parentOf = (span: string) =>
      /^ {2}parentSpanContext: \{[^}]*?spanId: '([^']*)'/m.exec(span)?.[1];
    // The three orders placed (the fourth POST /orders is the bad one, answered 400).
    const requests = spans.filter(
      (s) => field(s, "name") === "POST /orders" && /'http.response.status_code': 201/.test(s),
    );
    expect(requests).toHaveLength(3);
    for (const request of requests) {
      const traceId = field(request, "traceId");
      const trace = spans.filter((s) => field(s, "traceId") === traceId);
      const enqueue = trace.find((s) => field(s, "name") === "enqueue jobs");
      // The PRODUCER span of the enqueue in the order's transaction, child of the request.
      expect(enqueue, request).toBeDefined();
      expect(parentOf(enqueue as string)).toBe(field(request, "id"));
      // Every attempt of the order's two jobs is in the same trace.
      expect(
        trace.filter((s) => field(s, "name") === "process jobs").length,
      ).toBeGreaterThanOrEqual(2);
    }
  });

  it("with --serve, keeps serving and prints the URL of the dashboard it mounts", async () => {
    const demo = start([...DEMO, "--serve"], { PORT: "0", SQLITE_FILE: sqliteFile() });
    try {
      const [, url, token] = await demo.waitFor(
        /dashboard on (http:\/\/\S+\/admin\/jobs\/) \(log in with this run's token (\S+);/,
        "the dashboard line",
        60_000,
      );
      expect((await fetch(`${url}api/queues`)).status).toBe(401);
      const res = await fetch(`${url}api/queues`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      const [queue] = (await res.json()) as { name: string; stats: { paused: boolean } }[];
      expect(queue?.stats.paused).toBe(false);
      const page = await fetch(url!, { headers: { authorization: `Bearer ${token}` } });
      expect(await page.text()).toContain(
        `href="/admin/jobs/queues/${queue?.name}/jobs?state=ready"`,
      );
    } finally {
      expect(await demo.stop()).toBe(0);
    }
  });

  it("uses PostgreSQL when DATABASE_URL is set", async () => {
    postgres = await usePostgres();
    const name = `demo_${randomBytes(5).toString("hex")}`;
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(postgres.url);
    url.pathname = `/${name}`;
    const demo = start(DEMO, { DATABASE_URL: url.toString() });
    const code = await demo.exited;
    expect(code, demo.output).toBe(0);
    expect(demo.output).toContain(
      `queue postgres (in the app's database, queue "jobs"), database postgres`,
    );
    expect(demo.output).not.toContain("outbox relay moved");
    const check = new pg.Client({ connectionString: url.toString() });
    await check.connect();
    const { rows } = await check.query(
      "select status, count(*)::int as n from svc_jobs_outbox group by status",
    );
    // The jobs were rows of the same database, deleted once acked.
    const jobs = await check.query("select count(*)::int as n from svc_jobs_jobs");
    await check.end();
    expect(rows).toEqual([{ status: "processed", n: 6 }]);
    expect(jobs.rows).toEqual([{ n: 0 }]);
  });
});
