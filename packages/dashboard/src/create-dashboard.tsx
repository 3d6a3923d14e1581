import type { IncomingMessage, ServerResponse } from "node:http";
import { getRequestListener } from "@hono/node-server";
import {
  ConfigError,
  JOB_STATES,
  type JobEvent,
  type JobInfo,
  type JobQueue,
  type JobState,
  JobValidationError,
} from "@svc-jobs/core";
import { rejectUnknownKeys } from "@svc-jobs/core/backend";
import { type Context, Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Child } from "hono/jsx";
import { secureHeaders } from "hono/secure-headers";
import { streamSSE } from "hono/streaming";
import { type Asset, loadAssets } from "./assets.js";
import {
  DASHBOARD_OPTION_KEYS,
  type DashboardLogger,
  type DashboardOptions,
} from "./dashboard-options.js";
import { QueueMonitor } from "./queue-monitor.js";
import { type Principal, SESSION_COOKIE, Security } from "./security.js";
import { EventTable } from "./views/event-rows.js";
import { JobListBody, type JobListModel, NameFilter } from "./views/job-list.js";
import { JobDetail } from "./views/job-page.js";
import { Flash, Layout, Live } from "./views/layout.js";
import { LoginPage } from "./views/login.js";
import { type QueueSummary, QueueTable } from "./views/overview.js";
import { jobHref, listHref, type ViewContext } from "./views/view-context.js";

/**
 * What {@link createDashboard} returns: a Node `http` request listener, mountable under
 * any path, with the same app as a fetch handler and a `close()`.
 */
export interface DashboardHandler {
  /** Serves one request: `http.createServer(dashboard)`, `app.use("/jobs", dashboard)`. */
  (req: IncomingMessage, res: ServerResponse): void;
  /** The same dashboard as a fetch handler (Hono's `app.mount`, Bun, Deno). */
  fetch(request: Request): Promise<Response>;
  /** Stops following the queues' events and ends the live connections. Leaves the queues open. */
  close(): Promise<void>;
}

interface Env {
  Variables: {
    principal: NonNullable<Principal>;
    /** A plain form's `back` field: where to return after the action. */
    back: string | undefined;
  };
}

const DEFAULT_QUEUE_NAME = "default";
const PAGE_LIMIT = 50;
const CANCEL_REASON = "cancelled from the dashboard";
/** Live parts reload at most this often, however many events arrive. */
const CHANGE_COALESCE_MS = 750;
const KEEPALIVE_MS = 25_000;
/** Rows of the overview's event log (it reloads, so the page never grows). */
const EVENT_LOG_ROWS = 25;

/** htmx swaps error responses too, so a refused action says why in `#flash`. */
const CSP = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", "data:"],
  connectSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
};

/**
 * Creates the operator dashboard over one or more queues of any backend: an overview
 * with counts and the last hour's throughput, jobs by state with cursor paging, job
 * pages, and actions (retry, requeue all, cancel, run a delayed job now, pause/resume,
 * purge the DLQ) with confirmation and CSRF protection, updated live from `events()`.
 *
 * Authentication is required: pass `auth: { token }` or `auth: { username, password }`,
 * or `auth: false` to turn it off explicitly. Options it does not know are refused.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { createDashboard } from "@svc-jobs/dashboard";
 *
 * const dashboard = createDashboard({
 *   queues: { emails: queue },
 *   auth: { token: process.env.SVC_JOBS_DASHBOARD_TOKEN ?? "" },
 * });
 * createServer(dashboard).listen(8080, "127.0.0.1");
 * ```
 */
export function createDashboard(options: DashboardOptions): DashboardHandler {
  const config = resolveOptions(options);
  const { base, queues, readOnly, title, logger } = config;
  const security = new Security(config.auth, config.secret);
  const monitor = new QueueMonitor(queues, config.eventBufferSize, logger);
  monitor.start();
  const assets = loadAssets();
  const asset = (name: string) => `${base}/assets/${(assets.get(name) as Asset).hash}/${name}`;
  const queueNames = [...queues.keys()];
  const openStreams = new Set<AbortController>();

  const viewContext = (c: Context<Env>): ViewContext => ({
    base,
    title,
    readOnly,
    csrf: security.csrfToken(c.get("principal")),
    canLogout: security.mode === "token" && getCookie(c, SESSION_COOKIE) !== undefined,
    queueNames,
    asset,
  });

  const app = new Hono<Env>();

  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: CSP,
      referrerPolicy: "same-origin",
      xFrameOptions: "DENY",
      crossOriginResourcePolicy: "same-origin",
      // HSTS is the host application's call: a handler mounted under one path must not
      // pin a whole domain (and its subdomains) to HTTPS.
      strictTransportSecurity: false,
    }),
  );

  // Static files: public library code and the stylesheet, cached for good by hash.
  app.get("/assets/:hash/:name", (c) => {
    const file = assets.get(c.req.param("name"));
    if (!file || file.hash !== c.req.param("hash")) return c.text("not found", 404);
    return c.body(file.body, 200, {
      "Content-Type": file.contentType,
      "Cache-Control": "public, max-age=31536000, immutable",
    });
  });

  if (security.mode === "token") {
    app.get("/login", (c) =>
      html(c, <LoginPage ctx={{ base, title, asset }} failed={false} next={nextOf(c)} />),
    );
    app.post("/login", async (c) => {
      if (!sameOrigin(c)) return c.text("cross-site login refused", 403);
      const form = await c.req.parseBody();
      const token = typeof form.token === "string" ? form.token : "";
      const next = safeBack(typeof form.next === "string" ? form.next : "/");
      if (!security.checkToken(token)) {
        return html(c, <LoginPage ctx={{ base, title, asset }} failed next={next} />, 401);
      }
      setCookie(c, SESSION_COOKIE, security.sessionValue(), {
        path: base === "" ? "/" : base,
        httpOnly: true,
        sameSite: "Strict",
        // Behind a proxy that ends TLS the request is http: trust its X-Forwarded-Proto.
        secure:
          new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https",
      });
      return c.redirect(`${base}${next}`, 303);
    });
  }

  // Authentication: everything below needs credentials.
  app.use("*", async (c, next) => {
    const principal = security.authenticate(
      c.req.header("authorization"),
      getCookie(c, SESSION_COOKIE),
    );
    if (!principal) return unauthorized(c);
    c.set("principal", principal);
    c.header("Cache-Control", "no-store");
    await next();
  });

  // Actions: refused in read-only mode, and without the viewer's CSRF token.
  app.use("*", async (c, next) => {
    const method = c.req.method;
    if (method === "GET" || method === "HEAD") return next();
    const isLogout = c.req.path === "/logout";
    if (readOnly && !isLogout) {
      return outcome(c, 403, false, "The dashboard is read-only: actions are turned off.");
    }
    if (!sameOrigin(c)) {
      return outcome(c, 403, false, "Cross-site request refused.");
    }
    let token = c.req.header("x-csrf-token");
    if (isForm(c)) {
      const form = await c.req.parseBody();
      if (token === undefined && typeof form._csrf === "string") token = form._csrf;
      if (typeof form.back === "string") c.set("back", form.back);
    }
    if (!security.checkCsrf(c.get("principal"), token)) {
      return outcome(
        c,
        403,
        false,
        "Missing or wrong CSRF token: reload the page and try again (API clients: send X-CSRF-Token from GET /api/session).",
      );
    }
    await next();
  });

  // ---- pages ----

  const overviewModel = async (): Promise<QueueSummary[]> =>
    Promise.all(
      queueNames.map(async (name) => {
        const queue = queues.get(name) as JobQueue;
        const buckets = monitor.throughput(name);
        const eventsOff = monitor.unavailable(name);
        try {
          return { name, stats: await queue.stats(), buckets, ...(eventsOff ? { eventsOff } : {}) };
        } catch (error) {
          logger.error({ queue: name, err: messageOf(error) }, "dashboard: stats() failed");
          return { name, stats: null, error: messageOf(error), buckets };
        }
      }),
    );

  const recentEvents = (limit: number) =>
    queueNames
      .flatMap((queue) => monitor.recent(queue, { limit }).map((event) => ({ queue, event })))
      .sort((a, b) => b.event.at.getTime() - a.event.at.getTime())
      .slice(0, limit);

  app.get("/", async (c) => {
    const ctx = viewContext(c);
    const summaries = await overviewModel();
    return html(
      c,
      <Layout ctx={ctx} heading="Queues" sse={`${base}/sse`}>
        <Live id="overview" src={`${base}/fragments/overview`}>
          <QueueTable ctx={ctx} queues={summaries} />
        </Live>
        <p class="muted legend">
          <span class="c" />
          completed <span class="f" />
          failed attempts, per minute, since{" "}
          {new Date(monitor.startedAt).toISOString().slice(0, 16).replace("T", " ")} UTC (when this
          dashboard started following events)
        </p>
        <h2>recent events</h2>
        <Live id="events" src={`${base}/fragments/events`}>
          <EventTable ctx={ctx} rows={recentEvents(EVENT_LOG_ROWS)} />
        </Live>
      </Layout>,
    );
  });

  app.get("/fragments/overview", async (c) =>
    html(c, <QueueTable ctx={viewContext(c)} queues={await overviewModel()} />),
  );

  app.get("/fragments/events", (c) =>
    html(c, <EventTable ctx={viewContext(c)} rows={recentEvents(EVENT_LOG_ROWS)} />),
  );

  app.get("/queues/:queue", (c) => {
    const name = c.req.param("queue");
    if (!queues.has(name)) return notFound(c, `There is no queue named ${name}.`);
    return c.redirect(listHref({ base } as ViewContext, name, "ready"), 302);
  });

  app.get("/queues/:queue/jobs", async (c) => {
    const name = c.req.param("queue");
    const queue = queues.get(name);
    if (!queue) return notFound(c, `There is no queue named ${name}.`);
    const query = listQuery(c);
    if ("error" in query) return badRequest(c, query.error);
    const ctx = viewContext(c);
    let model: JobListModel;
    try {
      const [page, stats] = await Promise.all([
        queue.listJobs({
          state: query.state,
          limit: query.limit,
          ...(query.name ? { name: query.name } : {}),
          ...(query.cursor ? { cursor: query.cursor } : {}),
        }),
        queue.stats(),
      ]);
      model = { queue: name, ...query, jobs: page.jobs, next: page.cursor, stats };
    } catch (error) {
      if (error instanceof JobValidationError) return badRequest(c, error.message);
      throw error;
    }
    const here = new URL(c.req.url);
    here.searchParams.delete("fragment");
    const self = `${here.pathname}${here.search}`;
    const body = <JobListBody ctx={ctx} model={model} self={self} />;
    if (c.req.query("fragment") === "1") return html(c, body);
    const fragment = new URL(c.req.url);
    fragment.searchParams.set("fragment", "1");
    return html(
      c,
      <Layout
        ctx={ctx}
        heading={`${name}: ${query.state} jobs${query.name ? ` named ${query.name}` : ""}`}
        sse={`${base}/sse?queue=${encodeURIComponent(name)}`}
      >
        <NameFilter
          ctx={ctx}
          queue={name}
          state={query.state}
          {...(query.name ? { name: query.name } : {})}
        />
        <Live id="job-list" src={`${base}${fragment.pathname}${fragment.search}`}>
          {body}
        </Live>
      </Layout>,
    );
  });

  app.get("/queues/:queue/jobs/:id", async (c) => {
    const name = c.req.param("queue");
    const id = c.req.param("id");
    const queue = queues.get(name);
    if (!queue) return notFound(c, `There is no queue named ${name}.`);
    const job = await queue.getJob(id);
    const ctx = viewContext(c);
    const path = jobHref(ctx, name, id);
    if (!job) {
      return notFound(
        c,
        `Queue ${name} has no job ${id}: it never existed, or it finished and the queue keeps no finished jobs.`,
      );
    }
    const detail = (
      <JobDetail
        ctx={ctx}
        queue={name}
        job={job}
        events={monitor.recent(name, { jobId: id, limit: 200 })}
        self={new URL(c.req.url).pathname}
      />
    );
    if (c.req.query("fragment") === "1") return html(c, detail);
    return html(
      c,
      <Layout
        ctx={ctx}
        heading={`${name}: job ${id}`}
        sse={`${base}/sse?queue=${encodeURIComponent(name)}&job=${encodeURIComponent(id)}`}
      >
        <Live id="job" src={`${path}?fragment=1`}>
          {detail}
        </Live>
      </Layout>,
    );
  });

  app.get("/lookup", async (c) => {
    const name = c.req.query("queue") ?? queueNames[0] ?? "";
    const id = (c.req.query("id") ?? "").trim();
    if (!queues.has(name)) return notFound(c, `There is no queue named ${name}.`);
    if (id === "") return badRequest(c, "Give a job id to look up.");
    return c.redirect(jobHref({ base } as ViewContext, name, id), 302);
  });

  app.post("/logout", (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: base === "" ? "/" : base });
    return c.redirect(`${base}/login`, 303);
  });

  // ---- live updates (Server-Sent Events) ----

  app.get("/sse", (c) => {
    const onlyQueue = c.req.query("queue");
    const onlyJob = c.req.query("job");
    return streamSSE(c, async (stream) => {
      const ended = new AbortController();
      openStreams.add(ended);
      stream.onAbort(() => ended.abort());
      let pending: NodeJS.Timeout | undefined;
      const send = (event: string, data: string) => {
        stream.writeSSE({ event, data }).catch(() => ended.abort());
      };
      const unsubscribe = monitor.subscribe((queue, event) => {
        if (onlyQueue !== undefined && queue !== onlyQueue) return;
        if (onlyJob !== undefined && event.jobId !== onlyJob) return;
        pending ??= setTimeout(() => {
          pending = undefined;
          send("change", queue);
        }, CHANGE_COALESCE_MS);
      });
      const keepalive = setInterval(() => {
        stream.write(": keepalive\n\n").catch(() => ended.abort());
      }, KEEPALIVE_MS);
      try {
        await new Promise<void>((resolve) => {
          if (ended.signal.aborted) resolve();
          ended.signal.addEventListener("abort", () => resolve(), { once: true });
        });
      } finally {
        unsubscribe();
        clearInterval(keepalive);
        clearTimeout(pending);
        openStreams.delete(ended);
      }
    });
  });

  // ---- JSON API and actions ----

  app.get("/api/session", (c) =>
    c.json({
      csrfToken: security.csrfToken(c.get("principal")),
      readOnly,
      queues: queueNames,
    }),
  );

  app.get("/api/queues", async (c) => {
    const summaries = await overviewModel();
    return c.json(
      summaries.map((q) => ({
        name: q.name,
        stats: q.stats,
        ...(q.error ? { error: q.error } : {}),
        lastHour: {
          completed: q.buckets.reduce((n, b) => n + b.completed, 0),
          failed: q.buckets.reduce((n, b) => n + b.failed, 0),
          perMinute: q.buckets.map((b) => ({ ...b, at: new Date(b.at).toISOString() })),
        },
      })),
    );
  });

  app.get("/api/queues/:queue/jobs", async (c) => {
    const queue = queues.get(c.req.param("queue"));
    if (!queue) return c.json({ error: "no such queue" }, 404);
    const query = listQuery(c);
    if ("error" in query) return c.json({ error: query.error }, 400);
    try {
      const page = await queue.listJobs({
        state: query.state,
        limit: query.limit,
        ...(query.name ? { name: query.name } : {}),
        ...(query.cursor ? { cursor: query.cursor } : {}),
      });
      return c.json({ jobs: page.jobs.map(jobJson), cursor: page.cursor });
    } catch (error) {
      if (error instanceof JobValidationError) return c.json({ error: error.message }, 400);
      throw error;
    }
  });

  app.get("/api/queues/:queue/jobs/:id", async (c) => {
    const name = c.req.param("queue");
    const queue = queues.get(name);
    if (!queue) return c.json({ error: "no such queue" }, 404);
    const job = await queue.getJob(c.req.param("id"));
    if (!job) return c.json({ error: "no such job" }, 404);
    const events = monitor.recent(name, { jobId: job.id, limit: 200 });
    return c.json({ ...jobJson(job), events: events.map(eventJson) });
  });

  const action = (
    path: string,
    run: (queue: JobQueue, c: Context<Env>) => Promise<[number, string, object?]>,
  ) =>
    app.post(`/api/queues/:queue/${path}`, async (c) => {
      const queue = queues.get(c.req.param("queue"));
      if (!queue) return outcome(c, 404, false, `There is no queue named ${c.req.param("queue")}.`);
      const [status, message, data] = await run(queue, c);
      return outcome(c, status, status < 300, message, data);
    });

  action("jobs/:id/retry", async (queue, c) => {
    const id = c.req.param("id") as string;
    if (await queue.dlq.requeue(id)) return [200, `Job ${id} is back in ready, attempts reset.`];
    const job = await queue.getJob(id);
    return [
      409,
      `Job ${id} was not retried: it is ${job ? job.state : "not in this queue"}, not dead.`,
    ];
  });

  action("jobs/:id/cancel", async (queue, c) => {
    const id = c.req.param("id") as string;
    const before = await queue.getJob(id);
    if (await queue.cancel(id, { reason: CANCEL_REASON })) {
      return [
        200,
        before?.state === "processing"
          ? `Job ${id} is cancelled; its handler's signal aborts within a second.`
          : `Job ${id} is cancelled.`,
      ];
    }
    const job = await queue.getJob(id);
    return [409, `Job ${id} was not cancelled: it is ${job ? job.state : "not in this queue"}.`];
  });

  action("jobs/:id/promote", async (queue, c) => {
    const id = c.req.param("id") as string;
    if (await queue.promote(id)) return [200, `Job ${id} is ready now.`];
    const job = await queue.getJob(id);
    return [
      409,
      `Job ${id} was not promoted: it is ${job ? job.state : "not in this queue"}, not delayed.`,
    ];
  });

  action("pause", async (queue, c) => {
    await queue.pause();
    return [
      200,
      `Queue ${c.req.param("queue")} is paused: workers take no jobs until resumed.`,
      { paused: true },
    ];
  });

  action("resume", async (queue, c) => {
    await queue.resume();
    return [200, `Queue ${c.req.param("queue")} is running again.`, { paused: false }];
  });

  action("dlq/requeue-all", async (queue) => {
    const count = await queue.dlq.requeueAll();
    return [200, `${count} dead ${count === 1 ? "job is" : "jobs are"} back in ready.`, { count }];
  });

  action("dlq/purge", async (queue) => {
    const count = await queue.dlq.purge();
    return [200, `${count} dead ${count === 1 ? "job was" : "jobs were"} deleted.`, { count }];
  });

  app.notFound((c) => notFound(c as Context<Env>, "There is no such page."));

  app.onError((error, c) => {
    // Only the message: never the request, its headers or a payload.
    logger.error({ path: c.req.path, err: messageOf(error) }, "dashboard: request failed");
    return outcome(c as Context<Env>, 500, false, `The queue backend failed: ${messageOf(error)}`);
  });

  // ---- helpers that need the configuration ----

  function unauthorized(c: Context<Env>): Response | Promise<Response> {
    // The title is the operator's, but a header carries printable ASCII only, and no quotes.
    const safeTitle = [...title].filter(
      (ch) => ch >= " " && ch <= "~" && ch !== '"' && ch !== "\\",
    );
    const realm = `realm="${safeTitle.join("")}", charset="UTF-8"`;
    if (security.mode === "basic") c.header("WWW-Authenticate", `Basic ${realm}`);
    else c.header("WWW-Authenticate", `Bearer ${realm}`);
    c.header("Cache-Control", "no-store");
    if (security.mode === "token" && wantsHtml(c) && c.req.method === "GET") {
      return html(
        c,
        <LoginPage
          ctx={{ base, title, asset }}
          failed={false}
          next={`${c.req.path}${search(c)}`}
        />,
        401,
      );
    }
    return wantsHtml(c)
      ? c.text("401 Unauthorized: this dashboard needs credentials.", 401)
      : c.json({ error: "unauthorized" }, 401);
  }

  function outcome(
    c: Context<Env>,
    status: number,
    ok: boolean,
    message: string,
    data: object = {},
  ): Response | Promise<Response> {
    const code = status as 200;
    if (c.req.header("hx-request") === "true") {
      if (ok) c.header("HX-Trigger", "svc-jobs-changed");
      return html(c, <Flash ok={ok} message={message} />, code);
    }
    if (isForm(c) && wantsHtml(c)) {
      if (!ok) return simplePage(c, status >= 500 ? "Error" : "Refused", message, code);
      return c.redirect(`${base}${safeBack(c.get("back") ?? "/")}`, 303);
    }
    return c.json({ ok, message, ...data }, code);
  }

  function notFound(c: Context<Env>, message: string) {
    return wantsHtml(c)
      ? simplePage(c, "Not found", message, 404)
      : c.json({ error: message }, 404);
  }

  function badRequest(c: Context<Env>, message: string) {
    return wantsHtml(c)
      ? simplePage(c, "Bad request", message, 400)
      : c.json({ error: message }, 400);
  }

  function simplePage(c: Context<Env>, heading: string, message: string, status: number) {
    if (!c.get("principal")) return c.text(message, status as 400);
    // A live part or an htmx action: only the message, into the part that asked.
    if (c.req.header("hx-request") === "true") {
      return html(c, <Flash ok={false} message={message} />, status);
    }
    return html(
      c,
      <Layout ctx={viewContext(c)} heading={heading}>
        <div class="flash bad">{message}</div>
        <p>
          <a href={`${base}/`}>Back to the queues</a>
        </p>
      </Layout>,
      status,
    );
  }

  const fetch = async (request: Request): Promise<Response> => {
    if (base !== "") {
      const url = new URL(request.url);
      if (url.pathname === base || url.pathname.startsWith(`${base}/`)) {
        url.pathname = url.pathname.slice(base.length) || "/";
        return app.fetch(new Request(url, request));
      }
    }
    return app.fetch(request);
  };
  const listener = getRequestListener(app.fetch, { overrideGlobalObjects: false });
  const handler = ((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? "/";
    if (base !== "" && (url === base || url.startsWith(`${base}/`) || url.startsWith(`${base}?`))) {
      req.url = url.slice(base.length) || "/";
      if (req.url.startsWith("?")) req.url = `/${req.url}`;
    }
    void listener(req, res);
  }) as DashboardHandler;
  handler.fetch = fetch;
  handler.close = async () => {
    monitor.stop();
    for (const stream of openStreams) stream.abort();
  };
  return handler;
}

// ---- option checks ----

interface ResolvedOptions {
  queues: Map<string, JobQueue>;
  auth: DashboardOptions["auth"];
  readOnly: boolean;
  base: string;
  title: string;
  secret: string | undefined;
  eventBufferSize: number;
  logger: DashboardLogger;
}

function fail(message: string): never {
  throw new ConfigError(`createDashboard: ${message}`);
}

function isQueue(value: unknown): value is JobQueue {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as JobQueue).stats === "function" &&
    typeof (value as JobQueue).listJobs === "function" &&
    typeof (value as JobQueue).getJob === "function"
  );
}

function resolveOptions(options: DashboardOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    fail("takes an options object: createDashboard({ queues, auth })");
  }
  rejectUnknownKeys(
    options,
    DASHBOARD_OPTION_KEYS,
    "createDashboard options",
    (_key, message) => new ConfigError(message),
  );
  const queues = new Map<string, JobQueue>();
  if (isQueue(options.queues)) {
    queues.set(DEFAULT_QUEUE_NAME, options.queues);
  } else if (typeof options.queues === "object" && options.queues !== null) {
    for (const [name, queue] of Object.entries(options.queues)) {
      if (name.trim() === "") fail("queues has a queue with an empty name");
      if (!isQueue(queue)) {
        fail(`queues.${name} is not a JobQueue (an InMemoryJobQueue, a RedisJobQueue, ...)`);
      }
      queues.set(name, queue);
    }
  }
  if (queues.size === 0) {
    fail("queues must be a JobQueue or a non-empty { name: JobQueue } object");
  }

  const auth = options.auth;
  if (auth === undefined || auth === null || auth === (true as unknown)) {
    fail(
      "refusing to start without authentication: pass auth: { token } or auth: { username, password } (or auth: false to turn it off, only behind something that authenticates already)",
    );
  }
  if (auth !== false) {
    if (typeof auth !== "object") fail("auth must be { token }, { username, password } or false");
    if ("token" in auth) {
      rejectUnknownKeys(
        auth,
        { keys: ["token"], noun: "auth option" },
        "createDashboard auth",
        (_k, m) => new ConfigError(m),
      );
      if (typeof auth.token !== "string" || auth.token.length < 16) {
        fail("auth.token must be a string of at least 16 characters (e.g. `openssl rand -hex 24`)");
      }
    } else {
      rejectUnknownKeys(
        auth,
        {
          keys: ["username", "password"],
          hints: { user: "username", pass: "password" },
          noun: "auth option",
        },
        "createDashboard auth",
        (_k, m) => new ConfigError(m),
      );
      const { username, password } = auth as { username?: unknown; password?: unknown };
      if (typeof username !== "string" || username === "" || username.includes(":")) {
        fail("auth.username must be a non-empty string without a colon");
      }
      if (typeof password !== "string" || password.length < 8) {
        fail("auth.password must be a string of at least 8 characters");
      }
    }
  }

  const readOnly = options.readOnly ?? false;
  if (typeof readOnly !== "boolean") fail("readOnly must be true or false");

  let base = options.basePath ?? "";
  if (typeof base !== "string" || /[?#\s]/.test(base) || (base !== "" && !base.startsWith("/"))) {
    fail(`basePath must be a path such as "/admin/jobs", got ${JSON.stringify(base)}`);
  }
  base = base.replace(/\/+$/, "");

  const title = options.title ?? "svc-jobs";
  if (typeof title !== "string" || title.trim() === "") fail("title must be a non-empty string");

  const secret = options.secret;
  if (secret !== undefined && (typeof secret !== "string" || secret.length < 32)) {
    fail("secret must be a string of at least 32 characters");
  }

  const eventBufferSize = options.eventBufferSize ?? 2000;
  if (
    !Number.isSafeInteger(eventBufferSize) ||
    eventBufferSize < 0 ||
    eventBufferSize > 1_000_000
  ) {
    fail("eventBufferSize must be a whole number from 0 to 1,000,000");
  }

  const logger = options.logger ?? {
    warn: (fields: object, message: string) => console.warn(message, fields),
    error: (fields: object, message: string) => console.error(message, fields),
  };
  if (typeof logger.warn !== "function" || typeof logger.error !== "function") {
    fail("logger must have warn(fields, message) and error(fields, message)");
  }

  return { queues, auth, readOnly, base, title, secret, eventBufferSize, logger };
}

// ---- request helpers ----

type ListQuery =
  | {
      state: JobState;
      name: string | undefined;
      cursor: string | undefined;
      limit: number;
      from: number;
    }
  | { error: string };

function listQuery(c: Context): ListQuery {
  const state = (c.req.query("state") ?? "ready") as JobState;
  if (!JOB_STATES.includes(state)) {
    return { error: `state must be one of ${JOB_STATES.join(", ")}` };
  }
  const limitText = c.req.query("limit");
  const limit = limitText === undefined ? PAGE_LIMIT : Number(limitText);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) {
    return { error: "limit must be a whole number from 1 to 1000" };
  }
  const from = Number(c.req.query("from") ?? 0);
  const name = c.req.query("name")?.trim() || undefined;
  const cursor = c.req.query("cursor") || undefined;
  return { state, name, cursor, limit, from: Number.isSafeInteger(from) && from > 0 ? from : 0 };
}

function wantsHtml(c: Context): boolean {
  const accept = c.req.header("accept") ?? "";
  return accept.includes("text/html");
}

function isForm(c: Context): boolean {
  const type = c.req.header("content-type") ?? "";
  return (
    type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/form-data")
  );
}

/**
 * False for a request a browser marks as cross-site (`Sec-Fetch-Site`), or, from clients
 * that do not send that header, whose `Origin` is another host. A second line behind the
 * CSRF token.
 */
function sameOrigin(c: Context): boolean {
  const site = c.req.header("sec-fetch-site");
  if (site !== undefined) return site === "same-origin" || site === "none";
  const origin = c.req.header("origin");
  if (origin === undefined) return true;
  const host = c.req.header("x-forwarded-host") ?? c.req.header("host");
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** A path inside the dashboard to return to, never another site. */
function safeBack(back: string): string {
  return back.startsWith("/") && !back.startsWith("//") && !back.includes("\\") ? back : "/";
}

function nextOf(c: Context): string {
  return safeBack(c.req.query("next") ?? "/");
}

function search(c: Context): string {
  return new URL(c.req.url).search;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function renderToString(node: Child): Promise<string> {
  return String(await (node as { toString(): string | Promise<string> }).toString());
}

function html(c: Context, node: Child, status = 200): Promise<Response> {
  return renderToString(node).then((body) => c.html(`<!DOCTYPE html>${body}`, status as 200));
}

function jobJson(job: JobInfo) {
  return {
    ...job,
    availableAt: job.availableAt.toISOString(),
    createdAt: job.createdAt.toISOString(),
    finishedAt: job.finishedAt?.toISOString() ?? null,
  };
}

function eventJson(event: JobEvent) {
  return { ...event, at: event.at.toISOString() };
}
