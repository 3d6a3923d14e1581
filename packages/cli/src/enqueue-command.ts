import { type EnqueueOptions, MAX_GROUP_LENGTH } from "@svc-jobs/core";
import { prepareEnqueue } from "@svc-jobs/core/backend";
import { CliError, EXIT_USAGE } from "./cli-error.js";
import { type AdminTarget, openAdmin } from "./open-admin.js";

/** Options of {@link enqueueCommand}. */
export interface EnqueueCommandOptions extends AdminTarget {
  prefix: string;
  name: string;
  /** The payload as JSON text (an object). */
  json: string;
  delaySeconds?: number;
  maxAttempts?: number;
  backoffSeconds?: number;
  dedupeKey?: string;
  /** Higher runs first. @default 0 */
  priority?: number;
  /** The job's group (a tenant, a customer): served round-robin, limited by the group limits. */
  group?: string;
  /** Print the whole job as JSON instead of its id. @default false */
  printJob?: boolean;
  /** Where output goes. @default process.stdout */
  out?: NodeJS.WritableStream;
}

/**
 * `svc-jobs enqueue <name> <json>`: validates the payload before connecting,
 * enqueues it and prints the job id.
 */
export async function enqueueCommand(options: EnqueueCommandOptions): Promise<void> {
  const out = options.out ?? process.stdout;
  let payload: unknown;
  try {
    payload = JSON.parse(options.json);
  } catch (cause) {
    throw new CliError(
      `payload is not valid JSON (${cause instanceof Error ? cause.message : String(cause)}): pass one JSON object in single quotes, e.g. svc-jobs enqueue send_email '{"to":"user@example.com"}'`,
      { code: "ERR_BAD_JSON", exitCode: EXIT_USAGE, cause },
    );
  }
  const opts: EnqueueOptions = {};
  if (options.delaySeconds !== undefined) opts.delaySeconds = options.delaySeconds;
  if (options.maxAttempts !== undefined) opts.maxAttempts = options.maxAttempts;
  if (options.backoffSeconds !== undefined) opts.backoffSeconds = options.backoffSeconds;
  if (options.dedupeKey !== undefined) opts.dedupeKey = options.dedupeKey;
  if (options.priority !== undefined) opts.priority = options.priority;
  if (options.group !== undefined) {
    if (options.group.length === 0 || options.group.length > MAX_GROUP_LENGTH) {
      throw new CliError(
        `--group must name a group (a tenant or customer id, say) of 1 to ${MAX_GROUP_LENGTH} characters, got ${JSON.stringify(options.group)}`,
        { code: "ERR_USAGE", exitCode: EXIT_USAGE },
      );
    }
    opts.group = options.group;
  }
  // Reject a bad name or payload before touching Redis.
  prepareEnqueue(options.name, payload, opts);
  const admin = await openAdmin(options);
  try {
    const job = await admin.queue(options.prefix).enqueue(options.name, payload as never, opts);
    out.write(
      options.printJob
        ? `${JSON.stringify({ ...job, availableAt: job.availableAt.toISOString() })}\n`
        : `${job.id}\n`,
    );
  } finally {
    await admin.close();
  }
}
