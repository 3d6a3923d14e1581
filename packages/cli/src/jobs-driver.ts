import type { JobQueue } from "@svc-jobs/core";
import type { InMemorySchedulerOptions } from "@svc-jobs/scheduler";
import type { EasyJobs, EasyJobsOptions } from "./easy-jobs.js";

/**
 * One queue backend of the CLI: everything `easyJobs()`, `svc-jobs run` and the admin
 * commands need to know about it. Adding a backend is adding one of these to
 * `JOBS_DRIVERS` (and its `EasyJobs` variant); nothing else names a backend.
 */
export interface JobsDriverDefinition<J extends EasyJobs = EasyJobs> {
  /** What it is for, shown in the `JOBS_DRIVER` error, e.g. `"one process, for development"`. */
  readonly summary: string;
  /** Builds what `easyJobs()` returns: the queue, a scheduler (with a leader when shared), `close()`. */
  open(options: EasyJobsOptions, context: DriverOpenContext): J;
  /** Options `svc-jobs run` adds for a long-running worker (the caller's win). */
  readonly workerOptions?: Partial<EasyJobsOptions>;
  /** Fields of the `worker started` log line that say where the queue lives. */
  describe(jobs: J): Record<string, unknown>;
  /** A warning `svc-jobs run` logs at start, e.g. that the queue is not shared. */
  readonly workerWarning?: string;
  /** Whether the backend answers now: `/readyz`, and quiet reserve errors during an outage. */
  isReachable(jobs: J): boolean;
  /** Logs losing and regaining the backend, one line each, for a long-running worker. */
  watch?(jobs: J, log: DriverLogger): void;
  /**
   * Access for the admin commands (`stats`, `dlq`, `enqueue`); absent when the queue
   * lives inside one process, with {@link JobsDriverDefinition.notShared} saying why.
   */
  readonly admin?: DriverAdmin;
  /** Why the admin commands refuse this driver (no `admin`). */
  readonly notShared?: string;
}

/** What every driver's `open` gets, read once by `easyJobs()`. */
export interface DriverOpenContext {
  env: NodeJS.ProcessEnv;
  /** `visibilityTimeoutSeconds` or `JOBS_VISIBILITY_TIMEOUT_SECONDS`; undefined: the queue's default. */
  visibilityTimeoutSeconds: number | undefined;
  /** The scheduler options from `easyJobs()` (the driver adds its leader). */
  schedulerOptions: InMemorySchedulerOptions;
}

/** The admin commands' side of a driver. */
export interface DriverAdmin {
  /** How to select this driver, for the message refusing one that has no admin. */
  readonly selectHint: string;
  /** Connects (failing fast when the backend is unreachable). */
  open(target: AdminTarget): Promise<AdminConnection>;
}

/** Where an admin command (stats, dlq, enqueue) looks for the queue. */
export interface AdminTarget {
  /** `--driver` or `JOBS_DRIVER`. */
  driver?: string;
  /** `--redis-url` or `REDIS_URL`. */
  redisUrl?: string;
  /** `--redis-cluster-nodes` or `REDIS_CLUSTER_NODES`. */
  clusterNodes?: string;
  /** `--sqlite-path` or `JOBS_SQLITE_PATH` (sqlite). */
  sqlitePath?: string;
  /** `--database-url` or `DATABASE_URL` (postgres). */
  databaseUrl?: string;
  /** The command, for messages, e.g. `"stats"`. */
  command: string;
}

/** An open connection to the queues of one backend. */
export interface AdminConnection {
  /** A queue handle for a prefix (cached). */
  queue(prefix: string): JobQueue;
  /** Every queue prefix the backend holds (`stats --all`). */
  listPrefixes(): Promise<string[]>;
  close(): Promise<void>;
}

/** The pino-style calls a driver logs with. */
export interface DriverLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}
