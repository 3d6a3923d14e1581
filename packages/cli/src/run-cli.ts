import {
  ConfigError,
  JOB_STATES,
  type JobState,
  JobValidationError,
  type RateLimit,
} from "@svc-jobs/core";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { CliError, EXIT_RUNTIME, EXIT_USAGE } from "./cli-error.js";
import {
  DASHBOARD_PASSWORD_ENV,
  DASHBOARD_TOKEN_ENV,
  dashboardCommand,
} from "./dashboard-command.js";
import { dlqListCommand, dlqPurgeCommand, dlqRequeueCommand } from "./dlq-command.js";
import { enqueueCommand } from "./enqueue-command.js";
import { eventsCommand } from "./events-command.js";
import {
  jobsCancelCommand,
  jobsCountCommand,
  jobsListCommand,
  jobsPromoteCommand,
  jobsRetryCommand,
  jobsShowCommand,
} from "./jobs-command.js";
import {
  concurrencyOption,
  limitsSetCommand,
  limitsShowCommand,
  NONE,
  rateOption,
} from "./limits-command.js";
import { checkOptionKeys, OPTION_KEYS } from "./option-keys.js";
import { pauseCommand, resumeCommand } from "./pause-command.js";
import { runWorker } from "./run-worker.js";
import { statsCommand } from "./stats-command.js";

/** Options of {@link runCli}. */
export interface RunCliOptions {
  /** Where error lines go. @default process.stderr */
  err?: NodeJS.WritableStream;
  /** Version printed by `--version`. @default "0.0.0" */
  version?: string;
}

interface GlobalOptions {
  driver?: string;
  redisUrl?: string;
  redisClusterNodes?: string;
  sqlitePath?: string;
  databaseUrl?: string;
  prefix: string;
}

/**
 * Runs the `svc-jobs` command with `argv` (without `node` and the script) and
 * resolves to the exit code: 0 on success, 2 for usage errors (bad arguments,
 * JSON or configuration), 1 for runtime failures (Redis unreachable, a module
 * that throws). Errors are printed as one line on stderr.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(process.argv.slice(2));
 * ```
 */
export async function runCli(argv: string[], options: RunCliOptions = {}): Promise<number> {
  checkOptionKeys(options, OPTION_KEYS.runCli, "runCli options");
  const err = options.err ?? process.stderr;
  const program = buildProgram(options.version ?? "0.0.0");
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (error) {
    return report(error, err, argv);
  }
}

function report(error: unknown, err: NodeJS.WritableStream, argv: string[]): number {
  if (error instanceof CommanderError) {
    if (
      error.code === "commander.helpDisplayed" ||
      error.code === "commander.version" ||
      error.exitCode === 0
    ) {
      return 0;
    }
    if (error.code === "commander.help") return EXIT_USAGE;
    const where = argv.filter((a) => !a.startsWith("-")).slice(0, 2);
    const known = [
      "run",
      "jobs",
      "stats",
      "dlq",
      "enqueue",
      "pause",
      "resume",
      "events",
      "dashboard",
      "limits",
    ];
    const helpFor = known.includes(where[0] ?? "")
      ? `svc-jobs ${where[0] === "dlq" || where[0] === "jobs" || where[0] === "limits" ? where.join(" ") : where[0]} --help`
      : "svc-jobs --help";
    err.write(`svc-jobs: ${oneLine(error.message)} (see ${helpFor})\n`);
    return EXIT_USAGE;
  }
  const message = error instanceof Error ? error.message : String(error);
  err.write(`svc-jobs: error: ${oneLine(message)}\n`);
  if (process.env.SVC_JOBS_DEBUG && error instanceof Error && error.stack) {
    err.write(`${error.stack}\n`);
  }
  if (error instanceof CliError) return error.exitCode;
  // Bad configuration or input is the caller's to fix: a usage error.
  if (error instanceof ConfigError || error instanceof JobValidationError) return EXIT_USAGE;
  return EXIT_RUNTIME;
}

function buildProgram(version: string): Command {
  const program = new Command("svc-jobs")
    .description(
      "Run svc-jobs workers and operate their queues (stats, jobs, dead letters, enqueue, pause, events, limits, dashboard).",
    )
    .version(version)
    .addOption(
      new Option("--driver <driver>", "queue backend: memory, redis, sqlite or postgres").env(
        "JOBS_DRIVER",
      ),
    )
    .addOption(
      new Option("--redis-url <url>", "Redis URL (redis://, rediss:// or unix://)").env(
        "REDIS_URL",
      ),
    )
    .addOption(
      new Option("--redis-cluster-nodes <nodes>", "Redis Cluster seeds, host:port,host:port").env(
        "REDIS_CLUSTER_NODES",
      ),
    )
    .addOption(
      new Option(
        "--sqlite-path <file>",
        "the SQLite file of the sqlite driver (default: ./data/svc-jobs.sqlite)",
      ).env("JOBS_SQLITE_PATH"),
    )
    .addOption(
      new Option("--database-url <url>", "PostgreSQL URL of the postgres driver").env(
        "DATABASE_URL",
      ),
    )
    .addOption(
      new Option(
        "--prefix <prefix>",
        "queue key prefix; one prefix is one queue (stats takes a comma-separated list)",
      )
        .env("JOBS_PREFIX")
        .default("jobs"),
    )
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => {} });

  const configure = (cmd: Command) => cmd.exitOverride().configureOutput({ outputError: () => {} });

  const addRun = (parent: Command) =>
    configure(
      parent
        .command("run")
        .description(
          "Run workers: take jobs from the queue and run the handlers module; SIGTERM/SIGINT drain gracefully.",
        )
        .addOption(
          new Option(
            "--handlers <module>",
            "module exporting a JobRegistry (registry/default) or a handler function (handler); ./paths are relative to the current directory",
          ).env("JOBS_HANDLERS"),
        )
        .option(
          "--concurrency <n>",
          "jobs run at the same time",
          positiveInteger("--concurrency"),
          1,
        )
        .option(
          "--poll-interval <seconds>",
          "longest idle wait for a job",
          seconds("--poll-interval", 0.001),
          0.5,
        )
        .option("--max-jobs <n>", "exit 0 after this many jobs", positiveInteger("--max-jobs"))
        .option(
          "--metrics-port <port>",
          "serve /metrics, /healthz and /readyz on this port",
          port("--metrics-port"),
        )
        .option(
          "--grace <seconds>",
          "on SIGTERM/SIGINT, time in-flight jobs get to finish before they are handed back",
          seconds("--grace"),
          30,
        )
        .addOption(
          new Option(
            "--timeout <seconds>",
            "handler timeout, applied by the worker alone; wins over the registry's timeoutSeconds and JOB_DEFAULT_TIMEOUT_SECONDS (default: the registry's timeoutSeconds, else JOB_DEFAULT_TIMEOUT_SECONDS, else none)",
          ).argParser(seconds("--timeout", 0.001)),
        )
        .addOption(
          new Option(
            "--visibility-timeout <seconds>",
            "seconds a reserved job stays hidden; a crashed worker's jobs come back after it (default: 60)",
          )
            .env("JOBS_VISIBILITY_TIMEOUT_SECONDS")
            .argParser(seconds("--visibility-timeout", 0.001)),
        )
        .action(async (_opts: unknown, cmd: Command) => {
          const o = cmd.optsWithGlobals<
            GlobalOptions & {
              handlers?: string;
              concurrency: number;
              pollInterval: number;
              maxJobs?: number;
              metricsPort?: number;
              grace: number;
              timeout?: number;
              visibilityTimeout?: number;
            }
          >();
          await runWorker({
            ...(o.handlers === undefined ? {} : { handlers: o.handlers }),
            concurrency: o.concurrency,
            pollIntervalSeconds: o.pollInterval,
            ...(o.maxJobs === undefined ? {} : { maxJobs: o.maxJobs }),
            ...(o.metricsPort === undefined ? {} : { metricsPort: o.metricsPort }),
            graceSeconds: o.grace,
            ...(o.timeout === undefined ? {} : { timeoutSeconds: o.timeout }),
            ...(o.visibilityTimeout === undefined
              ? {}
              : { visibilityTimeoutSeconds: o.visibilityTimeout }),
            ...(o.driver === undefined ? {} : { driver: o.driver }),
            ...(o.redisUrl === undefined ? {} : { redisUrl: o.redisUrl }),
            ...(o.redisClusterNodes === undefined ? {} : { clusterNodes: o.redisClusterNodes }),
            ...(o.sqlitePath === undefined ? {} : { sqlitePath: o.sqlitePath }),
            ...(o.databaseUrl === undefined ? {} : { databaseUrl: o.databaseUrl }),
            prefix: singlePrefix(o.prefix),
          });
        }),
    );

  addRun(program);
  const jobs = configure(
    program
      .command("jobs")
      .description(
        "See and control jobs: list, show, cancel, retry, promote, count (and run, the guide's spelling of svc-jobs run).",
      ),
  );
  addRun(jobs);
  addJobsCommands(jobs, configure);
  addLimitsCommands(program, configure);

  configure(
    program
      .command("stats")
      .description(
        "Show ready, delayed, processing, DLQ, completed and cancelled counts, and paused, per queue prefix.",
      )
      .option("--watch", "refresh until Ctrl-C")
      .option(
        "--interval <seconds>",
        "seconds between refreshes with --watch",
        seconds("--interval", 0.1),
        2,
      )
      .option("--all", "also show every queue prefix found in Redis")
      .option("--json", "print JSON")
      .action(async (_opts: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<
          GlobalOptions & { watch?: boolean; interval: number; all?: boolean; json?: boolean }
        >();
        await statsCommand({
          ...target(o, "stats"),
          prefixes: o.prefix
            .split(",")
            .map((p) => p.trim())
            .filter((p) => p !== ""),
          all: o.all ?? false,
          json: o.json ?? false,
          watch: o.watch ?? false,
          intervalSeconds: o.interval,
        });
      }),
  );

  const dlq = configure(
    program.command("dlq").description("Inspect, requeue or purge the dead letter queue."),
  );
  configure(
    dlq
      .command("list")
      .description("List dead jobs: id, name, attempts and last error (oldest first).")
      .option("--limit <n>", "how many to show", positiveInteger("--limit"), 20)
      .option("--offset <n>", "skip this many", nonNegativeInteger("--offset"), 0)
      .option("--json", "print JSON (full error messages)")
      .action(async (_opts: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<
          GlobalOptions & { limit: number; offset: number; json?: boolean }
        >();
        await dlqListCommand({
          ...target(o, "dlq list"),
          prefix: singlePrefix(o.prefix),
          limit: o.limit,
          offset: o.offset,
          json: o.json ?? false,
        });
      }),
  );
  configure(
    dlq
      .command("requeue")
      .description("Move a dead job (or --all) back to ready with attempts reset to 0.")
      .argument("[id]", "job id, as shown by svc-jobs dlq list")
      .option("--all", "requeue every dead job")
      .action(async (id: string | undefined, _opts: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<GlobalOptions & { all?: boolean }>();
        await dlqRequeueCommand({
          ...target(o, "dlq requeue"),
          prefix: singlePrefix(o.prefix),
          ...(id === undefined ? {} : { id }),
          all: o.all ?? false,
        });
      }),
  );
  configure(
    dlq
      .command("purge")
      .description("Delete every dead job for good (needs --yes).")
      .option("--yes", "confirm the deletion")
      .action(async (_opts: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<GlobalOptions & { yes?: boolean }>();
        await dlqPurgeCommand({
          ...target(o, "dlq purge"),
          prefix: singlePrefix(o.prefix),
          yes: o.yes ?? false,
        });
      }),
  );

  configure(
    program
      .command("pause")
      .description(
        "Pause the queue: every worker process stops reserving (running jobs finish) until svc-jobs resume.",
      )
      .option("--json", "print JSON: { prefix, paused }")
      .action(async (_opts: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<GlobalOptions & { json?: boolean }>();
        await pauseCommand({
          ...target(o, "pause"),
          prefix: singlePrefix(o.prefix),
          json: o.json ?? false,
        });
      }),
  );
  configure(
    program
      .command("resume")
      .description("Resume a paused queue: workers take jobs again.")
      .option("--json", "print JSON: { prefix, paused }")
      .action(async (_opts: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<GlobalOptions & { json?: boolean }>();
        await resumeCommand({
          ...target(o, "resume"),
          prefix: singlePrefix(o.prefix),
          json: o.json ?? false,
        });
      }),
  );
  configure(
    program
      .command("events")
      .description(
        "Print the queue's job events: --follow prints new ones until Ctrl-C; --after <id> without --follow prints the events held after that id, then exits.",
      )
      .option("--follow", "keep printing new events until SIGINT/SIGTERM")
      .option("--after <id>", "start behind this event id (the first column, or id in --json)")
      .option("--json", "print one JSON object per line (NDJSON)")
      .action(async (_opts: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<
          GlobalOptions & { follow?: boolean; after?: string; json?: boolean }
        >();
        await eventsCommand({
          ...target(o, "events"),
          prefix: singlePrefix(o.prefix),
          follow: o.follow ?? false,
          ...(o.after === undefined ? {} : { after: o.after }),
          json: o.json ?? false,
        });
      }),
  );

  configure(
    program
      .command("dashboard")
      .description(
        `Serve the web dashboard for the queue (--prefix a,b for several) until Ctrl-C. Needs ${DASHBOARD_TOKEN_ENV} (or --token), or --username with ${DASHBOARD_PASSWORD_ENV}, or --no-auth.`,
      )
      .option("--port <port>", "port to listen on", port("--port"), 8080)
      .option("--host <host>", "address to listen on (0.0.0.0: every interface)", "127.0.0.1")
      .addOption(
        new Option("--token <token>", "bearer token, 16+ characters (prefer the variable)").env(
          DASHBOARD_TOKEN_ENV,
        ),
      )
      .option("--username <name>", "basic-auth user name (with --password)")
      .addOption(
        new Option("--password <password>", "basic-auth password (prefer the variable)").env(
          DASHBOARD_PASSWORD_ENV,
        ),
      )
      .option("--no-auth", "no authentication: only behind a proxy that authenticates")
      .option("--read-only", "show everything, hide and refuse every action")
      .action(async (_opts: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<
          GlobalOptions & {
            port: number;
            host: string;
            token?: string;
            username?: string;
            password?: string;
            auth: boolean;
            readOnly?: boolean;
          }
        >();
        await dashboardCommand({
          ...target(o, "dashboard"),
          prefixes: o.prefix
            .split(",")
            .map((p) => p.trim())
            .filter((p) => p !== ""),
          port: o.port,
          host: o.host,
          ...(o.token === undefined ? {} : { token: o.token }),
          ...(o.username === undefined ? {} : { username: o.username }),
          ...(o.password === undefined ? {} : { password: o.password }),
          noAuth: o.auth === false,
          readOnly: o.readOnly ?? false,
        });
      }),
  );

  configure(
    program
      .command("enqueue")
      .description("Enqueue a job and print its id.")
      .argument("<name>", "job name, e.g. send_email")
      .argument("<json>", 'payload, a JSON object, e.g. \'{"to":"user@example.com"}\'')
      .option("--delay <seconds>", "seconds before it becomes ready", seconds("--delay"))
      .option(
        "--max-attempts <n>",
        "attempts before the DLQ (default 5)",
        positiveInteger("--max-attempts"),
      )
      .option(
        "--backoff <seconds>",
        "base of the linear retry delay (default 60)",
        seconds("--backoff"),
      )
      .option(
        "--dedupe-key <key>",
        "a second enqueue with this key within 24 h returns the first job",
      )
      .option("--priority <n>", "higher runs first (default 0)", integer("--priority"))
      .option(
        "--group <name>",
        "the job's group (a tenant, a customer): groups are served in turn and limited by svc-jobs limits set",
      )
      .option("--json", "print the whole job as JSON instead of its id")
      .action(async (name: string, json: string, _opts: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<
          GlobalOptions & {
            delay?: number;
            maxAttempts?: number;
            backoff?: number;
            dedupeKey?: string;
            priority?: number;
            group?: string;
            json?: boolean;
          }
        >();
        await enqueueCommand({
          ...target(o, "enqueue"),
          prefix: singlePrefix(o.prefix),
          name,
          json,
          ...(o.delay === undefined ? {} : { delaySeconds: o.delay }),
          ...(o.maxAttempts === undefined ? {} : { maxAttempts: o.maxAttempts }),
          ...(o.backoff === undefined ? {} : { backoffSeconds: o.backoff }),
          ...(o.dedupeKey === undefined ? {} : { dedupeKey: o.dedupeKey }),
          ...(o.priority === undefined ? {} : { priority: o.priority }),
          ...(o.group === undefined ? {} : { group: o.group }),
          printJob: o.json ?? false,
        });
      }),
  );
  return program;
}

type Configure = (cmd: Command) => Command;

/** `svc-jobs limits show|set` (docs/contract.md, "Flow control"). */
function addLimitsCommands(program: Command, configure: Configure): void {
  const limits = configure(
    program
      .command("limits")
      .description(
        "Show or set the queue's flow control: its rate limit, the limits of every group, per-group overrides.",
      ),
  );
  configure(
    limits
      .command("show")
      .description(
        "Print the queue's rate limit, the limits of every group, the per-group overrides and any hold of the whole queue.",
      )
      .option(
        "--json",
        "print JSON: { rateLimit, groupLimits, groupOverrides, heldUntil } (ISO date)",
      )
      .action(async (_opts: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<GlobalOptions & { json?: boolean }>();
        await limitsShowCommand({
          ...target(o, "limits show"),
          prefix: singlePrefix(o.prefix),
          json: o.json ?? false,
        });
      }),
  );
  configure(
    limits
      .command("set")
      .description(
        "Change the queue's rate limit and the group limits (every group's, or with --group one group's override), then print what is in force. Options left out keep their value; every option is checked before anything changes.",
      )
      .option(
        "--rate <max>/<seconds>",
        "queue rate limit: at most <max> jobs start in any <seconds> (e.g. 10/1); none removes it",
        rateOption("--rate", "jobs"),
      )
      .option(
        "--group-concurrency <n>",
        "jobs of one group processing at once; none removes that limit",
        concurrencyOption("--group-concurrency"),
      )
      .option(
        "--group-rate <max>/<seconds>",
        "at most <max> jobs of one group start in any <seconds> (e.g. 5/1); none removes that limit",
        rateOption("--group-rate", "jobs of one group"),
      )
      .option(
        "--group <name>",
        "apply the group options to this group only, as its override (it replaces the every-group limits for it)",
      )
      .option("--clear", "remove the limits of every group (with --group: that group's override)")
      .option("--json", "print JSON of what is now in force, as limits show --json")
      .action(async (_opts: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<
          GlobalOptions & {
            rate?: RateLimit | typeof NONE;
            groupConcurrency?: number | typeof NONE;
            groupRate?: RateLimit | typeof NONE;
            group?: string;
            clear?: boolean;
            json?: boolean;
          }
        >();
        const orNull = <T>(v: T | typeof NONE): T | null => (v === NONE ? null : v);
        await limitsSetCommand({
          ...target(o, "limits set"),
          prefix: singlePrefix(o.prefix),
          ...(o.rate === undefined ? {} : { rate: orNull(o.rate) }),
          ...(o.groupConcurrency === undefined
            ? {}
            : { groupConcurrency: orNull(o.groupConcurrency) }),
          ...(o.groupRate === undefined ? {} : { groupRate: orNull(o.groupRate) }),
          ...(o.group === undefined ? {} : { group: o.group }),
          clear: o.clear ?? false,
          json: o.json ?? false,
        });
      }),
  );
}

/** `svc-jobs jobs list|show|cancel|retry|promote|count` (docs/contract.md, "Seeing and controlling jobs"). */
function addJobsCommands(jobs: Command, configure: Configure): void {
  const stateOption = () =>
    new Option("--state <state>", `one of ${JOB_STATES.join(", ")}`)
      .argParser(jobState("--state"))
      .makeOptionMandatory();
  configure(
    jobs
      .command("list")
      .description(
        "List the jobs in one state, a page at a time: id, name, state, attempts, priority, group, times, last error; prints the next page's --cursor.",
      )
      .addOption(stateOption())
      .option("--name <name>", "only jobs of this name")
      .option("--limit <n>", "jobs per page, 1 to 1000", limit("--limit"), 20)
      .option("--cursor <cursor>", "the next page's cursor, as printed by the previous page")
      .option("--all", "follow the cursor to the last page and print every job")
      .option("--json", "print JSON: { jobs, cursor } (full jobs, ISO dates)")
      .action(async (_opts: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<
          GlobalOptions & {
            state: JobState;
            name?: string;
            limit: number;
            cursor?: string;
            all?: boolean;
            json?: boolean;
          }
        >();
        if (o.all && cmd.getOptionValueSource("limit") === "cli") {
          throw new CliError("jobs list takes --all or --limit, not both: --all reads every page", {
            code: "ERR_USAGE",
            exitCode: EXIT_USAGE,
          });
        }
        await jobsListCommand({
          ...target(o, "jobs list"),
          prefix: singlePrefix(o.prefix),
          state: o.state,
          ...(o.name === undefined ? {} : { name: o.name }),
          limit: o.limit,
          ...(o.cursor === undefined ? {} : { cursor: o.cursor }),
          all: o.all ?? false,
          json: o.json ?? false,
        });
      }),
  );
  configure(
    jobs
      .command("show")
      .description(
        "Show everything about one job: state, attempts, priority, group, times, progress, result, payload.",
      )
      .argument("<id>", "job id")
      .option("--json", "print JSON (ISO dates)")
      .action(async (id: string, _opts: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<GlobalOptions & { json?: boolean }>();
        await jobsShowCommand({
          ...target(o, "jobs show"),
          prefix: singlePrefix(o.prefix),
          id,
          json: o.json ?? false,
        });
      }),
  );
  configure(
    jobs
      .command("cancel")
      .description(
        "Cancel a ready, delayed or processing job (a running handler's signal aborts within a second); exit 1 when nothing was cancelled.",
      )
      .argument("<id>", "job id")
      .option("--reason <text>", "why, recorded on the cancelled event and given to the handler")
      .option("--json", "print JSON: { id, cancelled, previousState, reason }")
      .action(async (id: string, _opts: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<GlobalOptions & { reason?: string; json?: boolean }>();
        await jobsCancelCommand({
          ...target(o, "jobs cancel"),
          prefix: singlePrefix(o.prefix),
          id,
          ...(o.reason === undefined ? {} : { reason: o.reason }),
          json: o.json ?? false,
        });
      }),
  );
  configure(
    jobs
      .command("retry")
      .description(
        "Move a dead job back to ready with attempts reset to 0; exit 1 for a job that is not dead.",
      )
      .argument("<id>", "job id")
      .option("--json", "print JSON: { id, requeued }")
      .action(async (id: string, _opts: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<GlobalOptions & { json?: boolean }>();
        await jobsRetryCommand({
          ...target(o, "jobs retry"),
          prefix: singlePrefix(o.prefix),
          id,
          json: o.json ?? false,
        });
      }),
  );
  configure(
    jobs
      .command("promote")
      .description(
        "Make a delayed job ready now, in its place by its priority; exit 1 for a job that is not delayed.",
      )
      .argument("<id>", "job id")
      .option("--json", "print JSON: { id, promoted }")
      .action(async (id: string, _opts: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<GlobalOptions & { json?: boolean }>();
        await jobsPromoteCommand({
          ...target(o, "jobs promote"),
          prefix: singlePrefix(o.prefix),
          id,
          json: o.json ?? false,
        });
      }),
  );
  configure(
    jobs
      .command("count")
      .description("Count the jobs of each name in one state.")
      .addOption(stateOption())
      .option("--json", "print JSON: { state, total, byName }")
      .action(async (_opts: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<GlobalOptions & { state: JobState; json?: boolean }>();
        await jobsCountCommand({
          ...target(o, "jobs count"),
          prefix: singlePrefix(o.prefix),
          state: o.state,
          json: o.json ?? false,
        });
      }),
  );
}

function target(o: GlobalOptions, command: string) {
  return {
    command,
    ...(o.driver === undefined ? {} : { driver: o.driver }),
    ...(o.redisUrl === undefined ? {} : { redisUrl: o.redisUrl }),
    ...(o.redisClusterNodes === undefined ? {} : { clusterNodes: o.redisClusterNodes }),
    ...(o.sqlitePath === undefined ? {} : { sqlitePath: o.sqlitePath }),
    ...(o.databaseUrl === undefined ? {} : { databaseUrl: o.databaseUrl }),
  };
}

function singlePrefix(prefix: string): string {
  const trimmed = prefix.trim();
  if (trimmed === "" || trimmed.includes(",") || /\s/.test(trimmed)) {
    throw new CliError(
      `--prefix ${JSON.stringify(prefix)} must name one queue (no commas or spaces) for this command; only svc-jobs stats takes a list`,
      { code: "ERR_USAGE", exitCode: EXIT_USAGE },
    );
  }
  return trimmed;
}

function positiveInteger(flag: string) {
  return (value: string) => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
      throw new InvalidArgumentError(
        `${flag} must be a whole number >= 1, got ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
}

function limit(flag: string) {
  return (value: string) => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || n < 1 || n > 1000) {
      throw new InvalidArgumentError(
        `${flag} must be a whole number from 1 to 1000, got ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
}

function integer(flag: string) {
  return (value: string) => {
    const n = Number(value);
    if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n)) {
      throw new InvalidArgumentError(
        `${flag} must be a whole number, got ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
}

function jobState(flag: string) {
  return (value: string): JobState => {
    const state = value.trim().toLowerCase();
    if (!(JOB_STATES as readonly string[]).includes(state)) {
      throw new InvalidArgumentError(
        `${flag} must be one of ${JOB_STATES.join(", ")}, got ${JSON.stringify(value)}`,
      );
    }
    return state as JobState;
  };
}

function nonNegativeInteger(flag: string) {
  return (value: string) => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n)) {
      throw new InvalidArgumentError(
        `${flag} must be a whole number >= 0, got ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
}

function seconds(flag: string, min = 0) {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n < min) {
      throw new InvalidArgumentError(
        `${flag} must be a number of seconds >= ${min} (fractions allowed), got ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
}

function port(flag: string) {
  return (value: string) => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || n > 65535) {
      throw new InvalidArgumentError(
        `${flag} must be a TCP port 0-65535, got ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
}

function oneLine(text: string): string {
  return text.split("\n").filter((l) => l.trim() !== "")[0] ?? text;
}
