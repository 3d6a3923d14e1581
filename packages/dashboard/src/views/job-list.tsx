import { JOB_STATES, type JobInfo, type JobState, type QueueStats } from "@svc-jobs/core";
import { QueueActions } from "./overview.js";
import { formatDate, jobHref, listHref, type ViewContext } from "./view-context.js";

/** What the list of one queue's jobs in one state shows. */
export interface JobListModel {
  queue: string;
  state: JobState;
  name: string | undefined;
  cursor: string | undefined;
  /** How many jobs came before this page (for "jobs 51–100"). */
  from: number;
  limit: number;
  jobs: JobInfo[];
  next: string | null;
  stats: QueueStats;
}

function countOf(stats: QueueStats, state: JobState): number {
  return state === "dead" ? stats.dlq : stats[state];
}

/** The tabs, the queue's actions and the page of jobs (the part that reloads live). */
export function JobListBody(props: { ctx: ViewContext; model: JobListModel; self: string }) {
  const { ctx, model } = props;
  const { queue, state, name } = model;
  const last = model.from + model.jobs.length;
  return (
    <>
      <nav class="tabs" aria-label="states">
        {JOB_STATES.map((s) => (
          <a
            href={listHref(ctx, queue, s, { name })}
            class={s === state ? "on" : ""}
            data-state={s}
            aria-current={s === state ? "page" : undefined}
          >
            {`${s} ${countOf(model.stats, s)}`}
          </a>
        ))}
        {model.stats.paused ? <span class="badge paused">paused</span> : null}
      </nav>
      <QueueActions
        ctx={ctx}
        queue={queue}
        paused={model.stats.paused}
        dead={model.stats.dlq}
        back={props.self}
      />
      {model.jobs.length === 0 ? (
        <p class="empty">
          {model.cursor
            ? "No more jobs on this page."
            : `No ${state} jobs${name ? ` named ${name}` : ""}.`}
        </p>
      ) : (
        <table class="jobs">
          <thead>
            <tr>
              <th>id</th>
              <th>name</th>
              <th class="num">attempts</th>
              <th class="num">priority</th>
              <th>created (UTC)</th>
              <th>
                {state === "completed" || state === "cancelled" ? "finished" : "available at"}
              </th>
              <th>last error</th>
            </tr>
          </thead>
          <tbody>
            {model.jobs.map((job) => (
              <tr data-job-id={job.id}>
                <td>
                  <a href={jobHref(ctx, queue, job.id)}>{job.id}</a>
                </td>
                <td>{job.name}</td>
                <td class="num">{`${job.attempts}/${job.maxAttempts}`}</td>
                <td class="num">{job.priority}</td>
                <td>{formatDate(job.createdAt)}</td>
                <td>
                  {formatDate(
                    state === "completed" || state === "cancelled"
                      ? job.finishedAt
                      : job.availableAt,
                  )}
                </td>
                <td class="err" title={job.lastError ?? ""}>
                  {job.lastError ?? ""}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="bar pager">
        <span class="muted">
          {model.jobs.length === 0
            ? ""
            : `jobs ${model.from + 1}–${last} of ${countOf(model.stats, state)}`}
        </span>
        {model.cursor ? (
          <a href={listHref(ctx, queue, state, { name })} rel="first">
            « first page
          </a>
        ) : null}
        {model.next ? (
          <a
            href={listHref(ctx, queue, state, {
              name,
              cursor: model.next,
              from: String(last),
              limit: model.limit === 50 ? undefined : String(model.limit),
            })}
            rel="next"
          >
            next page »
          </a>
        ) : null}
      </div>
    </>
  );
}

/** Filter by name (a form, so it works without scripts). */
export function NameFilter(props: {
  ctx: ViewContext;
  queue: string;
  state: JobState;
  name?: string;
}) {
  const { ctx } = props;
  return (
    <form
      method="get"
      action={`${ctx.base}/queues/${encodeURIComponent(props.queue)}/jobs`}
      class="bar"
    >
      <input type="hidden" name="state" value={props.state} />
      <label>
        name <input type="text" name="name" value={props.name ?? ""} placeholder="any" />
      </label>
      <button type="submit">Filter</button>
    </form>
  );
}
