import type { Job } from "@svc-jobs/core";
import { CliError, EXIT_USAGE } from "./cli-error.js";
import { type AdminTarget, openAdmin } from "./open-admin.js";

/** Options shared by the `svc-jobs dlq` subcommands. */
export interface DlqCommandOptions extends AdminTarget {
  prefix: string;
  /** Where output goes. @default process.stdout */
  out?: NodeJS.WritableStream;
}

/** `svc-jobs dlq list`: dead jobs with id, name, attempts and last error. */
export async function dlqListCommand(
  options: DlqCommandOptions & { limit: number; offset: number; json?: boolean },
): Promise<void> {
  const out = options.out ?? process.stdout;
  const admin = await openAdmin(options);
  try {
    const queue = admin.queue(options.prefix);
    const [jobs, stats] = await Promise.all([
      queue.dlq.list({ limit: options.limit, offset: options.offset }),
      queue.stats(),
    ]);
    if (options.json) {
      out.write(`${JSON.stringify(jobs.map(describeJob))}\n`);
      return;
    }
    if (jobs.length === 0) {
      out.write(
        stats.dlq === 0
          ? `the DLQ of "${options.prefix}" is empty\n`
          : `no dead jobs at offset ${options.offset} (the DLQ of "${options.prefix}" holds ${stats.dlq})\n`,
      );
      return;
    }
    out.write(formatDlq(jobs));
    const shown = options.offset + jobs.length;
    out.write(
      `${jobs.length} of ${stats.dlq} dead job(s) in "${options.prefix}"${shown < stats.dlq ? ` (more: --offset ${shown})` : ""}\n`,
    );
  } finally {
    await admin.close();
  }
}

/** `svc-jobs dlq requeue <id|--all>`: back to ready with attempts reset to 0. */
export async function dlqRequeueCommand(
  options: DlqCommandOptions & { id?: string; all?: boolean },
): Promise<void> {
  const out = options.out ?? process.stdout;
  if (options.all === (options.id !== undefined)) {
    throw new CliError(
      "dlq requeue takes a job id or --all (one of them): svc-jobs dlq requeue 7, or svc-jobs dlq requeue --all",
      { code: "ERR_USAGE", exitCode: EXIT_USAGE },
    );
  }
  const admin = await openAdmin(options);
  try {
    const queue = admin.queue(options.prefix);
    if (options.all) {
      const count = await queue.dlq.requeueAll();
      out.write(`requeued ${count} dead job(s) in "${options.prefix}" (attempts reset to 0)\n`);
      return;
    }
    const id = options.id ?? "";
    if (!(await queue.dlq.requeue(id))) {
      throw new CliError(
        `job ${JSON.stringify(id)} is not in the DLQ of "${options.prefix}": list dead jobs with svc-jobs dlq list${options.prefix === "jobs" ? "" : ` --prefix ${options.prefix}`}`,
        { code: "ERR_NOT_IN_DLQ" },
      );
    }
    out.write(`requeued job ${id} in "${options.prefix}" (attempts reset to 0)\n`);
  } finally {
    await admin.close();
  }
}

/** `svc-jobs dlq purge --yes`: deletes every dead job. Refuses without `--yes`. */
export async function dlqPurgeCommand(
  options: DlqCommandOptions & { yes?: boolean },
): Promise<void> {
  const out = options.out ?? process.stdout;
  const admin = await openAdmin(options);
  try {
    const queue = admin.queue(options.prefix);
    if (!options.yes) {
      const { dlq } = await queue.stats();
      throw new CliError(
        `dlq purge deletes all ${dlq} dead job(s) in "${options.prefix}" for good: add --yes to confirm (or bring them back with svc-jobs dlq requeue --all)`,
        { code: "ERR_CONFIRM", exitCode: EXIT_USAGE },
      );
    }
    const count = await queue.dlq.purge();
    out.write(`purged ${count} dead job(s) from "${options.prefix}"\n`);
  } finally {
    await admin.close();
  }
}

function describeJob(job: Job) {
  return {
    id: job.id,
    name: job.name,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    lastError: job.lastError,
    availableAt: job.availableAt.toISOString(),
  };
}

/** Dead jobs as an aligned table; long errors are cut to one line (use --json for all of it). */
export function formatDlq(jobs: Job[]): string {
  const header = ["id", "name", "attempts", "last_error"];
  const cells = jobs.map((j) => [
    j.id,
    j.name,
    `${j.attempts}/${j.maxAttempts}`,
    cut((j.lastError ?? "").replace(/\s+/g, " "), 120),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]?.length ?? 0)));
  const line = (c: string[]) =>
    c
      .map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return `${[line(header), ...cells.map(line)].join("\n")}\n`;
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
