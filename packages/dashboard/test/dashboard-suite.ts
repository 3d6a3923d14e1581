// The dashboard over real HTTP on loopback, for any backend: each backend's test file
// calls dashboardSuite() with a function that makes a fresh queue.
import type { JobQueue } from "@svc-jobs/core";
import { afterEach, describe, expect, it } from "vitest";
import { act, BEARER, csrfOf, eventually, type Served, serve, TOKEN } from "./helpers.js";

export type MakeQueue = (options?: { keepCancelled?: boolean }) => JobQueue;

const XSS = "<img src=x onerror=alert(1)>";

async function deadJob(queue: JobQueue, payload: object = { n: 1 }, error = "boom") {
  const job = await queue.enqueue("dies", payload as never, { maxAttempts: 1 });
  const held = await queue.reserveNext();
  expect(held?.id).toBe(job.id);
  await queue.fail(held!, new Error(error));
  return job.id;
}

export function dashboardSuite(makeQueue: MakeQueue): void {
  let served: Served | undefined;
  afterEach(async () => {
    await served?.close();
    served = undefined;
  });
  const start = async (...args: Parameters<typeof serve>) => {
    served = await serve(...args);
    return served;
  };
  const page = async (url: string, headers: Record<string, string> = BEARER) => {
    const res = await fetch(url, { headers: { ...headers, accept: "text/html" } });
    return { status: res.status, text: await res.text(), headers: res.headers };
  };

  describe("authentication", () => {
    it("answers 401 without credentials, with a wrong token, and on the API", async () => {
      const { url } = await start({ queues: makeQueue() });
      const none = await fetch(`${url}/`, { headers: { accept: "text/html" } });
      expect(none.status).toBe(401);
      expect(none.headers.get("www-authenticate")).toMatch(/^Bearer /);
      expect(await none.text()).toContain('name="token"'); // the login form, nothing else
      const wrong = await fetch(`${url}/api/queues`, { headers: { authorization: "Bearer nope" } });
      expect(wrong.status).toBe(401);
      expect(await wrong.json()).toEqual({ error: "unauthorized" });
      const noCookie = await fetch(`${url}/sse`);
      expect(noCookie.status).toBe(401);
      expect((await fetch(`${url}/api/queues`, { headers: BEARER })).status).toBe(200);
    });

    it("logs a browser in with the token: an HttpOnly cookie that is not the token", async () => {
      const { url } = await start({ queues: makeQueue() });
      const bad = await fetch(`${url}/login`, {
        method: "POST",
        body: new URLSearchParams({ token: "wrong", next: "/" }),
        redirect: "manual",
      });
      expect(bad.status).toBe(401);
      const res = await fetch(`${url}/login`, {
        method: "POST",
        body: new URLSearchParams({ token: TOKEN, next: "/queues/default/jobs?state=dead" }),
        redirect: "manual",
      });
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/queues/default/jobs?state=dead");
      const cookie = res.headers.get("set-cookie") ?? "";
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Strict/i);
      expect(cookie).not.toContain(TOKEN);
      const session = cookie.split(";")[0]!;
      const overview = await page(`${url}/`, { cookie: session });
      expect(overview.status).toBe(200);
      expect(overview.text).not.toContain(TOKEN);
    });

    it("takes basic credentials, compared in full", async () => {
      const { url } = await start({
        queues: makeQueue(),
        auth: { username: "ops", password: "correct horse" },
        title: 'ops "jobs"\r\nX-Injected: 1',
      });
      const basic = (u: string, p: string) => ({
        authorization: `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`,
      });
      const none = await fetch(`${url}/`);
      expect(none.status).toBe(401);
      expect(none.headers.get("www-authenticate")).toBe(
        'Basic realm="ops jobsX-Injected: 1", charset="UTF-8"',
      );
      expect((await fetch(`${url}/`, { headers: basic("ops", "wrong") })).status).toBe(401);
      expect((await fetch(`${url}/`, { headers: basic("root", "correct horse") })).status).toBe(
        401,
      );
      const ok = await page(`${url}/`, basic("ops", "correct horse"));
      expect(ok.status).toBe(200);
      expect(ok.text).not.toContain("correct horse");
    });

    it("runs without authentication only when told auth: false", async () => {
      const { url } = await start({ queues: makeQueue(), auth: false });
      expect((await fetch(`${url}/api/queues`)).status).toBe(200);
    });
  });

  describe("pages", () => {
    it("overview: every queue with its counts, paused state and DLQ size", async () => {
      const emails = makeQueue();
      const hooks = makeQueue();
      await emails.enqueue("send", { to: "a" });
      await emails.enqueue("send", { to: "b" }, { delaySeconds: 600 });
      await deadJob(hooks);
      await hooks.pause();
      const { url } = await start({ queues: { emails, hooks } });
      const { status, text, headers } = await page(`${url}/`);
      expect(status).toBe(200);
      expect(headers.get("content-security-policy")).toContain("script-src 'self'");
      expect(headers.get("content-security-policy")).toContain("default-src 'none'");
      const row = (name: string) =>
        text.slice(text.indexOf(`data-queue="${name}"`)).split("</tr>")[0]!;
      expect(row("emails")).toMatch(/data-state="ready"><a [^>]*>1</);
      expect(row("emails")).toMatch(/data-state="delayed"><a [^>]*>1</);
      expect(row("emails")).toContain("running");
      expect(row("hooks")).toMatch(/data-state="dead"><a [^>]*>1</);
      expect(row("hooks")).toContain("paused");
      expect(text).toContain("<svg"); // the last hour's chart
      const api = await (await fetch(`${url}/api/queues`, { headers: BEARER })).json();
      expect(api).toMatchObject([
        { name: "emails", stats: { ready: 1, delayed: 1, paused: false } },
        { name: "hooks", stats: { dlq: 1, paused: true } },
      ]);
    });

    it("renders every payload and error escaped: an <img onerror> payload is text", async () => {
      const queue = makeQueue();
      const id = await deadJob(queue, { html: XSS }, `failed on ${XSS}`);
      const { url } = await start({ queues: queue });
      const job = await page(`${url}/queues/default/jobs/${id}`);
      expect(job.status).toBe(200);
      expect(job.text).not.toContain("<img");
      expect(job.text).toContain("&lt;img src=x onerror=alert(1)&gt;");
      const list = await page(`${url}/queues/default/jobs?state=dead`);
      expect(list.text).not.toContain("<img");
      expect(list.text).toContain("failed on &lt;img");
    });

    it("shows a job: payload, attempts, last error, and refuses unknown ids with 404", async () => {
      const queue = makeQueue();
      const id = await deadJob(queue, { order: 42 }, "card declined");
      const { url } = await start({ queues: queue });
      const job = await page(`${url}/queues/default/jobs/${id}`);
      expect(job.text).toContain("&quot;order&quot;: 42");
      expect(job.text).toContain("1 of 1");
      expect(job.text).toContain("card declined");
      expect(job.text).toContain('data-action="retry"');
      const lookup = await fetch(`${url}/lookup?queue=default&id=${id}`, {
        headers: BEARER,
        redirect: "manual",
      });
      expect(lookup.headers.get("location")).toBe(`/queues/default/jobs/${id}`);
      expect((await page(`${url}/queues/default/jobs/999999`)).status).toBe(404);
      expect((await page(`${url}/queues/nope/jobs?state=ready`)).status).toBe(404);
      expect((await page(`${url}/queues/default/jobs?state=bogus`)).status).toBe(400);
      const api = await fetch(`${url}/api/queues/default/jobs/${id}`, { headers: BEARER });
      expect(await api.json()).toMatchObject({ id, state: "dead", lastError: "card declined" });
    });

    it("pages with cursors that keep their place while jobs move", async () => {
      const queue = makeQueue();
      await queue.enqueueMany(
        Array.from({ length: 120 }, (_, i) => ({ name: i % 2 ? "odd" : "even", payload: { i } })),
      );
      const { url } = await start({ queues: queue });
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const q = new URLSearchParams({ state: "ready", limit: "50" });
        if (cursor) q.set("cursor", cursor);
        const res = await fetch(`${url}/api/queues/default/jobs?${q}`, { headers: BEARER });
        const body = (await res.json()) as { jobs: { id: string }[]; cursor: string | null };
        seen.push(...body.jobs.map((j) => j.id));
        cursor = body.cursor;
        if (pages++ === 0) {
          // Jobs move underneath: the first page's jobs run, new ones arrive.
          for (let i = 0; i < 10; i++) await queue.ack((await queue.reserveNext())!);
          await queue.enqueue("late", { late: true });
        }
      } while (cursor);
      const original = seen.filter((id) => Number(id) <= 120);
      expect(new Set(seen).size).toBe(seen.length);
      expect(original).toHaveLength(120);
      // The HTML list: 50 rows, a "next page" link carrying the cursor.
      const html = await page(`${url}/queues/default/jobs?state=ready&name=odd`);
      expect(html.text.match(/data-job-id=/g)).toHaveLength(50);
      expect(html.text).toMatch(/rel="next"/);
      expect(html.text).toContain("jobs 1–50");
    });
  });

  describe("actions", () => {
    it("refuses an action without the CSRF token, or with another one, and changes nothing", async () => {
      const queue = makeQueue();
      const { url } = await start({ queues: queue });
      const without = await act(url, "default/pause", undefined);
      expect(without.status).toBe(403);
      expect(without.body.message).toMatch(/CSRF/);
      const wrong = await act(url, "default/pause", "not-the-token");
      expect(wrong.status).toBe(403);
      const form = await fetch(`${url}/api/queues/default/pause`, {
        method: "POST",
        headers: { ...BEARER, accept: "text/html" },
        body: new URLSearchParams({ _csrf: "" }),
      });
      expect(form.status).toBe(403);
      expect(await queue.isPaused()).toBe(false);
    });

    it("refuses a cross-site request even with the token", async () => {
      const queue = makeQueue();
      const { url } = await start({ queues: queue });
      const csrf = await csrfOf(url);
      const res = await fetch(`${url}/api/queues/default/pause`, {
        method: "POST",
        headers: { ...BEARER, "x-csrf-token": csrf, origin: "https://evil.example" },
      });
      expect(res.status).toBe(403);
      expect(await queue.isPaused()).toBe(false);
    });

    it("retries a dead job, requeues all, purges the DLQ", async () => {
      const queue = makeQueue();
      const first = await deadJob(queue);
      const { url } = await start({ queues: queue });
      const csrf = await csrfOf(url);
      const retried = await act(url, `default/jobs/${first}/retry`, csrf);
      expect(retried).toMatchObject({ status: 200, body: { ok: true } });
      expect((await queue.getJob(first))?.state).toBe("ready");
      const again = await act(url, `default/jobs/${first}/retry`, csrf);
      expect(again.status).toBe(409);
      expect(again.body.message).toContain("it is ready, not dead");

      await queue.cancel(first);
      await deadJob(queue);
      await deadJob(queue);
      const all = await act(url, "default/dlq/requeue-all", csrf);
      expect(all.body).toMatchObject({ ok: true, count: 2 });
      expect((await queue.stats()).dlq).toBe(0);
      await queue.dlq.requeueAll();
      for (const job of (await queue.listJobs({ state: "ready" })).jobs) await queue.cancel(job.id);
      await deadJob(queue);
      const purged = await act(url, "default/dlq/purge", csrf);
      expect(purged.body).toMatchObject({ ok: true, count: 1 });
      expect((await queue.stats()).dlq).toBe(0);
    });

    it("cancels a waiting and a running job, pauses and resumes", async () => {
      const queue = makeQueue({ keepCancelled: true });
      const { url } = await start({ queues: queue });
      const csrf = await csrfOf(url);
      const running = await queue.enqueue("long", {});
      const held = await queue.reserveNext();
      expect(held?.id).toBe(running.id);
      const waiting = await queue.enqueue("later", {}, { delaySeconds: 3600 });
      const c1 = await act(url, `default/jobs/${running.id}/cancel`, csrf);
      expect(c1.body.message).toContain("signal aborts");
      expect(await queue.checkReservations([held!])).toMatchObject([{ status: "cancelled" }]);
      await act(url, `default/jobs/${waiting.id}/cancel`, csrf);
      expect((await queue.getJob(waiting.id))?.state).toBe("cancelled");
      expect((await act(url, `default/jobs/${waiting.id}/cancel`, csrf)).status).toBe(409);

      expect((await act(url, "default/pause", csrf)).body).toMatchObject({ paused: true });
      expect(await queue.isPaused()).toBe(true);
      await act(url, "default/resume", csrf);
      expect(await queue.isPaused()).toBe(false);
    });

    it("promotes a delayed job to ready now", async () => {
      const queue = makeQueue();
      const { url } = await start({ queues: queue });
      const csrf = await csrfOf(url);
      const delayed = await queue.enqueue("later", {}, { delaySeconds: 3600 });
      const jobPage = await fetch(`${url}/queues/default/jobs/${delayed.id}`, { headers: BEARER });
      expect(await jobPage.text()).toContain('data-action="promote"');
      const res = await act(url, `default/jobs/${delayed.id}/promote`, csrf);
      expect(res).toMatchObject({ status: 200, body: { ok: true } });
      expect((await queue.getJob(delayed.id))?.state).toBe("ready");
      expect((await act(url, `default/jobs/${delayed.id}/promote`, csrf)).status).toBe(409);
    });

    it("answers an htmx action with a message for the page, and a plain form with a redirect", async () => {
      const queue = makeQueue();
      const { url } = await start({ queues: queue });
      const csrf = await csrfOf(url);
      const hx = await fetch(`${url}/api/queues/default/pause`, {
        method: "POST",
        headers: { ...BEARER, "hx-request": "true", "x-csrf-token": csrf },
      });
      expect(hx.status).toBe(200);
      expect(hx.headers.get("hx-trigger")).toBe("svc-jobs-changed");
      expect(await hx.text()).toContain('class="flash ok"');
      const form = await fetch(`${url}/api/queues/default/resume`, {
        method: "POST",
        headers: { ...BEARER, accept: "text/html" },
        body: new URLSearchParams({ _csrf: csrf, back: "/queues/default/jobs?state=ready" }),
        redirect: "manual",
      });
      expect(form.status).toBe(303);
      expect(form.headers.get("location")).toBe("/queues/default/jobs?state=ready");
      expect(await queue.isPaused()).toBe(false);
    });

    it("read-only: shows no action and refuses every action with 403", async () => {
      const queue = makeQueue();
      const id = await deadJob(queue);
      const { url } = await start({ queues: queue, readOnly: true });
      const job = await page(`${url}/queues/default/jobs/${id}`);
      expect(job.text).not.toContain("data-action=");
      expect(job.text).toContain("read-only");
      const csrf = await csrfOf(url);
      for (const path of [`default/jobs/${id}/retry`, "default/pause", "default/dlq/purge"]) {
        expect((await act(url, path, csrf)).status).toBe(403);
      }
      expect((await queue.getJob(id))?.state).toBe("dead");
    });
  });

  describe("mounting and live updates", () => {
    it("mounts under a path, whether or not the host strips it", async () => {
      const queue = makeQueue();
      // A plain http server that routes /admin/jobs/* to the dashboard, unstripped.
      const { url } = await start(
        { queues: queue, basePath: "/admin/jobs/" },
        (d) => (req, res) => {
          if (req.url?.startsWith("/admin/jobs")) d(req, res);
          else res.writeHead(404).end("host app");
        },
      );
      const overview = await page(`${url}/admin/jobs/`);
      expect(overview.status).toBe(200);
      expect(overview.text).toContain('href="/admin/jobs/queues/default/jobs?state=ready"');
      expect(overview.text).toMatch(/src="\/admin\/jobs\/assets\/[0-9a-f]+\/htmx\.js"/);
      const asset = overview.text.match(/\/admin\/jobs\/assets\/[0-9a-f]+\/htmx\.js/)![0];
      const js = await fetch(`${url}${asset}`);
      expect(js.status).toBe(200);
      expect(js.headers.get("cache-control")).toContain("immutable");
      expect((await js.text()).length).toBeGreaterThan(10_000);
      expect((await fetch(`${url}/elsewhere`)).status).toBe(404);
      await served!.close();
      // Express-style: the host strips the mount path before calling the handler.
      const stripped = await start({ queues: queue, basePath: "/ops" }, (d) => (req, res) => {
        if (req.url?.startsWith("/ops")) {
          req.url = req.url.slice(4) || "/";
          d(req, res);
        } else res.writeHead(404).end();
      });
      const p = await page(`${stripped.url}/ops/queues/default/jobs?state=ready`);
      expect(p.status).toBe(200);
      expect(p.text).toContain('action="/ops/lookup"');
      // A plain form post (no scripts) comes back to the page it was sent from.
      const job = await queue.enqueue("x", {}, { delaySeconds: 60 });
      const jobPage = await page(`${stripped.url}/ops/queues/default/jobs/${job.id}`);
      expect(jobPage.text).toContain(`name="back" value="/queues/default/jobs/${job.id}"`);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(jobPage.text)![1]!;
      const posted = await fetch(`${stripped.url}/ops/api/queues/default/jobs/${job.id}/promote`, {
        method: "POST",
        headers: { ...BEARER, accept: "text/html" },
        body: new URLSearchParams({ _csrf: csrf, back: `/queues/default/jobs/${job.id}` }),
        redirect: "manual",
      });
      expect(posted.headers.get("location")).toBe(`/ops/queues/default/jobs/${job.id}`);
    });

    it("serves the same dashboard as a fetch handler", async () => {
      const queue = makeQueue();
      const { dashboard } = await start({ queues: queue, basePath: "/jobs" });
      const res = await dashboard.fetch(
        new Request("http://localhost/jobs/api/queues", { headers: BEARER }),
      );
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject([{ name: "default" }]);
    });

    it("streams changes over SSE as events happen, and the chart counts them", async () => {
      const queue = makeQueue();
      const { url } = await start({ queues: queue });
      const abort = new AbortController();
      const res = await fetch(`${url}/sse`, { headers: BEARER, signal: abort.signal });
      expect(res.headers.get("content-type")).toContain("text/event-stream");
      const reader = res.body!.getReader();
      let text = "";
      // Give the subscription a moment, then make events.
      await new Promise((r) => setTimeout(r, 100));
      const job = await queue.enqueue("live", { x: 1 });
      await queue.ack((await queue.reserveNext())!);
      await deadJob(queue);
      await eventually(async () => {
        const { value } = await reader.read();
        text += new TextDecoder().decode(value);
        expect(text).toContain("event: change");
      });
      // The overview's event log (reloaded on that change) shows the job's events.
      const log = await fetch(`${url}/fragments/events`, { headers: BEARER });
      expect(await log.text()).toContain(`>${job.id}</a>`);
      abort.abort();
      await eventually(async () => {
        const api = (await (await fetch(`${url}/api/queues`, { headers: BEARER })).json()) as {
          lastHour: { completed: number; failed: number };
        }[];
        expect(api[0]!.lastHour).toMatchObject({ completed: 1, failed: 1 });
      });
    });
  });
}
