import {
  ConfigError,
  defaultTimeoutSeconds,
  errorMessage,
  type JobOutcome,
  resolveTimeoutSeconds,
  WorkerRunner,
} from "@svc-jobs/core";
import { scheduleFromEnv } from "@svc-jobs/scheduler";
import type { Logger } from "pino";
import { register as globalRegister, Registry } from "prom-client";
import { CliError, EXIT_USAGE } from "./cli-error.js";
import { createLogger } from "./create-logger.js";
import { type EasyJobs, easyJobs } from "./easy-jobs.js";
import { JOBS_HANDLERS_ENV, loadHandler } from "./load-handler.js";
import { type MetricsServer, startMetricsServer } from "./metrics-server.js";
import { workerMetrics } from "./worker-metrics.js";

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
  /** `memory` or `redis`. @default `JOBS_DRIVER` */
  driver?: string;
  /** @default `REDIS_URL` */
  redisUrl?: string;
  /** Redis Cluster seeds `host:port,...`. @default `REDIS_CLUSTER_NODES` */
  clusterNodes?: string;
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

  const jobs = easyJobs({
    env,
    ...(options.driver === undefined ? {} : { driver: options.driver }),
    ...(options.redisUrl === undefined ? {} : { redisUrl: options.redisUrl }),
    ...(options.clusterNodes === undefined ? {} : { clusterNodes: options.clusterNodes }),
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
    ...(options.visibilityTimeoutSeconds === undefined
      ? {}
      : { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds }),
    // The worker outlives Redis outages: it reconnects forever with a capped backoff,
    // while each command fails after two reconnects so the loop (and a SIGTERM) is
    // never stuck behind a command queued for a server that is gone.
    redisOptions: {
      retryStrategy: (times: number) => Math.min(times * 250, 5000),
      maxRetriesPerRequest: 2,
    },
    // pino-style calls ({ task, err }, message): the worker's logger fits as it is.
    schedulerLogger: log,
  });
  watchRedis(jobs, log);
  let metricsServer: MetricsServer | undefined;
  let scheduling: Promise<void> | undefined;
  let stopping = false;
  try {
    const scheduled = await loadSchedule(jobs, env, options.cwd);
    const cliRegistry = new Registry();
    // A JobRegistry records job metrics itself; a bare function gets the same ones here.
    let onJobMetrics: (outcome: JobOutcome) => void = () => {};
    if (loaded.registry?.trackQueue) loaded.registry.trackQueue(jobs.queue, { name: jobs.prefix });
    else
      onJobMetrics = workerMetrics(cliRegistry, jobs.queue, {
        queueName: jobs.prefix,
      }).onJobSettled;
    const runner = new WorkerRunner(jobs.queue, loaded.handler, {
      concurrency: options.concurrency ?? 1,
      pollIntervalSeconds: options.pollIntervalSeconds ?? 0.5,
      ...(options.maxJobs === undefined ? {} : { maxJobs: options.maxJobs }),
      ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
      onJobSettled: (outcome) => {
        onJobMetrics(outcome);
        logOutcome(log, outcome);
      },
      onError: (error, context) => {
        // One "redis unreachable" line per outage is enough; reserve retries are expected.
        if (context.phase === "reserve" && jobs.redis && jobs.redis.status !== "ready") return;
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
        registries: [globalRegister, cliRegistry],
        isReady: () =>
          runner.isRunning && (jobs.redis === undefined || jobs.redis.status === "ready"),
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
        prefix: jobs.prefix,
        redisUrl: jobs.redisUrl,
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
    if (jobs.driver === "memory") {
      log.warn(
        "memory driver: the queue lives inside this process, so other processes (your API, svc-jobs enqueue) cannot add jobs to it; set JOBS_DRIVER=redis to share a queue",
      );
    }
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

function logOutcome(log: Logger, outcome: JobOutcome): void {
  const { job, status, durationMs } = outcome;
  const fields = {
    jobId: job.id,
    jobName: job.name,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    status,
    durationMs: Math.round(durationMs * 10) / 10,
    ...(outcome.error === undefined ? {} : { err: errorMessage(outcome.error) }),
  };
  if (status === "completed") log.info(fields, "job completed");
  else if (status === "released") log.info(fields, "job handed back to the queue");
  else {
    const dead = job.attempts >= job.maxAttempts;
    log.warn(
      { ...fields, dead },
      dead ? `job ${status}; no attempts left, moved to the DLQ` : `job ${status}; will retry`,
    );
  }
}

// Connection errors repeat every retry; one line per outage is enough.
function watchRedis(jobs: EasyJobs, log: Logger): void {
  const redis = jobs.redis;
  if (!redis) return;
  let down = false;
  redis.on("error", (error: Error) => {
    if (down) return;
    down = true;
    log.warn(
      { redisUrl: jobs.redisUrl, err: error.message },
      "redis unreachable; retrying with backoff",
    );
  });
  redis.on("ready", () => {
    if (down) log.info({ redisUrl: jobs.redisUrl }, "redis reachable again");
    down = false;
  });
}
