import { ConfigError, type InMemoryJobQueue, type Leader } from "@svc-jobs/core";
import type { RedisJobQueue, RedisLeader } from "@svc-jobs/redis";
import type {
  InMemoryScheduler,
  InMemorySchedulerOptions,
  SchedulerLogger,
} from "@svc-jobs/scheduler";
import type { PostgresLeader, SqlJobQueue } from "@svc-jobs/sql";
import type { Cluster, Redis, RedisOptions } from "ioredis";
import type { Kysely } from "kysely";
import { driverNamed, resolveDriver } from "./jobs-drivers.js";
import { checkOptionKeys, OPTION_KEYS } from "./option-keys.js";

/** The queue backends `easyJobs` can build: the names of `JOBS_DRIVERS`. */
export type JobsDriver = "memory" | "redis" | "sqlite" | "postgres";

/** Options of {@link easyJobs}. Each falls back to its environment variable. */
export interface EasyJobsOptions {
  /**
   * `memory`, `redis`, `sqlite` or `postgres`, case-insensitive. Written as a literal
   * (`"redis"`, ...), it also narrows the type of what `easyJobs` returns.
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
  /**
   * The SQLite file (sqlite driver), relative to the current directory; created with its
   * folder, in WAL mode, its tables migrated at open.
   * @default `JOBS_SQLITE_PATH`, else `"./data/svc-jobs.sqlite"`
   */
  sqlitePath?: string;
  /** The PostgreSQL URL (postgres driver), e.g. `postgres://user:password@host:5432/app`. @default `DATABASE_URL` (required) */
  databaseUrl?: string;
  /**
   * The queue: the key prefix on Redis, the queue's name in the SQL tables; one prefix is
   * one queue. @default `JOBS_PREFIX`, else `"jobs"`
   */
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
  /** The key prefix (redis), the queue's name (sqlite, postgres) or `"memory"`. */
  prefix: string;
  /** A scheduler for periodic tasks; with a shared driver (redis, sqlite, postgres) it fires only on the leader replica. */
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
 * What {@link easyJobs} returns with the sqlite driver: the queue in one SQLite file,
 * shared by the processes of one host that open it.
 */
export interface SqliteEasyJobs extends EasyJobsCommon {
  driver: "sqlite";
  /** The queue on the file (its name is `prefix`). */
  queue: SqlJobQueue;
  /** The Kysely on the file (one connection; share it rather than opening another). */
  // biome-ignore lint/suspicious/noExplicitAny: the queue's tables are not the caller's schema.
  db: Kysely<any>;
  /** The absolute path of the file. */
  sqlitePath: string;
  /** The scheduler's lease: a row of `svc_jobs_leader` in the same file. */
  leader: Leader & { readonly name: string; readonly leaseSeconds: number };
  redis?: undefined;
  redisUrl?: undefined;
}

/** What {@link easyJobs} returns with the postgres driver. */
export interface PostgresEasyJobs extends EasyJobsCommon {
  driver: "postgres";
  /** The queue on PostgreSQL (its name is `prefix`), woken by LISTEN/NOTIFY. */
  queue: SqlJobQueue;
  /** The Kysely on `DATABASE_URL` (a pg pool of 10). */
  // biome-ignore lint/suspicious/noExplicitAny: the queue's tables are not the caller's schema.
  db: Kysely<any>;
  /** The database URL with its password hidden, for messages. */
  databaseUrl: string;
  /** The scheduler's advisory lock, on the name `{prefix}:scheduler`. */
  leader: PostgresLeader;
  redis?: undefined;
  redisUrl?: undefined;
}

/**
 * What {@link easyJobs} returns: {@link MemoryEasyJobs}, {@link RedisEasyJobs},
 * {@link SqliteEasyJobs} or {@link PostgresEasyJobs}, told apart by `driver`.
 */
export type EasyJobs = MemoryEasyJobs | RedisEasyJobs | SqliteEasyJobs | PostgresEasyJobs;

/**
 * Builds a queue and a scheduler from the environment, the way the worker and
 * your API process both should: `JOBS_DRIVER` (`memory`, `redis`, `sqlite` or
 * `postgres`), `REDIS_URL`, `JOBS_SQLITE_PATH`, `DATABASE_URL`, `JOBS_PREFIX`. Bad values
 * are a `ConfigError` that says what to set. The redis driver needs ioredis installed,
 * sqlite better-sqlite3 and kysely, postgres pg and kysely (loaded on first use).
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
export function easyJobs(options: EasyJobsOptions & { driver: "sqlite" }): SqliteEasyJobs;
export function easyJobs(options: EasyJobsOptions & { driver: "postgres" }): PostgresEasyJobs;
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
