import type { JobEvent } from "@svc-jobs/core";
import { formatDate, jobHref, type ViewContext } from "./view-context.js";

/** What an event says beyond its type, in a few words. */
function details(event: JobEvent): string {
  const parts: string[] = [];
  if (event.attempt !== undefined) parts.push(`attempt ${event.attempt}`);
  if (event.delaySeconds !== undefined && event.delaySeconds > 0) {
    parts.push(`in ${event.delaySeconds} s`);
  }
  if (event.priority !== undefined && event.priority !== 0)
    parts.push(`priority ${event.priority}`);
  if (event.progress !== undefined) parts.push(`progress ${JSON.stringify(event.progress)}`);
  if (event.reason !== undefined) parts.push(`reason: ${event.reason}`);
  if (event.error !== undefined) parts.push(`error: ${event.error.slice(0, 300)}`);
  return parts.join(" · ");
}

/** One row of an event log. */
export function EventRow(props: { ctx: ViewContext; queue: string; event: JobEvent }) {
  const { ctx, queue, event } = props;
  return (
    <tr>
      <td>{formatDate(event.at)}</td>
      <td>{queue}</td>
      <td>
        <span class={event.type === "dead" ? "badge dead" : "badge"}>{event.type}</span>
      </td>
      <td>
        <a href={jobHref(ctx, queue, event.jobId)}>{event.jobId}</a>
      </td>
      <td>{event.name}</td>
      <td>{details(event)}</td>
    </tr>
  );
}

/** The event log: `rows` newest first. */
export function EventTable(props: {
  ctx: ViewContext;
  rows: { queue: string; event: JobEvent }[];
}) {
  if (props.rows.length === 0) {
    return <p class="muted">No event since the dashboard started.</p>;
  }
  return (
    <table class="events">
      <thead>
        <tr>
          <th>time (UTC)</th>
          <th>queue</th>
          <th>event</th>
          <th>job</th>
          <th>name</th>
          <th>details</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => (
          <EventRow ctx={props.ctx} queue={r.queue} event={r.event} />
        ))}
      </tbody>
    </table>
  );
}
