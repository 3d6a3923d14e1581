import type { QueueStats } from "@svc-jobs/core";
import type { MinuteBucket } from "../queue-monitor.js";
import { ThroughputChart } from "./chart.js";
import { ActionButton } from "./layout.js";
import { actionHref, listHref, type ViewContext } from "./view-context.js";

/** One queue's row of the overview. */
export interface QueueSummary {
  name: string;
  /** `null` when the backend failed: `error` says why. */
  stats: QueueStats | null;
  error?: string;
  buckets: MinuteBucket[];
  /** Why the chart is empty for good (the queue records no events), if it is. */
  eventsOff?: string;
}

/** The overview's table of queues: counts by state, paused, DLQ size, the last hour. */
export function QueueTable(props: { ctx: ViewContext; queues: QueueSummary[] }) {
  const { ctx } = props;
  return (
    <table class="queues">
      <thead>
        <tr>
          <th>queue</th>
          <th>status</th>
          <th class="num">ready</th>
          <th class="num">delayed</th>
          <th class="num">processing</th>
          <th class="num">dead (DLQ)</th>
          <th class="num">completed</th>
          <th class="num">cancelled</th>
          <th>last hour</th>
          {ctx.readOnly ? null : <th>actions</th>}
        </tr>
      </thead>
      <tbody>
        {props.queues.map((q) => {
          const s = q.stats;
          const done = q.buckets.reduce((n, b) => n + b.completed, 0);
          const failed = q.buckets.reduce((n, b) => n + b.failed, 0);
          const cell = (state: Parameters<typeof listHref>[2], n: number | undefined) => (
            <td class="num" data-state={state}>
              <a href={listHref(ctx, q.name, state)}>{n ?? "—"}</a>
            </td>
          );
          return (
            <tr data-queue={q.name}>
              <td>
                <a href={listHref(ctx, q.name, "ready")}>{q.name}</a>
              </td>
              <td>
                {s === null ? (
                  <span class="badge dead" title={q.error}>
                    unavailable
                  </span>
                ) : s.paused ? (
                  <span class="badge paused">paused</span>
                ) : (
                  <span class="badge running">running</span>
                )}
              </td>
              {cell("ready", s?.ready)}
              {cell("delayed", s?.delayed)}
              {cell("processing", s?.processing)}
              {cell("dead", s?.dlq)}
              {cell("completed", s?.completed)}
              {cell("cancelled", s?.cancelled)}
              <td>
                <ThroughputChart buckets={q.buckets} queue={q.name} />
                <span class="muted">
                  {q.eventsOff ? "no events recorded" : `${done} completed · ${failed} failed`}
                </span>
              </td>
              {ctx.readOnly || s === null ? (
                ctx.readOnly ? null : (
                  <td />
                )
              ) : (
                <td>
                  <QueueActions ctx={ctx} queue={q.name} paused={s.paused} dead={s.dlq} back="/" />
                </td>
              )}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Pause or resume, and (with dead jobs) requeue all or purge the DLQ. */
export function QueueActions(props: {
  ctx: ViewContext;
  queue: string;
  paused: boolean;
  dead: number;
  back: string;
}) {
  const { ctx, queue } = props;
  if (ctx.readOnly) return null;
  return (
    <div class="bar">
      {props.paused ? (
        <ActionButton
          ctx={ctx}
          name="resume"
          href={actionHref(ctx, queue, "resume")}
          label="Resume"
          confirm={`Resume queue ${queue}? Workers take jobs again.`}
          back={props.back}
        />
      ) : (
        <ActionButton
          ctx={ctx}
          name="pause"
          href={actionHref(ctx, queue, "pause")}
          label="Pause"
          confirm={`Pause queue ${queue}? Every worker stops taking jobs; running jobs finish.`}
          back={props.back}
        />
      )}
      {props.dead > 0 ? (
        <>
          <ActionButton
            ctx={ctx}
            name="requeue-all"
            href={actionHref(ctx, queue, "dlq/requeue-all")}
            label={`Requeue all ${props.dead} dead`}
            confirm={`Move every dead job of ${queue} back to ready?`}
            back={props.back}
          />
          <ActionButton
            ctx={ctx}
            name="purge"
            href={actionHref(ctx, queue, "dlq/purge")}
            label="Purge DLQ"
            confirm={`Delete every dead job of ${queue} for good? This cannot be undone.`}
            danger
            back={props.back}
          />
        </>
      ) : null}
    </div>
  );
}
