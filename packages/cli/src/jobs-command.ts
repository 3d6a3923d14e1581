import { type JobInfo, type JobQueue, type JobState, JobValidationError } from "@svc-jobs/core";
import { CliError, EXIT_USAGE } from "./cli-error.js";
import { type AdminCommandTarget, withAdmin } from "./open-admin.js";

// `svc-jobs jobs list|show|cancel|retry|promote|count`: the CLI side of docs/contract.md,
// "Seeing and controlling jobs".

/** Options shared by the `svc-jobs jobs` subcommands. */
export interface JobsCommandOptions extends AdminCommandTarget {
  prefix: string;
  /** Print JSON instead of text. @default false */
  json?: boolean;
  /** Where output goes. @default process.stdout */
  out?: NodeJS.WritableStream;
}

/** The largest page `listJobs` serves (docs/contract.md): what `--all` reads at a time. */
const MAX_PAGE = 1000;

/** `svc-jobs jobs list --state <state>`: a page of jobs (or every page with `all`), and the next cursor. */
export async function jobsListCommand(
  options: JobsCommandOptions & {
    state: JobState;
    name?: string;
    limit: number;
    cursor?: string;
    /** Follow the cursor to the last page. @default false */
    all?: boolean;
  },
): Promise<void> {
  const out = options.out ?? process.stdout;
  await withAdmin(options, async (admin) => {
    const queue = admin.queue(options.prefix);
    const jobs: JobInfo[] = [];
    let cursor: string | null = options.cursor ?? null;
    do {
      const page = await queue
        .listJobs({
          state: options.state,
          ...(options.name === undefined ? {} : { name: options.name }),
          limit: options.all ? MAX_PAGE : options.limit,
          cursor,
        })
        .catch((error: unknown) => {
          if (error instanceof JobValidationError && error.field === "opts.cursor") {
            throw new CliError(
              `--cursor ${JSON.stringify(cursor)} is not a cursor of a "${options.state}" page: pass the cursor the previous page printed, with the same --state`,
              { code: "ERR_BAD_CURSOR", exitCode: EXIT_USAGE, cause: error },
            );
          }
          throw error;
        });
      jobs.push(...page.jobs);
      cursor = page.cursor;
    } while (options.all && cursor !== null);

    if (options.json) {
      out.write(`${JSON.stringify({ jobs: jobs.map(jobInfoJson), cursor })}\n`);
      return;
    }
    const what = `${options.state} job(s)${options.name === undefined ? "" : ` named ${JSON.stringify(options.name)}`} in "${options.prefix}"`;
    if (jobs.length > 0) out.write(formatJobs(jobs));
    if (cursor === null) {
      out.write(jobs.length === 0 ? `no ${what}\n` : `${jobs.length} ${what} (last page)\n`);
      return;
    }
    // With a name filter a page may hold fewer jobs than the limit, even none, while more remain.
    out.write(`${jobs.length} ${what}; next page: --cursor ${cursor}\n`);
  });
}

/** `svc-jobs jobs show <id>`: everything the queue knows about one job. */
export async function jobsShowCommand(options: JobsCommandOptions & { id: string }): Promise<void> {
  const out = options.out ?? process.stdout;
  await withAdmin(options, async (admin) => {
    const job = await admin.queue(options.prefix).getJob(options.id);
    if (!job) throw notFound(options.id, options.prefix);
    out.write(
      options.json ? `${JSON.stringify(jobInfoJson(job), null, 2)}\n` : formatJobDetails(job),
    );
  });
}

/** `svc-jobs jobs cancel <id>`: cancels a waiting or running job; fails (exit 1) saying why when nothing was cancelled. */
export async function jobsCancelCommand(
  options: JobsCommandOptions & { id: string; reason?: string },
): Promise<void> {
  const out = options.out ?? process.stdout;
  await withAdmin(options, async (admin) => {
    const queue = admin.queue(options.prefix);
    const before = await queue.getJob(options.id);
    const cancelled = await queue.cancel(
      options.id,
      options.reason === undefined ? {} : { reason: options.reason },
    );
    if (!cancelled) throw await notCancelled(queue, options.id, options.prefix);
    const was = before?.state ?? null;
    if (options.json) {
      out.write(
        `${JSON.stringify({ id: options.id, cancelled: true, previousState: was, reason: options.reason ?? null })}\n`,
      );
      return;
    }
    out.write(
      `cancelled job ${options.id} in "${options.prefix}"${was ? ` (it was ${was})` : ""}${
        was === "processing"
          ? "; the worker running it aborts its handler's signal within a second"
          : ""
      }\n`,
    );
  });
}

/** `svc-jobs jobs retry <id>`: a dead job back to ready with attempts reset to 0. */
export async function jobsRetryCommand(
  options: JobsCommandOptions & { id: string },
): Promise<void> {
  const out = options.out ?? process.stdout;
  await withAdmin(options, async (admin) => {
    const queue = admin.queue(options.prefix);
    if (!(await queue.dlq.requeue(options.id))) {
      const job = await queue.getJob(options.id);
      if (!job) throw notFound(options.id, options.prefix);
      throw new CliError(
        `job ${options.id} in "${options.prefix}" is ${job.state}, not dead: only a dead job can be retried (list them with svc-jobs jobs list --state dead${prefixFlag(options.prefix)})`,
        { code: "ERR_NOT_DEAD" },
      );
    }
    out.write(
      options.json
        ? `${JSON.stringify({ id: options.id, requeued: true })}\n`
        : `requeued job ${options.id} in "${options.prefix}": dead -> ready, attempts reset to 0\n`,
    );
  });
}

/** `svc-jobs jobs promote <id>`: a delayed job ready now, in its place by its priority. */
export async function jobsPromoteCommand(
  options: JobsCommandOptions & { id: string },
): Promise<void> {
  const out = options.out ?? process.stdout;
  await withAdmin(options, async (admin) => {
    const queue = admin.queue(options.prefix);
    if (!(await queue.promote(options.id))) {
      const job = await queue.getJob(options.id);
      if (!job) throw notFound(options.id, options.prefix);
      throw new CliError(
        `job ${options.id} in "${options.prefix}" is ${job.state}, not delayed: only a delayed job can be promoted (list them with svc-jobs jobs list --state delayed${prefixFlag(options.prefix)})`,
        { code: "ERR_NOT_DELAYED" },
      );
    }
    out.write(
      options.json
        ? `${JSON.stringify({ id: options.id, promoted: true })}\n`
        : `promoted job ${options.id} in "${options.prefix}": delayed -> ready, it runs in its turn by priority\n`,
    );
  });
}

/** `svc-jobs jobs count --state <state>`: how many jobs of each name are in one state. */
export async function jobsCountCommand(
  options: JobsCommandOptions & { state: JobState },
): Promise<void> {
  const out = options.out ?? process.stdout;
  await withAdmin(options, async (admin) => {
    const counts = await admin.queue(options.prefix).countByName(options.state);
    const rows = Object.entries(counts).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
    const total = rows.reduce((sum, [, n]) => sum + n, 0);
    if (options.json) {
      out.write(`${JSON.stringify({ state: options.state, total, byName: counts })}\n`);
      return;
    }
    if (rows.length === 0) {
      out.write(`no ${options.state} jobs in "${options.prefix}"\n`);
      return;
    }
    out.write(
      table(
        ["name", "count"],
        rows.map(([name, n]) => [name, String(n)]),
        [1],
      ),
    );
    out.write(`${total} ${options.state} job(s) in "${options.prefix}"\n`);
  });
}

/** A {@link JobInfo} as JSON: every field, dates as ISO 8601 strings. */
export function jobInfoJson(job: JobInfo) {
  return {
    ...job,
    availableAt: job.availableAt.toISOString(),
    createdAt: job.createdAt.toISOString(),
    finishedAt: job.finishedAt === null ? null : job.finishedAt.toISOString(),
  };
}

/** Jobs as an aligned table; the last error is cut to one short line (use --json or show for all of it). */
export function formatJobs(jobs: JobInfo[]): string {
  const header = [
    "id",
    "name",
    "state",
    "attempts",
    "priority",
    "group",
    "created",
    "available",
    "finished",
    "last_error",
  ];
  const cells = jobs.map((j) => [
    j.id,
    j.name,
    j.state,
    `${j.attempts}/${j.maxAttempts}`,
    String(j.priority),
    j.group ?? "-",
    isoSeconds(j.createdAt),
    isoSeconds(j.availableAt),
    j.finishedAt === null ? "-" : isoSeconds(j.finishedAt),
    cut((j.lastError ?? "").replace(/\s+/g, " "), 60),
  ]);
  return table(header, cells, [4]);
}

/** One job, field by field, with its payload, progress and result pretty-printed. */
export function formatJobDetails(job: JobInfo): string {
  const lines: [string, string][] = [
    ["id", job.id],
    ["name", job.name],
    ["state", job.state],
    ["attempts", `${job.attempts} of ${job.maxAttempts}`],
    ["priority", String(job.priority)],
    ["group", job.group ?? "-"],
    ["backoff", `${job.backoffSeconds}s x attempt`],
    ["created", job.createdAt.toISOString()],
    ["available", job.availableAt.toISOString()],
    ["finished", job.finishedAt === null ? "-" : job.finishedAt.toISOString()],
    ["last error", job.lastError ?? "-"],
    ["progress", job.progress === null ? "-" : pretty(job.progress)],
    ["result", job.result === null ? "-" : pretty(job.result)],
    ["payload", pretty(job.payload)],
  ];
  const width = Math.max(...lines.map(([k]) => k.length)) + 1;
  return `${lines
    .map(([k, v]) => `${`${k}:`.padEnd(width)} ${v.replace(/\n/g, `\n${" ".repeat(width + 1)}`)}`)
    .join("\n")}\n`;
}

function notFound(id: string, prefix: string): CliError {
  return new CliError(
    `job ${JSON.stringify(id)} not found in "${prefix}": the id is unknown, or the job finished and the queue does not keep finished jobs (keepCompleted, keepCancelled)`,
    { code: "ERR_JOB_NOT_FOUND" },
  );
}

async function notCancelled(queue: JobQueue, id: string, prefix: string): Promise<CliError> {
  const job = await queue.getJob(id);
  if (!job) {
    return new CliError(
      `nothing cancelled: job ${JSON.stringify(id)} not found in "${prefix}" (unknown id, or finished and not kept)`,
      { code: "ERR_NOT_CANCELLED" },
    );
  }
  const why =
    job.state === "dead"
      ? `it is dead, in the DLQ (retry it with svc-jobs jobs retry ${id}${prefixFlag(prefix)}, or drop it with svc-jobs dlq purge)`
      : job.state === "completed" || job.state === "cancelled"
        ? `it is already ${job.state}`
        : `it is ${job.state} (its state changed while cancelling: try again)`;
  return new CliError(`nothing cancelled: job ${id} in "${prefix}" ${why}`, {
    code: "ERR_NOT_CANCELLED",
  });
}

function prefixFlag(prefix: string): string {
  return prefix === "jobs" ? "" : ` --prefix ${prefix}`;
}

function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** An aligned table; columns listed in `right` are right-aligned, the last column is not padded. */
function table(header: string[], cells: string[][], right: number[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]?.length ?? 0)));
  const line = (c: string[]) =>
    c
      .map((v, i) =>
        right.includes(i)
          ? v.padStart(widths[i] ?? 0)
          : i === c.length - 1
            ? v
            : v.padEnd(widths[i] ?? 0),
      )
      .join("  ")
      .trimEnd();
  return `${[line(header), ...cells.map(line)].join("\n")}\n`;
}
