import { type JobEvent, JobValidationError } from "@svc-jobs/core";
import { CliError, EXIT_USAGE } from "./cli-error.js";
import { type AdminCommandTarget, withAdmin } from "./open-admin.js";

// `svc-jobs events`: the queue's event stream (docs/contract.md, "Seeing and controlling
// jobs", Events).

/** Options of {@link eventsCommand}. */
export interface EventsCommandOptions extends AdminCommandTarget {
  prefix: string;
  /** Keep printing new events until SIGINT/SIGTERM (or `signal`). @default false */
  follow?: boolean;
  /** Start behind this event id: the events still held after it come first. */
  after?: string;
  /** One JSON object per line (NDJSON). @default false */
  json?: boolean;
  /**
   * Without `follow`: the stream counts as read to its end once no event came for this
   * long. @default 0.5
   */
  quietSeconds?: number;
  /** Stops the command as SIGINT/SIGTERM do (for tools that embed it). */
  signal?: AbortSignal;
  /** Where output goes. @default process.stdout */
  out?: NodeJS.WritableStream;
}

/**
 * `svc-jobs events`. With `follow`: prints every event from now on (after `after`'s held
 * events, when given) until SIGINT or SIGTERM, then closes its connection and returns.
 * Without `follow`, `after` is required: prints the events still held after that id and
 * returns once the stream is quiet for `quietSeconds` or reaches events newer than the
 * command itself.
 */
export async function eventsCommand(options: EventsCommandOptions): Promise<void> {
  const out = options.out ?? process.stdout;
  if (!options.follow && options.after === undefined) {
    throw new CliError(
      "svc-jobs events needs --follow (print new events until Ctrl-C) or --after <event id> (print the events held after it, then exit); the stream is not replayed from its start",
      { code: "ERR_USAGE", exitCode: EXIT_USAGE },
    );
  }
  if (options.after !== undefined && options.after.trim() === "") {
    throw new CliError("--after needs an event id, as printed by svc-jobs events", {
      code: "ERR_USAGE",
      exitCode: EXIT_USAGE,
    });
  }
  const stop = new AbortController();
  const abort = () => stop.abort();
  options.signal?.addEventListener("abort", abort, { once: true });
  if (options.signal?.aborted) abort();
  process.once("SIGINT", abort);
  process.once("SIGTERM", abort);
  // A reader that went away (`svc-jobs events --follow | head`) ends the command too.
  out.once("error", abort);
  const quietMs = (options.quietSeconds ?? 0.5) * 1000;
  const startedAt = Date.now();
  let quiet: NodeJS.Timeout | undefined;
  const arm = () => {
    if (options.follow) return;
    clearTimeout(quiet);
    quiet = setTimeout(abort, quietMs);
  };
  try {
    await withAdmin(options, async (admin) => {
      const after = options.after?.trim();
      let events: AsyncIterable<JobEvent>;
      try {
        events = admin.queue(options.prefix).events({
          signal: stop.signal,
          ...(after === undefined ? {} : { after }),
        });
      } catch (error) {
        if (error instanceof JobValidationError && error.field === "opts.after") {
          throw new CliError(
            `--after ${JSON.stringify(after)} is not an event id: pass an id svc-jobs events printed (its first column, or "id" with --json)`,
            { code: "ERR_USAGE", exitCode: EXIT_USAGE, cause: error },
          );
        }
        throw error;
      }
      arm();
      for await (const event of events) {
        // Not "held" when the command started: an event from after it (`at` is the
        // queue's clock, so allow for a few seconds of difference with this one).
        if (!options.follow && event.at.getTime() > startedAt + 5000) break;
        arm();
        out.write(options.json ? `${JSON.stringify(eventJson(event))}\n` : formatEvent(event));
        if (stop.signal.aborted) break;
      }
    });
  } finally {
    clearTimeout(quiet);
    process.off("SIGINT", abort);
    process.off("SIGTERM", abort);
    out.off("error", abort);
    options.signal?.removeEventListener("abort", abort);
  }
}

/** A {@link JobEvent} as JSON: `at` as an ISO 8601 string. */
export function eventJson(event: JobEvent) {
  return { ...event, at: event.at.toISOString() };
}

/** One event as one line: id, time, type, job id and name, then the fields of its type. */
export function formatEvent(event: JobEvent): string {
  const extras: string[] = [];
  if (event.attempt !== undefined) extras.push(`attempt=${event.attempt}`);
  if (event.priority !== undefined) extras.push(`priority=${event.priority}`);
  if (event.delaySeconds !== undefined) extras.push(`delay=${event.delaySeconds}s`);
  if (event.progress !== undefined) extras.push(`progress=${JSON.stringify(event.progress)}`);
  if (event.result !== undefined) extras.push(`result=${cut(JSON.stringify(event.result), 200)}`);
  if (event.reason !== undefined) extras.push(`reason=${JSON.stringify(event.reason)}`);
  if (event.error !== undefined) {
    extras.push(`error=${JSON.stringify(cut(event.error.replace(/\s+/g, " "), 200))}`);
  }
  const line = [
    event.id,
    event.at.toISOString(),
    event.type.padEnd(9),
    `job ${event.jobId}`,
    event.name,
  ];
  if (extras.length > 0) line.push(extras.join(" "));
  return `${line.join("  ")}\n`;
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
