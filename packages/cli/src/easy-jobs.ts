import { ConfigError, type InMemoryJobQueue } from "@svc-jobs/core";
import type { RedisJobQueue, RedisLeader } from "@svc-jobs/redis";
import type {
  InMemoryScheduler,
  InMemorySchedulerOptions,
  SchedulerLogger,
} from "@svc-jobs/scheduler";
import type { Cluster, Redis, RedisOptions } from "ioredis";
import { driverNamed, resolveDriver } from "./jobs-drivers.js";
import { checkOptionKeys, OPTION_KEYS } from "./option-keys.js";

/** The queue backends `easyJobs` can build: the names of `JOBS_DRIVERS`. */
export type JobsDriver = "memory" | "redis";

/** Options of {@link easyJobs}. Each falls back to its environment variable. */
export interface EasyJobsOptions {
  /**
   * `memory` or `redis`, case-insensitive. Written as the literal `"memory"` or `"redis"`,
   * it also narrows the type of what `easyJobs` returns.
   * @default `JOBS_DRIVER`, else `"memory"`
   */
  driver?: string;
  /** Where Redis listens (redis driver). @default `REDIS_URL`, else `"redis://localhost:6379/0"` */
  redisUrl?: string;
  /**
   * Seeds of a Redis Cluster, `host:port,host:port` (redis driver). When set, the queue
   * runs on an ioredis `Cluster`; credentials and TLS still come from `redisUrl`.
   * @default `REDIS_CLUSTER_NODES`, else none (a single server)
   */
  clusterNodes?: string;
  /** Key prefix of the Redis queue; one prefix is one queue. @default `JOBS_PREFIX`, else `"jobs"` */
  prefix?: string;
  /**
   * Seconds a reserved job stays hidden before another worker may take it.
   * @default `JOBS_VISIBILITY_TIMEOUT_SECONDS`, else 60
   */
  visibilityTimeoutSeconds?: number;
  /** The scheduler's longest sleep between checks, in seconds (it wakes at due times anyway). @default 60 */
  tickIntervalSeconds?: number;
  /**
   * Where the scheduler reports failed tasks and leadership changes, pino-style
   * (`logger.error({ task, err }, message)`): pass a pino logger as it is.
   * @default console
   */
  schedulerLogger?: SchedulerLogger;
  /** Extra ioredis options (timeouts, retry strategy, TLS) merged over the URL's. @default none */
  redisOptions?: RedisOptions;
  /** Where the environment variables are read from. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** What {@link easyJobs} returns, whichever the driver. */
interface EasyJobsCommon {
  /** The driver that was chosen. */
  driver: JobsDriver;
  /** The key prefix (redis) or `"memory"`. */
  prefix: string;
  /** A scheduler for periodic tasks; with the redis driver it fires only on the leader replica. */
  scheduler: InMemoryScheduler;
  /** Stops the scheduler, releases the lease and closes the queue and the Redis connection. */
  close(): Promise<void>;
}

/** What {@link easyJobs} returns with the memory driver: one process, no Redis, no leader. */
export interface MemoryEasyJobs extends EasyJobsCommon {
  driver: "memory";
  /** The in-process queue. */
  queue: InMemoryJobQueue;
  redis?: undefined;
  redisUrl?: undefined;
  leader?: undefined;
}

/** What {@link easyJobs} returns with the redis driver. */
export interface RedisEasyJobs extends EasyJobsCommon {
  driver: "redis";
  /** The queue on Redis. */
  queue: RedisJobQueue;
  /** The Redis client easyJobs opened: a `Cluster` with `clusterNodes`. */
  redis: Redis | Cluster;
  /** The redis URL with its password hidden (or `cluster host:port,...`), for messages. */
  redisUrl: string;
  /** The scheduler's leader lease, on `{prefix}:scheduler:leader`. */
  leader: RedisLeader;
}

/**
 * What {@link easyJobs} returns: {@link MemoryEasyJobs} or {@link RedisEasyJobs}, told
 * apart by `driver`.
 */
export type EasyJobs = MemoryEasyJobs | RedisEasyJobs;

/**
 * Builds a queue and a scheduler from the environment, the way the worker and
 * your API process both should: `JOBS_DRIVER` (`memory` or `redis`), `REDIS_URL`,
 * `JOBS_PREFIX`. Bad values are a `ConfigError` that says what to set. The redis
 * driver needs ioredis installed (loaded on first use).
 *
 * Typed by the `driver` option: `easyJobs({ driver: "redis" })` is a
 * {@link RedisEasyJobs} (a `RedisJobQueue` and a `RedisLeader`), `easyJobs({ driver:
 * "memory" })` a {@link MemoryEasyJobs}, and a driver read from the environment either
 * ({@link EasyJobs}; check `driver` to narrow it).
 *
 * @example
 * ```ts
 * const { queue, scheduler, close } = easyJobs(); // JOBS_DRIVER=redis for production
 * const job = await queue.enqueue("send_email", { to: "user@example.com" });
 * console.log(`enqueued job ${job.id}`);
 * await close();
 * ```
 */
export function easyJobs(options: EasyJobsOptions & { driver: "redis" }): RedisEasyJobs;
export function easyJobs(options: EasyJobsOptions & { driver: "memory" }): MemoryEasyJobs;
export function easyJobs(options?: EasyJobsOptions): EasyJobs;
export function easyJobs(options: EasyJobsOptions = {}): EasyJobs {
  checkOptionKeys(options, OPTION_KEYS.easyJobs, "easyJobs options");
  const env = options.env ?? process.env;
  const driver = resolveDriver(options.driver ?? env.JOBS_DRIVER);
  const visibilityTimeoutSeconds =
    options.visibilityTimeoutSeconds ??
    resolveVisibilityTimeout(env.JOBS_VISIBILITY_TIMEOUT_SECONDS);
  const schedulerOptions: InMemorySchedulerOptions = {};
  if (options.tickIntervalSeconds !== undefined) {
    schedulerOptions.tickIntervalSeconds = options.tickIntervalSeconds;
  }
  if (options.schedulerLogger) schedulerOptions.logger = options.schedulerLogger;
  return driverNamed(driver).open(options, { env, visibilityTimeoutSeconds, schedulerOptions });
}

/**
 * Reads `JOBS_VISIBILITY_TIMEOUT_SECONDS`: unset or empty means the queue's default
 * (60 s); anything but a positive number is a `ConfigError`.
 */
export function resolveVisibilityTimeout(raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigError(
      `JOBS_VISIBILITY_TIMEOUT_SECONDS must be a positive number of seconds, got ${JSON.stringify(raw)}: set it above your longest job's run time without heartbeats (e.g. 60), or unset it`,
    );
  }
  return value;
}
