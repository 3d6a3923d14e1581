import type { JobState } from "@svc-jobs/core";

/** What every page needs to know about the request and the dashboard. */
export interface ViewContext {
  /** The mount path, `""` or `"/admin/jobs"`: every link starts with it. */
  base: string;
  title: string;
  readOnly: boolean;
  /** The CSRF token of the viewer, sent back with every action. */
  csrf: string;
  /** Whether a logout button makes sense (token auth, logged in by cookie). */
  canLogout: boolean;
  queueNames: string[];
  /** `/assets/<hash>/<name>` of each asset. */
  asset(name: string): string;
}

/** The link to a queue's list of jobs in one state. */
export function listHref(
  ctx: ViewContext,
  queue: string,
  state: JobState,
  extra: Record<string, string | undefined> = {},
): string {
  const params = new URLSearchParams({ state });
  for (const [key, value] of Object.entries(extra)) {
    if (value !== undefined && value !== "") params.set(key, value);
  }
  return `${ctx.base}/queues/${encodeURIComponent(queue)}/jobs?${params}`;
}

/** The link to one job's page. */
export function jobHref(ctx: ViewContext, queue: string, id: string): string {
  return `${ctx.base}/queues/${encodeURIComponent(queue)}/jobs/${encodeURIComponent(id)}`;
}

/** The URL of an action (a POST) on a queue, e.g. `pause`, `jobs/7/retry`. */
export function actionHref(ctx: ViewContext, queue: string, action: string): string {
  return `${ctx.base}/api/queues/${encodeURIComponent(queue)}/${action}`;
}

/** A date as `2026-12-02 07:41:05` (UTC), or a dash. */
export function formatDate(date: Date | null | undefined): string {
  if (!date) return "—";
  return date.toISOString().replace("T", " ").slice(0, 19);
}

/** Any JSON value, pretty-printed for a `<pre>` (escaped by the renderer, never raw HTML). */
export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? "null";
}
