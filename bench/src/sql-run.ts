/**
 * The SQL rows (issue 18): svc-jobs `SqlJobQueue` on PostgreSQL against pg-boss 10 and
 * graphile-worker 0.17 on one PostgreSQL this script starts (plus svc-jobs on a SQLite
 * file, a row with no peer). Run by run.ts: `pnpm bench --only sql` (these rows alone,
 * rewriting the "SQL backend (issue 18)" section of BENCHMARKS.md), and as part of a full
 * `pnpm bench` and of `--smoke`. As the Redis rows: every measurement in a fresh process,
 * libraries alternate, the database is dropped and created again between measurements,
 * each figure is the median of the runs.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { startPostgres } from "@svc-jobs/test-servers";
import pg from "pg";
import {
  buildDir,
  bundleScenario,
  canPin,
  machine,
  measureAll,
  NODE_CPU,
  nodeCommand,
  pin,
  repoRoot,
  SERVER_CPU,
  startChild,
  summarize,
  version,
  workspaceVersion,
  writeResults,
} from "./harness.js";
import { PGBOSS_POLL_SECONDS, SQL_LIBS, type SqlLibName, type SqlTarget } from "./sql-libs.js";
import type { SqlScenarioSpec } from "./sql-scenario.js";
import {
  ratioCell as cell,
  formatValue,
  markdownTable,
  ratioOf,
  runsList,
  textTable,
  versionsLine,
} from "./table.js";

const bundle = join(buildDir, "sql-scenario.mjs");

/** `--only` ids that select SQL figures: `sql` (all of them) or a figure id. */
export function isSqlId(id: string): boolean {
  return id === "sql" || id.startsWith("sql-");
}

export interface SqlRunOptions {
  smoke: boolean;
  runs: number;
  /** `--only` ids (the SQL ones are used), or undefined for every SQL figure. */
  only?: string[];
  /** Rewrite the SQL section of BENCHMARKS.md (only when every SQL figure ran). */
  write: boolean;
  /** `--packages DIR`: @svc-jobs/core and @svc-jobs/sql from DIR/core and DIR/sql. */
  packagesDir?: string;
}

interface SqlSizes {
  enqueueOne: number;
  enqueueBulk: number;
  /** Backlog of the process rows (filled with the bulk API, untimed). */
  backlogC1: number;
  backlogC50: number;
  /** Time caps of the timed parts, seconds. */
  enqueueSeconds: number;
  c1Seconds: number;
  c50Seconds: number;
  latencyJobs: number;
  latencyRate: number;
  latencyConcurrency: number;
}

function sizes(smoke: boolean): SqlSizes {
  return smoke
    ? {
        enqueueOne: 50,
        enqueueBulk: 500,
        backlogC1: 50,
        backlogC50: 200,
        enqueueSeconds: 2,
        c1Seconds: 2,
        c50Seconds: 3,
        latencyJobs: 10,
        latencyRate: 20,
        latencyConcurrency: 10,
      }
    : {
        enqueueOne: 5_000,
        enqueueBulk: 20_000,
        backlogC1: 2_000,
        backlogC50: 10_000,
        enqueueSeconds: 3,
        c1Seconds: 5,
        c50Seconds: 7,
        latencyJobs: 100,
        latencyRate: 10,
        latencyConcurrency: 10,
      };
}

const LIB_TITLES: Record<SqlLibName, string> = {
  "svc-jobs": "svc-jobs (PostgreSQL)",
  "pg-boss": "pg-boss",
  "graphile-worker": "graphile-worker",
  "svc-jobs-sqlite": "svc-jobs (SQLite file, WAL)",
};

interface SqlFigure {
  id: string;
  label: string;
  unit: "jobs/s" | "ms";
  better: "higher" | "lower";
  measure: string;
  pick: string;
  /** svc-jobs / each peer: at least this (higher) or at most this (lower). */
  target?: number;
}

function figures(s: SqlSizes): SqlFigure[] {
  return [
    {
      id: "sql-enqueue-one",
      label: "enqueue, one at a time (jobs/s)",
      unit: "jobs/s",
      better: "higher",
      measure: "enqueue-one",
      pick: "jobsPerSec",
    },
    {
      id: "sql-enqueue-bulk",
      label: "enqueue, bulk API, batches of 1,000 (jobs/s)",
      unit: "jobs/s",
      better: "higher",
      measure: "enqueue-bulk",
      pick: "jobsPerSec",
    },
    {
      id: "sql-process-c1",
      label: "process a backlog, concurrency 1 (jobs/s)",
      unit: "jobs/s",
      better: "higher",
      measure: "process-c1",
      pick: "jobsPerSec",
      target: 1,
    },
    {
      id: "sql-process-c50",
      label: "process a backlog, concurrency 50 (jobs/s)",
      unit: "jobs/s",
      better: "higher",
      measure: "process-c50",
      pick: "jobsPerSec",
      target: 1,
    },
    {
      id: "sql-latency-p50",
      label: `pickup latency p50 at ${s.latencyRate} jobs/s (ms)`,
      unit: "ms",
      better: "lower",
      measure: "latency",
      pick: "p50",
      target: 1,
    },
    {
      id: "sql-latency-p99",
      label: `pickup latency p99 at ${s.latencyRate} jobs/s (ms)`,
      unit: "ms",
      better: "lower",
      measure: "latency",
      pick: "p99",
      target: 1,
    },
  ];
}

export interface SqlResults {
  startedAt: string;
  smoke: boolean;
  runs: number;
  sizes: SqlSizes;
  machine: Record<string, string | number>;
  versions: Record<string, string>;
  figures: (SqlFigure & {
    values: Partial<Record<SqlLibName, number[]>>;
    median: Partial<Record<SqlLibName, number>>;
  })[];
}

// ---- processes --------------------------------------------------------------------

async function bundleSqlScenario(packagesDir?: string): Promise<void> {
  if (packagesDir && !existsSync(join(packagesDir, "sql/src/index.ts")))
    throw new Error(
      `--packages ${packagesDir}: no sql/src/index.ts (archive packages/sql with packages/core)`,
    );
  await bundleScenario({
    entry: "sql-scenario.ts",
    outfile: bundle,
    // The peers, the drivers and OpenTelemetry (core loads it at run time) stay external.
    external: ["pg-boss", "graphile-worker", "pg", "kysely", "better-sqlite3", "@opentelemetry/*"],
    backend: "sql",
    packagesDir,
  });
}

/** A measurement in a fresh process (harness.ts), pinned to CPU 1 when it can. */
function runChild(spec: SqlScenarioSpec): Promise<Record<string, number>> {
  return startChild(nodeCommand(), bundle, spec, `sql ${spec.lib} ${spec.kind}`, "ignore").result;
}

// ---- main -------------------------------------------------------------------------

export async function runSql(opts: SqlRunOptions): Promise<SqlResults> {
  const s = sizes(opts.smoke);
  const all = figures(s);
  const wanted = opts.only?.filter(isSqlId);
  const selected =
    !wanted || wanted.length === 0 || wanted.includes("sql")
      ? all
      : all.filter((f) => wanted.includes(f.id) || wanted.includes(`sql-${f.measure}`));
  const complete = selected.length === all.length;
  const measures = [...new Set(selected.map((f) => f.measure))];

  await bundleSqlScenario(opts.packagesDir);
  const server = await startPostgres();
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  const sqliteDir = mkdtempSync(join(os.tmpdir(), "svc-jobs-bench-sqlite-"));
  const target: SqlTarget = {
    pgUrl: server.url.replace(/\/postgres$/, "/bench"),
    sqliteFile: join(sqliteDir, "jobs.db"),
  };
  try {
    // PostgreSQL (the postmaster and every process it forks later) on CPU 0.
    const dataDir = (await admin.query<{ data_directory: string }>("SHOW data_directory")).rows[0]
      ?.data_directory;
    const postmaster = Number(
      readFileSync(join(dataDir ?? "", "postmaster.pid"), "utf8").split("\n")[0],
    );
    pin(postmaster, SERVER_CPU);
    for (const pid of execFileSync("ps", ["--ppid", String(postmaster), "-o", "pid="])
      .toString()
      .split("\n")
      .map((l) => Number(l.trim()))
      .filter((p) => p > 0)) {
      pin(pid, SERVER_CPU);
    }
    const pgVersion = (await admin.query<{ server_version: string }>("SHOW server_version")).rows[0]
      ?.server_version;

    const clean = async () => {
      await admin.query("DROP DATABASE IF EXISTS bench WITH (FORCE)");
      await admin.query("CREATE DATABASE bench");
      for (const suffix of ["", "-wal", "-shm"])
        rmSync(`${target.sqliteFile}${suffix}`, { force: true });
    };
    const child = (spec: Omit<SqlScenarioSpec, "target">) => runChild({ ...spec, target });
    const work = async (lib: SqlLibName, backlog: number, concurrency: number, seconds: number) => {
      await child({ kind: "fill", lib, n: backlog, concurrency: 1 });
      return child({ kind: "work", lib, n: backlog, concurrency, seconds });
    };
    const run: Record<string, (lib: SqlLibName) => Promise<Record<string, number>>> = {
      "enqueue-one": (lib) =>
        child({ kind: "enqueue-one", lib, n: s.enqueueOne, seconds: s.enqueueSeconds }),
      "enqueue-bulk": (lib) =>
        child({ kind: "enqueue-bulk", lib, n: s.enqueueBulk, seconds: s.enqueueSeconds }),
      "process-c1": (lib) => work(lib, s.backlogC1, 1, s.c1Seconds),
      "process-c50": (lib) => work(lib, s.backlogC50, 50, s.c50Seconds),
      latency: (lib) =>
        child({
          kind: "latency",
          lib,
          n: s.latencyJobs,
          rate: s.latencyRate,
          concurrency: s.latencyConcurrency,
        }),
    };

    const t0 = Date.now();
    const load0 = os.loadavg()[0] ?? 0;
    const measured = await measureAll<SqlLibName, SqlLibName>({
      measures,
      runs: opts.runs,
      libs: () => SQL_LIBS,
      clean,
      measure: (m, lib) => run[m]?.(lib),
      t0,
      tag: "sql ",
    });

    const results: SqlResults = {
      startedAt: new Date(t0).toISOString(),
      smoke: opts.smoke,
      runs: opts.runs,
      sizes: s,
      machine: {
        ...machine(),
        pinned: canPin ? `PostgreSQL on CPU ${SERVER_CPU}, Node on CPU ${NODE_CPU}` : "no",
        minutes: Number(((Date.now() - t0) / 60_000).toFixed(1)),
        // Other work on the machine: the 1-minute load average when the run began and ended.
        loadAverage: `${load0.toFixed(1)} at the start, ${(os.loadavg()[0] ?? 0).toFixed(1)} at the end`,
      },
      versions: {
        node: process.version,
        postgresql: pgVersion ?? "?",
        "svc-jobs": workspaceVersion("sql"),
        "pg-boss": version("pg-boss"),
        "graphile-worker": version("graphile-worker"),
        pg: version("pg"),
        kysely: version("kysely"),
        "better-sqlite3": version("better-sqlite3"),
        "svc-jobs sources": opts.packagesDir ? `--packages ${opts.packagesDir}` : "working tree",
      },
      figures: [],
    };
    for (const f of selected) {
      const byLib = measured.get(f.measure);
      if (!byLib) continue;
      results.figures.push({ ...f, ...summarize(byLib, f.pick) });
    }

    process.stdout.write(`\n${renderSqlTable(results)}\n`);
    writeResults(
      opts.smoke ? "sql-smoke.tmp.json" : complete ? "sql-latest.json" : "sql-partial.tmp.json",
      results,
    );
    if (opts.write && complete && !opts.smoke) {
      const md = join(repoRoot, "BENCHMARKS.md");
      writeSqlSection(md, renderSqlMarkdown(results));
      process.stdout.write(`report: ${md} (section "${SECTION}")\n`);
    }
    return results;
  } finally {
    await admin.end().catch(() => {});
    await server.stop();
    rmSync(sqliteDir, { recursive: true, force: true });
  }
}

// ---- report -----------------------------------------------------------------------

const SECTION = "## SQL backend (issue 18)";
type Row = SqlResults["figures"][number];

/** Whole ms from 10 ms up. */
const fmt = (value: number | undefined, unit: string) => formatValue(value, unit, 10);

/** Ratios from 10x up as whole numbers, under 0.1x with 2 significant digits. */
const ratioText = (r: number) =>
  r >= 10 ? r.toFixed(0) : r < 0.1 ? r.toPrecision(2) : r.toFixed(2);

function ratioCell(row: Row, peer: SqlLibName): string {
  const r = ratioOf(row.median["svc-jobs"], row.median[peer]);
  return cell(r, row.target, row.better, ratioText);
}

function head(r: SqlResults): string[] {
  return [
    "figure",
    LIB_TITLES["svc-jobs"],
    `pg-boss ${r.versions["pg-boss"]}`,
    `graphile-worker ${r.versions["graphile-worker"]}`,
    "svc-jobs / pg-boss",
    "svc-jobs / graphile-worker",
    LIB_TITLES["svc-jobs-sqlite"],
  ];
}

function rows(r: SqlResults): string[][] {
  return r.figures.map((row) => [
    row.label,
    fmt(row.median["svc-jobs"], row.unit),
    fmt(row.median["pg-boss"], row.unit),
    fmt(row.median["graphile-worker"], row.unit),
    ratioCell(row, "pg-boss"),
    ratioCell(row, "graphile-worker"),
    fmt(row.median["svc-jobs-sqlite"], row.unit),
  ]);
}

export function renderSqlTable(r: SqlResults): string {
  return `SQL backend (issue 18): one PostgreSQL ${r.versions.postgresql}, median of ${r.runs} run(s)${r.smoke ? " (SMOKE: figures mean nothing)" : ""}\n${textTable(head(r), rows(r))}`;
}

function renderSqlMarkdown(r: SqlResults): string {
  const s = r.sizes;
  const table = markdownTable(head(r), rows(r));
  const raw = runsList(r.figures, fmt);
  const machine = Object.entries(r.machine)
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
  const versions = versionsLine(r.versions);
  const n = (x: number) => x.toLocaleString("en-US");
  return `${SECTION}

svc-jobs \`SqlJobQueue\` (\`@svc-jobs/sql\`, dialect \`postgres\`, \`notify: pool\`) through
\`WorkerRunner\`, against pg-boss and graphile-worker on one local PostgreSQL, in one run
(libraries alternate, every measurement in a fresh Node process, the database dropped and
created again before each, each figure the median of ${r.runs} runs). The last column is
svc-jobs on a SQLite file in WAL mode (no peer: informational). No-op jobs with a small JSON
payload. Generated by \`pnpm bench --only sql\` on ${r.startedAt} (${r.machine.minutes} min).
Target (issue 18): ahead of both peers on processing throughput and pickup latency. Ratios
are svc-jobs / peer (throughput: higher is better; latency: lower is better).

${table}

Settings (each library's documented setup for throughput; the same pool size rule for all,
\`max(10, concurrency + 2)\` connections, graphile-worker's recommendation):
- svc-jobs: a \`pg\` Pool behind Kysely's \`PostgresDialect\`, \`notify: pool\` (blocked
  reserves wake on LISTEN/NOTIFY), \`WorkerRunner\` at the row's concurrency, queue defaults
  (a completed job is deleted at ack). Done = \`onJobSettled\` (after the ack committed).
- pg-boss: \`batchSize\` = concurrency, one \`work()\`, \`pollingIntervalSeconds: ${PGBOSS_POLL_SECONDS}\`
  (v10's minimum; v10 has no \`teamSize\`), \`schedule\` and \`supervise\` off in the measured
  processes. pg-boss polls (no LISTEN/NOTIFY): after each fetch its worker waits until
  ${PGBOSS_POLL_SECONDS} s have passed since the fetch began, so one worker runs at most
  \`batchSize\` jobs per ${PGBOSS_POLL_SECONDS} s and an idle one picks a job up up to
  ${PGBOSS_POLL_SECONDS} s late. Done = the handler returned (pg-boss then completes the batch
  without awaiting it).
- graphile-worker: \`run({ concurrency, maxPoolSize })\`, LISTEN/NOTIFY built in, the local
  queue on (\`localQueue.size\` = concurrency + 1, its docs' starting point),
  \`completeJobBatchDelay\` left off (batched completions leave finished jobs locked and
  re-runnable after a crash; svc-jobs commits every ack before the job counts as done,
  several acks of one process sharing a commit). Done = \`job:complete\` (the result
  written back).
- PostgreSQL: one server for all three, started by \`@svc-jobs/test-servers\`
  (\`startPostgres\`): default settings but \`fsync=off\` (\`synchronous_commit\` on), so a
  commit costs its round trip and its WAL write, not a disk flush; docs/sql-backend.md
  "Costs" has figures with \`fsync=on\` as well.
- SQLite: better-sqlite3 on a file, \`journal_mode = WAL\`, busy timeout 10 s, one Kysely per
  process (docs/sql-backend.md), the default poll (0.05 s) across processes.

What each row measures (every timed part stops after its N jobs or its time cap, whichever
comes first, so a slow library still costs a bounded time):
- enqueue, one at a time: awaited \`enqueue\` / \`send\` / \`addJob\` calls, up to
  ${n(s.enqueueOne)} jobs or ${s.enqueueSeconds} s. Bulk: \`enqueueMany\` / \`insert\` /
  \`addJobs\` with 1,000 jobs per call, up to ${n(s.enqueueBulk)} jobs or ${s.enqueueSeconds} s.
- process a backlog: ${n(s.backlogC1)} (concurrency 1) or ${n(s.backlogC50)} (concurrency 50)
  jobs enqueued first with the bulk API (untimed, another process), then one worker
  process, timed from its start to its last job done, for up to ${s.c1Seconds} s (c1) or
  ${s.c50Seconds} s (c50): jobs done / time.
- pickup latency: an idle worker (concurrency ${s.latencyConcurrency}, started 1 s before);
  a producer in its process on its own pool (its own queue object, so a wake-up goes through
  PostgreSQL as from another process; SQLite: the same queue object, which wakes its own
  waiters at once) enqueues ${n(s.latencyJobs)} jobs one at a time at ${s.latencyRate}/s with
  the send time in the payload; the handler records \`now - sent\`. p99 of ${n(s.latencyJobs)}
  samples per run.

Machine: ${machine}.

Versions: ${versions}.

The machine is shared: treat differences under 15-20% as noise (more when the load average
above is well over 2, the number of CPUs), and compare only figures of one run.

Runs (every value, in run order):
${raw}

Rerun only these rows (rewrites this section alone; about ${Math.max(1, Math.round(Number(r.machine.minutes)))} minutes):

\`\`\`sh
pnpm bench --only sql                   # or: pnpm --filter @svc-jobs/bench bench:sql
pnpm bench --only sql-process-c50,sql-latency --no-write   # some rows, nothing written
\`\`\`
`;
}

/** Replaces the SQL section of BENCHMARKS.md (up to the next `## ` heading), or appends it. */
export function writeSqlSection(file: string, section: string): void {
  const text = existsSync(file) ? readFileSync(file, "utf8") : "";
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.trim() === SECTION);
  if (start < 0) {
    writeFileSync(file, `${text.trimEnd()}\n\n${section.trimEnd()}\n`);
    return;
  }
  let end = lines.findIndex((l, i) => i > start && l.startsWith("## "));
  if (end < 0) end = lines.length;
  const before = lines.slice(0, start).join("\n").trimEnd();
  const after = lines.slice(end).join("\n").trim();
  writeFileSync(file, `${before}\n\n${section.trimEnd()}\n${after ? `\n${after}\n` : ""}`);
}
