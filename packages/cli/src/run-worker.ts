import {
  ConfigError,
  defaultTimeoutSeconds,
  errorMessage,
  type JobSettledEvent,
  resolveTimeoutSeconds,
  WorkerRunner,
} from "@svc-jobs/core";
import { flushTraces } from "@svc-jobs/core/backend";
import { JobMetrics } from "@svc-jobs/registry";
import { scheduleFromEnv } from "@svc-jobs/scheduler";
import type { Logger } from "pino";
import { register as globalRegister } from "prom-client";
import { CliError, EXIT_USAGE } from "./cli-error.js";
import { createLogger } from "./create-logger.js";
import { type EasyJobs, easyJobs } from "./easy-jobs.js";
import { driverNamed, resolveDriver } from "./jobs-drivers.js";
import { JOBS_HANDLERS_ENV, type LoadedHandler, loadHandler } from "./load-handler.js";
import { type MetricsServer, startMetricsServer } from "./metrics-server.js";
import { checkOptionKeys, OPTION_KEYS } from "./option-keys.js";

/** The environment variable holding the schedule `svc-jobs run` loads. */
export const JOBS_SCHEDULE_ENV = "JOBS_SCHEDULE_JSON";

/** Options of {@link runWorker} (the `svc-jobs run` command). */
export interface RunWorkerOptions {
  /** The handlers module. @default `JOBS_HANDLERS` */
  handlers?: string;
  /** Jobs run at the same time. @default 1 */
  concurrency?: number;
  /** Longest idle wait for a job, in seconds. @default 0.5 */
  pollIntervalSeconds?: number;
  /** Exit 0 after this many jobs. @default unlimited */
  maxJobs?: number;
  /** Serve `/metrics`, `/healthz` and `/readyz` on this port. @default none */
  metricsPort?: number;
  /** Seconds in-flight jobs get to finish on SIGTERM/SIGINT before they are handed back. @default 30 */
  graceSeconds?: number;
  /**
   * Handler timeout in seconds, applied by the worker alone (a registry adds no timer
   * of its own); it wins over the registry's `timeoutSeconds` and `JOB_DEFAULT_TIMEOUT_SECONDS`.
   * @default the handlers registry's `timeoutSeconds` option, else `JOB_DEFAULT_TIMEOUT_SECONDS`, else none
   */
  timeoutSeconds?: number;
  /** Seconds a reserved job stays hidden; a crashed worker's jobs come back after it. @default `JOBS_VISIBILITY_TIMEOUT_SECONDS`, else 60 */
  visibilityTimeoutSeconds?: number;
  /** A `JOBS_DRIVERS` name: `memory`, `redis`, `sqlite` or `postgres`. @default `JOBS_DRIVER` */
  driver?: string;
  /** @default `REDIS_URL` */
  redisUrl?: string;
  /** Redis Cluster seeds `host:port,...`. @default `REDIS_CLUSTER_NODES` */
  clusterNodes?: string;
  /** The sqlite driver's file. @default `JOBS_SQLITE_PATH`, else `./data/svc-jobs.sqlite` */
  sqlitePath?: string;
  /** The postgres driver's URL. @default `DATABASE_URL` */
  databaseUrl?: string;
  /** Queue key prefix. @default `JOBS_PREFIX`, else `"jobs"` */
  prefix?: string;
  /** Where `./` handler paths resolve from. @default process.cwd() */
  cwd?: string;
  /** Logger for job outcomes. @default pino JSON on stdout */
  logger?: Logger;
  /** Environment to read. @default process.env */
  env?: NodeJS.ProcessEnv;
}

const NO_HANDLER_MESSAGE = `svc-jobs run needs a handlers module and refuses to start without one (jobs it cannot handle would be taken and lost): pass --handlers ./dist/jobs.js or set ${JOBS_HANDLERS_ENV}; the module exports a JobRegistry (registry) or a handler function (handler)`;

/**
 * Runs workers until SIGTERM/SIGINT (or `maxJobs`): loads the handlers module,
 * builds the queue with {@link easyJobs}, loads `JOBS_SCHEDULE_JSON` into the
 * scheduler (leader-elected on Redis), serves metrics, logs one JSON line per job
 * outcome, and on a signal stops taking jobs, lets in-flight ones finish within
 * `graceSeconds`, hands back the rest and resolves.
 *
 * @example
 * ```ts
 * await runWorker({ handlers: "./dist/jobs.js", concurrency: 4, metricsPort: 9464 });
 * ```
 */
export async function runWorker(options: RunWorkerOptions = {}): Promise<void> {
  checkOptionKeys(options, OPTION_KEYS.runWorker, "runWorker options");
  const env = options.env ?? process.env;
  const spec = options.handlers ?? env[JOBS_HANDLERS_ENV];
  if (spec === undefined || spec.trim() === "") {
    throw new CliError(NO_HANDLER_MESSAGE, { code: "ERR_NO_HANDLER", exitCode: EXIT_USAGE });
  }
  // A bad JOB_DEFAULT_TIMEOUT_SECONDS is a usage error, before the module loads.
  if (options.timeoutSeconds === undefined) defaultTimeoutSeconds(env);
  const graceSeconds = options.graceSeconds ?? 30;
  const log = options.logger ?? createLogger();
  const loaded = await loadHandler(spec, options.cwd === undefined ? {} : { cwd: options.cwd });
  // The worker is the only owner of the timeout: --timeout, else what the module's
  // registry asks for, else JOB_DEFAULT_TIMEOUT_SECONDS, else none.
  const timeoutSeconds = resolveTimeoutSeconds(options.timeoutSeconds, loaded.handler, env);

  const driver = driverNamed(resolveDriver(options.driver ?? env.JOBS_DRIVER));
  const jobs = easyJobs({
    ...driver.workerOptions,
    env,
    ...(options.driver === undefined ? {} : { driver: options.driver }),
    ...(options.redisUrl === undefined ? {} : { redisUrl: options.redisUrl }),
    ...(options.clusterNodes === undefined ? {} : { clusterNodes: options.clusterNodes }),
    ...(options.sqlitePath === undefined ? {} : { sqlitePath: options.sqlitePath }),
    ...(options.databaseUrl === undefined ? {} : { databaseUrl: options.databaseUrl }),
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
    ...(options.visibilityTimeoutSeconds === undefined
      ? {}
      : { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds }),
    // pino-style calls ({ task, err }, message): the worker's logger fits as it is.
    schedulerLogger: log,
  });
  driver.watch?.(jobs, log);
  let metricsServer: MetricsServer | undefined;
  let scheduling: Promise<void> | undefined;
  let stopping = false;
  try {
    const scheduled = await loadSchedule(jobs, env, options.cwd);
    const recordJob = workerJobMetrics(loaded, jobs);
    const runner = new WorkerRunner(jobs.queue, loaded.handler, {
      concurrency: options.concurrency ?? 1,
      pollIntervalSeconds: options.pollIntervalSeconds ?? 0.5,
      ...(options.maxJobs === undefined ? {} : { maxJobs: options.maxJobs }),
      ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
      onJobSettled: (event) => {
        recordJob(event);
        logOutcome(log, event);
      },
      onError: (error, context) => {
        // The driver logs an outage once; reserve retries during it are expected.
        if (context.phase === "reserve" && !driver.isReachable(jobs)) return;
        log.warn(
          {
            phase: context.phase,
            jobId: context.job?.id,
            jobName: context.job?.name,
            err: errorMessage(error),
          },
          `worker ${context.phase} error; backing off and carrying on`,
        );
      },
    });
    if (options.metricsPort !== undefined) {
      metricsServer = await startMetricsServer({
        port: options.metricsPort,
        registries: [globalRegister],
        isReady: () => runner.isRunning && driver.isReachable(jobs),
      });
    }
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, "already stopping; waiting for in-flight jobs");
        return;
      }
      stopping = true;
      log.info(
        { signal, graceSeconds, inFlight: runner.activeCount },
        "stopping: no new jobs; in-flight jobs finish or are handed back",
      );
      runner.stop({ graceSeconds }).catch((error) => {
        log.error({ err: errorMessage(error) }, "stop failed");
      });
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    if (scheduled > 0) scheduling = jobs.scheduler.run();
    log.info(
      {
        driver: jobs.driver,
        ...driver.describe(jobs),
        handlers: spec,
        export: loaded.exportName,
        jobNames: loaded.jobNames,
        concurrency: options.concurrency ?? 1,
        timeoutSeconds,
        graceSeconds,
        scheduledTasks: scheduled,
        metricsPort: metricsServer?.port,
      },
      "worker started",
    );
    if (driver.workerWarning) log.warn(driver.workerWarning);
    try {
      await runner.start();
    } finally {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    }
    log.info({ processed: runner.processedCount }, "worker stopped");
  } finally {
    await jobs.scheduler.stop().catch(() => {});
    await scheduling?.catch(() => {});
    await metricsServer?.close();
    await jobs.close();
    // An OpenTelemetry SDK the process preloaded may batch spans: export the last jobs'
    // before the command exits (docs/tracing.md).
    await flushTraces();
  }
}

async function loadSchedule(
  jobs: EasyJobs,
  env: NodeJS.ProcessEnv,
  cwd: string | undefined,
): Promise<number> {
  const raw = env[JOBS_SCHEDULE_ENV];
  if (raw === undefined || raw.trim() === "") return 0;
  try {
    const names = await scheduleFromEnv(jobs.scheduler, {
      queue: jobs.queue,
      envVar: JOBS_SCHEDULE_ENV,
      env,
      ...(cwd === undefined ? {} : { cwd }),
    });
    return names.length;
  } catch (cause) {
    if (cause instanceof ConfigError || cause instanceof CliError) throw cause;
    throw new CliError(`${JOBS_SCHEDULE_ENV} could not be loaded: ${errorMessage(cause)}`, {
      code: "ERR_SCHEDULE",
      exitCode: EXIT_USAGE,
      cause,
    });
  }
}

/**
 * The worker's side of the one metrics module: the handlers module's `JobRegistry`
 * metrics (its prefix and prom-client registry) when it exports one, else `JobMetrics`
 * in prom-client's default registry; fed by the runner's `onJobSettled` whatever the
 * handler. A registry's own handler feeds the same metrics through the runner too, and
 * a job is counted once however many hooks report it. The queue gauge is labelled with
 * the prefix.
 */
function workerJobMetrics(loaded: LoadedHandler, jobs: EasyJobs): (event: JobSettledEvent) => void {
  const registry = loaded.registry;
  if (registry && !registry.jobMetrics && registry.trackQueue) {
    // A registry from an older @svc-jobs/registry records in its own dispatch.
    registry.trackQueue(jobs.queue, { name: jobs.prefix });
    return () => {};
  }
  const metrics = registry?.jobMetrics ?? new JobMetrics({ registry: globalRegister });
  metrics.trackQueue(jobs.queue, { name: jobs.prefix });
  return (event) => metrics.onJobSettled(event);
}

function logOutcome(log: Logger, event: JobSettledEvent): void {
  const { job, outcome: status, durationSeconds } = event;
  const fields = {
    jobId: job.id,
    jobName: job.name,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    status,
    durationMs: Math.round(durationSeconds * 10_000) / 10,
    ...(event.error === undefined ? {} : { err: errorMessage(event.error) }),
  };
  if (status === "completed") log.info(fields, "job completed");
  else if (status === "released") log.info(fields, "job handed back to the queue");
  else if (status === "rate_limited")
    log.info(fields, "job rate limited by its handler; back without a charged attempt");
  else if (status === "cancelled")
    log.info(fields, "job cancelled while running; handler aborted, not retried");
  else if (status === "lost")
    log.warn(
      fields,
      "job reservation lost (it expired); handler aborted, another worker may run it",
    );
  else {
    const dead = job.attempts >= job.maxAttempts;
    log.warn(
      { ...fields, dead },
      dead ? `job ${status}; no attempts left, moved to the DLQ` : `job ${status}; will retry`,
    );
  }
}
