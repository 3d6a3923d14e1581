import type { LibName } from "./libs.js";
import type { Results } from "./run.js";
import { median } from "./stats.js";
import {
  ratioCell as cell,
  formatValue,
  ratioOf,
  runsList,
  markdownTable as table,
  textTable,
  versionsLine,
} from "./table.js";

type Row = Results["figures"][number];

const fmt = (value: number | undefined, unit: string) => formatValue(value, unit);

function ratioCell(row: Row, peer: LibName | "rtt"): string {
  return cell(ratioOf(row.median["svc-jobs"], row.median[peer]), row.targets?.[peer], row.better);
}

const HEAD = [
  "figure",
  "svc-jobs",
  "BullMQ 6.7",
  "Bee-Queue 2.0",
  "svc-jobs / BullMQ",
  "svc-jobs / Bee-Queue",
];
/** The extra column of a table whose figures have a `baseline` (features, fairness). */
function vsBaseline(results: Results): string {
  return results.figures.some((f) => f.baseline?.startsWith("fairness-")) ? "vs alone" : "vs plain";
}

function head(results: Results): string[] {
  return results.figures.some((f) => f.baseline) ? [...HEAD, vsBaseline(results)] : HEAD;
}

/**
 * svc-jobs's figure over its baseline's: the median of the per-run ratios when both come
 * from the same runs (the same measure), else the ratio of the medians.
 */
function baselineRatio(results: Results, row: Row): number | undefined {
  const base = results.figures.find((f) => f.id === row.baseline);
  const ours = row.values["svc-jobs"];
  const theirs = base?.values["svc-jobs"];
  if (!base || !ours || !theirs || ours.length === 0) return undefined;
  if (ours.length === theirs.length && theirs.every((v) => v > 0)) {
    return median(ours.map((v, i) => v / (theirs[i] as number)));
  }
  return ratioOf(row.median["svc-jobs"], base.median["svc-jobs"]);
}

function baselineCell(results: Results, row: Row): string {
  if (!row.baseline)
    return results.figures.some((f) => f.baseline === row.id) ? "1.00x (base)" : "-";
  const r = baselineRatio(results, row);
  return cell(r === undefined || Number.isNaN(r) ? undefined : r, row.baselineTarget, row.better);
}

const GROUP_TITLES: Record<string, string> = {
  inflight: "Layout v2: acks with N jobs in flight (N reserved, then 2,000 awaited acks)",
  backlog:
    "Layout v2: reserve, one job at a time (awaited), behind a large backlog vs an empty-ish one",
};

function groupTitle(results: Results, group: string): string {
  if (group === "fairness")
    return "svc-jobs flow control: pickup latency of nine light groups, alone and while one group floods (vs alone: the median of the per-run ratios to the alone row of the same percentile, measured back to back in each run)";
  if (group === "features")
    return `svc-jobs features, one worker at concurrency 50 (N = ${results.n.toLocaleString("en-US")} jobs per row; vs plain: the median of the per-run ratios to the plain row, measured back to back in each run)`;
  const l = results.layout;
  if (!l) return GROUP_TITLES[group] ?? group;
  if (group === "inflight")
    return `Layout v2: acks with N jobs in flight (N reserved, then ${l.inflightAcks.toLocaleString("en-US")} awaited acks)`;
  if (group === "backlog")
    return `Layout v2: ${l.backlogReserves.toLocaleString("en-US")} reserves, one job at a time (awaited), behind a ${l.backlog.toLocaleString("en-US")}-job backlog vs an empty-ish one`;
  return group;
}

function groups(results: Results): string[] {
  return [...new Set(results.figures.flatMap((f) => (f.group ? [f.group] : [])))];
}

function only(results: Results, group: string | undefined): Results {
  return { ...results, figures: results.figures.filter((f) => f.group === group) };
}

function rows(results: Results): string[][] {
  const withBaseline = head(results).length > HEAD.length;
  return results.figures.map((row) => {
    const label =
      row.id === "enqueue-one" && row.median.rtt !== undefined
        ? `${row.label} [1 round trip: ${fmt(row.median.rtt, row.unit)}/s, svc-jobs ${ratioCell(row, "rtt")}]`
        : row.label;
    return [
      label,
      fmt(row.median["svc-jobs"], row.unit),
      fmt(row.median.bullmq, row.unit),
      fmt(row.median["bee-queue"], row.unit),
      ratioCell(row, "bullmq"),
      ratioCell(row, "bee-queue"),
      ...(withBaseline ? [baselineCell(results, row)] : []),
    ];
  });
}

/** The results as plain-text tables for the terminal: the main one, then one per group. */
export function renderTable(results: Results): string {
  const parts: string[] = [];
  const main = only(results, undefined);
  if (main.figures.length > 0) parts.push(renderOneTable(main, true));
  for (const g of groups(results)) {
    parts.push(`${groupTitle(results, g)}\n${renderOneTable(only(results, g), false)}`);
  }
  return parts.join("\n\n");
}

function renderOneTable(results: Results, withN: boolean): string {
  return `${withN ? `N = ${results.n.toLocaleString("en-US")} jobs, ` : ""}median of ${results.runs} run(s)${results.smoke ? " (SMOKE: figures mean nothing)" : ""}\n${textTable(head(results), rows(results))}`;
}

function markdownTable(results: Results): string {
  return table(head(results), rows(results));
}

/**
 * The dated "## Layout v2..." and "## Flow control..." sections of the current BENCHMARKS.md
 * (written by hand from `--only` runs): a full run keeps them at the end instead of dropping
 * them.
 */
function keptSections(previous: string): string {
  const kept: string[] = [];
  let current: string[] | undefined;
  for (const line of previous.split("\n")) {
    if (line.startsWith("## ")) {
      if (current) kept.push(current.join("\n").trimEnd());
      current =
        line.startsWith("## Layout v2") || line.startsWith("## Flow control") ? [line] : undefined;
    } else if (current) current.push(line);
  }
  if (current) kept.push(current.join("\n").trimEnd());
  return kept.length > 0 ? `\n${kept.join("\n\n")}\n` : "";
}

/** BENCHMARKS.md: machine, versions, the tables, how to rerun, and the kept dated sections. */
export function renderMarkdown(results: Results, previous = ""): string {
  const table = markdownTable(only(results, undefined));
  const groupTables = groups(results)
    .map((g) => `\n### ${groupTitle(results, g)}\n\n${markdownTable(only(results, g))}\n`)
    .join("");
  const machine = Object.entries(results.machine)
    .map(([k, v]) => `- ${k}: ${v}`)
    .join("\n");
  const versions = versionsLine(results.versions);
  const notes = results.figures
    .filter((f) => f.note)
    .map((f) => `- ${f.label}: ${f.note}`)
    .join("\n");
  const raw = runsList(results.figures, fmt);
  return `# Benchmarks

svc-jobs (\`RedisJobQueue\` + \`WorkerRunner\`, through the public API) against BullMQ and
Bee-Queue on the same local redis-server, in one run: libraries alternate, every
measurement runs in a fresh Node process, the database is flushed between measurements,
and each figure is the median of ${results.runs} runs. No-op jobs with a small JSON payload,
completed jobs removed. Generated by \`pnpm bench\` on ${results.startedAt}.

Ratios are svc-jobs / peer. For throughput higher is better; for latency, memory and RSS
lower is better. Targets (issue 14) are shown next to the ratio they apply to.

## Results (N = ${results.n.toLocaleString("en-US")})

${table}
${groupTables}
Figure notes:
${notes}
- process-c1 / process-c50 / scaling / the svc-jobs features table: N jobs are enqueued
  first (bulk, untimed, in a separate process); the time runs from the workers' start to
  the last completion.
- pickup latency: a producer in the worker's process enqueues one job every 2 ms with
  the time in the payload; the handler records \`now - sent\`.
- Redis memory per waiting job: INFO \`used_memory\` before and after enqueueing N jobs
  (no worker), divided by N.
- worker peak RSS: \`process.memoryUsage.rss()\` sampled every 10 ms during process-c50.

Runs (every value, in run order):
${raw}

## Machine

${machine}

Versions: ${versions}.

This machine is shared and two runs minutes apart differ by up to 20%: compare figures only
within one run, and treat differences under 15-20% as noise.

## Rerun

\`\`\`sh
pnpm install
pnpm bench                       # about 25 minutes; writes bench/results/latest.json and this file
pnpm bench --smoke               # tiny N, one run: checks every scenario works (CI)
pnpm bench --only process-c50,latency --runs 5 --no-write
\`\`\`

Needs \`redis-server\` on the PATH (it starts its own on a free loopback port, and a
3-master cluster for the cluster row). With \`taskset\` available, Redis is pinned to
CPU 0 and the measured Node process to CPU 1.
${keptSections(previous)}`;
}
