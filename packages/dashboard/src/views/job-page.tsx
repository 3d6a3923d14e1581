import type { JobEvent, JobInfo } from "@svc-jobs/core";
import { EventTable } from "./event-rows.js";
import { ActionButton } from "./layout.js";
import { actionHref, formatDate, listHref, prettyJson, type ViewContext } from "./view-context.js";

/** Everything about one job, its recent events, and what can be done to it. */
export function JobDetail(props: {
  ctx: ViewContext;
  queue: string;
  job: JobInfo;
  events: JobEvent[];
  self: string;
}) {
  const { ctx, queue, job } = props;
  const id = encodeURIComponent(job.id);
  const actions = ctx.readOnly ? [] : jobActions(job.state);
  return (
    <>
      <div class="bar">
        <span class={job.state === "dead" ? "badge dead" : "badge"} data-job-state={job.state}>
          {job.state}
        </span>
        <a href={listHref(ctx, queue, job.state)}>{`all ${job.state} jobs of ${queue}`}</a>
        {actions.map((a) => (
          <ActionButton
            ctx={ctx}
            name={a.name}
            href={actionHref(ctx, queue, `jobs/${id}/${a.name}`)}
            label={a.label}
            confirm={a.confirm(job.id)}
            danger={a.name === "cancel"}
            back={props.self}
          />
        ))}
      </div>
      <dl class="fields">
        <dt>id</dt>
        <dd>{job.id}</dd>
        <dt>name</dt>
        <dd>{job.name}</dd>
        <dt>state</dt>
        <dd>{job.state}</dd>
        <dt>attempts</dt>
        <dd>{`${job.attempts} of ${job.maxAttempts}`}</dd>
        <dt>priority</dt>
        <dd>{job.priority}</dd>
        <dt>backoff</dt>
        <dd>{`${job.backoffSeconds} s`}</dd>
        <dt>created (UTC)</dt>
        <dd>{formatDate(job.createdAt)}</dd>
        <dt>available at (UTC)</dt>
        <dd>{formatDate(job.availableAt)}</dd>
        <dt>finished (UTC)</dt>
        <dd>{formatDate(job.finishedAt)}</dd>
      </dl>
      <div class="grid2">
        <section>
          <h2>payload</h2>
          <pre id="payload">{prettyJson(job.payload)}</pre>
        </section>
        <section>
          <h2>last error</h2>
          {job.lastError === null ? (
            <p class="muted">none</p>
          ) : (
            <pre id="last-error">{job.lastError}</pre>
          )}
          <h2>progress</h2>
          {job.progress === null ? (
            <p class="muted">none</p>
          ) : (
            <pre>{prettyJson(job.progress)}</pre>
          )}
          <h2>result</h2>
          {job.result === null ? <p class="muted">none</p> : <pre>{prettyJson(job.result)}</pre>}
        </section>
      </div>
      <h2>events</h2>
      {props.events.length === 0 ? (
        <p class="muted">No event of this job since the dashboard started.</p>
      ) : (
        <EventTable ctx={ctx} rows={props.events.map((event) => ({ queue, event }))} />
      )}
    </>
  );
}

interface JobAction {
  name: "retry" | "cancel" | "promote";
  label: string;
  confirm(id: string): string;
}

function jobActions(state: JobInfo["state"]): JobAction[] {
  const out: JobAction[] = [];
  if (state === "dead") {
    out.push({
      name: "retry",
      label: "Retry",
      confirm: (id) => `Move dead job ${id} back to ready, with its attempts reset?`,
    });
  }
  if (state === "delayed") {
    out.push({
      name: "promote",
      label: "Run now",
      confirm: (id) => `Make delayed job ${id} ready now?`,
    });
  }
  if (state === "ready" || state === "delayed" || state === "processing") {
    out.push({
      name: "cancel",
      label: "Cancel",
      confirm: (id) =>
        state === "processing"
          ? `Cancel running job ${id}? Its handler's signal aborts; it is never retried.`
          : `Cancel job ${id}? It leaves the queue and is never run.`,
    });
  }
  return out;
}
