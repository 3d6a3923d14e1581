import type { MinuteBucket } from "../queue-monitor.js";

const BAR = 5;
const HEIGHT = 36;

/**
 * The last hour of one queue as an inline SVG: one bar per minute, completed jobs (blue)
 * under failed attempts (red). No script, no external file.
 */
export function ThroughputChart(props: { buckets: MinuteBucket[]; queue: string }) {
  const { buckets } = props;
  const max = Math.max(1, ...buckets.map((b) => b.completed + b.failed));
  const completed = buckets.reduce((n, b) => n + b.completed, 0);
  const failed = buckets.reduce((n, b) => n + b.failed, 0);
  const width = buckets.length * BAR;
  const label = `${props.queue}: ${completed} completed, ${failed} failed in the last hour`;
  return (
    <svg
      class="chart"
      width={width}
      height={HEIGHT + 1}
      viewBox={`0 0 ${width} ${HEIGHT + 1}`}
      role="img"
      aria-label={label}
    >
      <title>{label}</title>
      <line class="axis" x1="0" y1={HEIGHT + 0.5} x2={width} y2={HEIGHT + 0.5} />
      {buckets.map((b, i) => {
        if (b.completed + b.failed === 0) return null;
        const hc = (b.completed / max) * HEIGHT;
        const hf = (b.failed / max) * HEIGHT;
        const minute = new Date(b.at).toISOString().slice(11, 16);
        return (
          <g>
            <title>{`${minute} UTC: ${b.completed} completed, ${b.failed} failed`}</title>
            {hc > 0 ? (
              <rect class="c" x={i * BAR} y={HEIGHT - hc} width={BAR - 1} height={hc} />
            ) : null}
            {hf > 0 ? (
              <rect class="f" x={i * BAR} y={HEIGHT - hc - hf} width={BAR - 1} height={hf} />
            ) : null}
          </g>
        );
      })}
    </svg>
  );
}
