import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigError, type JobOutcome, JobValidationError, WorkerRunner } from "@svc-jobs/core";
import { createDashboard } from "@svc-jobs/dashboard";
import { KyselyInboxStore, KyselyOutboxStore } from "@svc-jobs/webhooks";
import { register } from "prom-client";
import type { ExampleConfig } from "./config.js";
import { type AppDatabase, openDatabase } from "./database.js";
import { createCleanup, createOutboxTick, createRegistry } from "./job-handlers.js";
import { type AppJobs, openJobs } from "./jobs.js";
import { parseOrder, placeOrder } from "./orders.js";
import type { StepListener } from "./steps.js";
import { recordStatus, startTracing, stopTracing, traceRequest } from "./tracing.js";
import { createWebhookReceiver } from "./webhook-receiver.js";

/** The path of the local webhook receiver. */
export const RECEIVER_PATH = "/webhooks/order-events";
/** Where the app mounts the operator dashboard (@svc-jobs/dashboard). */
export const DASHBOARD_PATH = "/admin/jobs";

/** A running example app. */
export interface ExampleApp {
  /** Base URL of the API, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** The queue: in the app's database by default, else memory or Redis (`JOBS_DRIVER`). */
  jobs: AppJobs;
  database: AppDatabase;
  /**
   * The operator dashboard: its URL, and the token made for this run when
   * `SVC_JOBS_DASHBOARD_TOKEN` was not set (`undefined` when it was).
   */
  dashboard: { url: string; generatedToken: string | undefined };
  /** Stops taking requests and jobs, drains the worker, closes everything. */
  stop(options?: { graceSeconds?: number }): Promise<void>;
}

/** Options of {@link startExampleApp}. */
export interface StartExampleAppOptions {
  onStep?: StepListener;
  /** Called for every job outcome of the in-process worker. */
  onJobSettled?: (outcome: JobOutcome) => void;
  /** Environment of the queue (JOBS_DRIVER, REDIS_URL, JOBS_PREFIX, ...). @default process.env */
  env?: NodeJS.ProcessEnv;
}

/**
 * Composes the packages the way a service does: an HTTP API whose `POST /orders`
 * writes the order and its outbox events in one transaction, with their jobs when the
 * queue is in the same database (the default), else moved later by the outbox relay on
 * the scheduler (memory, Redis); a cleanup task on the scheduler; a `JobRegistry` with the confirmation and webhook
 * handlers run by a `WorkerRunner`; a local receiver that verifies the signed
 * webhooks; and `/metrics`. With `role: "api"` only the API and the receiver run,
 * and `svc-jobs run` runs the handlers (see worker-handlers.ts).
 */
export async function startExampleApp(
  config: ExampleConfig,
  options: StartExampleAppOptions = {},
): Promise<ExampleApp> {
  const step = options.onStep ?? (() => {});
  await startTracing(options.env ?? process.env);
  const database = await openDatabase(config);
  const { db } = database;
  const outbox = new KyselyOutboxStore(db);
  const inbox = new KyselyInboxStore(db);
  let jobs: AppJobs;
  try {
    jobs = await openJobs(database, {
      databaseUrl: config.databaseUrl,
      env: options.env ?? process.env,
    });
  } catch (error) {
    await database.close();
    throw error;
  }
  if (config.role === "api" && jobs.driver !== "redis") {
    await jobs.close();
    await database.close();
    throw new ConfigError(
      `EXAMPLE_ROLE=api leaves the jobs to svc-jobs run workers, which need the Redis queue (the queue is ${jobs.driver} here): set JOBS_DRIVER=redis and REDIS_URL`,
    );
  }
  // With the queue in the app's database, POST /orders enqueues the jobs itself.
  const sameDatabase = jobs.sameDatabase && {
    queue: jobs.sameDatabase,
    backoffSeconds: config.webhookBackoffSeconds,
  };

  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  const webhookUrl = config.webhookUrl ?? `${url}${RECEIVER_PATH}`;

  const generatedToken =
    config.dashboardToken === undefined ? randomBytes(18).toString("base64url") : undefined;
  const dashboard = createDashboard({
    queues: { [jobs.prefix]: jobs.queue },
    auth: { token: config.dashboardToken ?? (generatedToken as string) },
    basePath: DASHBOARD_PATH,
  });

  const receive = createWebhookReceiver({ secret: config.webhookSecret, inbox, onStep: step });
  let runner: WorkerRunner | undefined;
  let scheduling: Promise<void> | undefined;
  let closeRegistry = async () => {};
  if (config.role === "all") {
    const { registry, close } = createRegistry({
      db,
      outbox,
      inbox,
      config,
      webhookUrl,
      onStep: step,
    });
    // Untracked on stop, so a new app in this process (a restart) can track its queue.
    const untrack = registry.trackQueue(jobs.queue, { name: jobs.prefix });
    closeRegistry = async () => {
      untrack();
      await close();
    };
    if (!sameDatabase) {
      await jobs.scheduler.addTask(
        "outbox_relay",
        config.outboxIntervalSeconds,
        createOutboxTick(outbox, jobs.queue, config.webhookBackoffSeconds, step),
      );
    }
    await jobs.scheduler.addTask(
      "cleanup",
      config.cleanupIntervalSeconds,
      createCleanup(outbox, inbox, jobs.queue, step),
    );
    runner = new WorkerRunner(jobs.queue, registry.asHandler(), {
      concurrency: config.concurrency,
      pollIntervalSeconds: 0.5,
      ...(options.onJobSettled ? { onJobSettled: options.onJobSettled } : {}),
    });
    void runner.start();
    scheduling = jobs.scheduler.run();
  }

  server.on("request", (req, res) => {
    traceRequest(req, routeOf(req), () => route(req, res)).catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { error: "internal error" });
      step({ kind: "receiver.rejected", message: `request failed: ${String(error)}` });
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path === DASHBOARD_PATH || path.startsWith(`${DASHBOARD_PATH}/`))
      return dashboard(req, res);
    if (req.method === "POST" && path === "/orders") {
      let input: ReturnType<typeof parseOrder>;
      try {
        input = parseOrder(JSON.parse(await readBody(req)));
      } catch (error) {
        const message =
          error instanceof JobValidationError || error instanceof SyntaxError
            ? error.message
            : "bad request";
        return json(res, 400, { error: message });
      }
      const order = await placeOrder(db, outbox, input, sameDatabase);
      step({
        kind: "order.placed",
        orderId: order.id,
        message: `order ${order.id} placed (${order.quantity} x ${order.item} for ${order.customer}); ${
          sameDatabase
            ? "order, outbox events and their jobs committed in one transaction (the queue is in the same database: no relay)"
            : "order and outbox events committed in one transaction"
        }`,
      });
      return json(res, 201, order);
    }
    if (req.method === "GET" && path.startsWith("/orders/")) {
      const id = Number(path.slice("/orders/".length));
      const order = Number.isInteger(id)
        ? await db.selectFrom("orders").selectAll().where("id", "=", id).executeTakeFirst()
        : undefined;
      return order ? json(res, 200, order) : json(res, 404, { error: "no such order" });
    }
    if (req.method === "POST" && path === RECEIVER_PATH) return receive(req, res);
    if (req.method === "GET" && path === "/metrics") {
      res.writeHead(200, { "content-type": register.contentType });
      res.end(await register.metrics());
      return;
    }
    if (req.method === "GET" && path === "/healthz") return json(res, 200, { ok: true });
    if (req.method === "GET" && path === "/stats") {
      return json(res, 200, { queue: await jobs.queue.stats(), outbox: await outbox.stats() });
    }
    json(res, 404, {
      error: `not found: POST /orders, GET /orders/:id, GET /stats, GET /metrics, ${DASHBOARD_PATH}/`,
    });
  }

  let stopped: Promise<void> | undefined;
  return {
    url,
    jobs,
    database,
    dashboard: { url: `${url}${DASHBOARD_PATH}/`, generatedToken },
    stop(stopOptions = {}) {
      stopped ??= (async () => {
        const closing = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await dashboard.close();
        await jobs.scheduler.stop();
        await scheduling;
        await runner?.stop({ graceSeconds: stopOptions.graceSeconds ?? 10 });
        await closeRegistry();
        await jobs.close();
        server.closeAllConnections();
        await closing;
        await database.close();
        await stopTracing();
      })();
      return stopped;
    },
  };
}

/** The route template of a request, for its span name: `/orders/:id`, not `/orders/7`. */
function routeOf(req: IncomingMessage): string {
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  if (path === DASHBOARD_PATH || path.startsWith(`${DASHBOARD_PATH}/`)) return DASHBOARD_PATH;
  return path.startsWith("/orders/") ? "/orders/:id" : path;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  recordStatus(status);
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new SyntaxError(`body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
