import type { Child } from "hono/jsx";
import type { ViewContext } from "./view-context.js";

/** htmx settings: no eval, no inline styles (the CSP forbids both), same-origin requests only. */
const HTMX_CONFIG = JSON.stringify({
  allowEval: false,
  allowScriptTags: false,
  includeIndicatorStyles: false,
  selfRequestsOnly: true,
  historyCacheSize: 0,
  // Refusals (403, 409, ...) carry a message for #flash: swap them too.
  responseHandling: [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "[45]..", swap: true, error: true },
  ],
});

/** The frame of every page: header with the queues and the lookup by id, then `children`. */
export function Layout(props: {
  ctx: ViewContext;
  heading: string;
  children: Child;
  /** Where the page's live updates come from (an `/sse` URL), if it has any. */
  sse?: string;
}) {
  const { ctx } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="htmx-config" content={HTMX_CONFIG} />
        <title>{`${props.heading} · ${ctx.title}`}</title>
        <link rel="stylesheet" href={ctx.asset("dashboard.css")} />
        <script src={ctx.asset("htmx.js")} defer />
        <script src={ctx.asset("sse.js")} defer />
      </head>
      <body hx-headers={JSON.stringify({ "X-CSRF-Token": ctx.csrf })}>
        <header class="top">
          <a href={`${ctx.base}/`}>{ctx.title}</a>
          {ctx.queueNames.map((name) => (
            <a href={`${ctx.base}/queues/${encodeURIComponent(name)}/jobs?state=ready`}>{name}</a>
          ))}
          {ctx.readOnly ? <span class="ro">read-only</span> : null}
          <form method="get" action={`${ctx.base}/lookup`} aria-label="find a job by id">
            {ctx.queueNames.length > 1 ? (
              <select name="queue" aria-label="queue">
                {ctx.queueNames.map((name) => (
                  <option value={name}>{name}</option>
                ))}
              </select>
            ) : (
              <input type="hidden" name="queue" value={ctx.queueNames[0] ?? ""} />
            )}
            <input type="search" name="id" placeholder="job id" aria-label="job id" required />
            <button type="submit">Find job</button>
          </form>
          {ctx.canLogout ? (
            <form method="post" action={`${ctx.base}/logout`}>
              <input type="hidden" name="_csrf" value={ctx.csrf} />
              <button type="submit">Log out</button>
            </form>
          ) : null}
        </header>
        <main>
          <h1>{props.heading}</h1>
          <div id="flash" aria-live="polite" />
          {props.sse ? (
            <div hx-ext="sse" sse-connect={props.sse}>
              {props.children}
            </div>
          ) : (
            props.children
          )}
        </main>
      </body>
    </html>
  );
}

/**
 * A part of a page that reloads itself (from `src`) when the SSE stream says something
 * changed, or when an action on the page succeeded, instead of polling.
 */
export function Live(props: { id: string; src: string; children: Child }) {
  return (
    <div
      id={props.id}
      hx-get={props.src}
      hx-trigger="sse:change, svc-jobs-changed from:body"
      hx-swap="innerHTML"
    >
      {props.children}
    </div>
  );
}

/** The outcome of an action, shown in `#flash` without reloading the page. */
export function Flash(props: { ok: boolean; message: string }) {
  return (
    <div class={props.ok ? "flash ok" : "flash bad"} role="status">
      {props.message}
    </div>
  );
}

/**
 * A button that POSTs an action after a confirmation, through htmx (the outcome lands
 * in `#flash`), or as a plain form when scripts are off.
 */
export function ActionButton(props: {
  ctx: ViewContext;
  href: string;
  label: string;
  confirm: string;
  danger?: boolean;
  /** Where a plain form post returns to, inside the dashboard (without `basePath`). */
  back: string;
  name: string;
}) {
  return (
    <form
      method="post"
      action={props.href}
      hx-post={props.href}
      hx-confirm={props.confirm}
      hx-target="#flash"
      hx-swap="innerHTML"
      class="inline"
    >
      <input type="hidden" name="_csrf" value={props.ctx.csrf} />
      <input type="hidden" name="back" value={props.back} />
      <button type="submit" class={props.danger ? "danger" : "primary"} data-action={props.name}>
        {props.label}
      </button>
    </form>
  );
}
