import { ConfigError, InMemoryJobQueue } from "@svc-jobs/core";
import { RedisJobQueue, RedisLeader } from "@svc-jobs/redis";
import {
  InMemoryScheduler,
  type InMemorySchedulerOptions,
  type SchedulerLogger,
} from "@svc-jobs/scheduler";
import type { Cluster, ClusterOptions, Redis, RedisOptions } from "ioredis";
import { loadIoredis } from "./load-ioredis.js";
import {
  DEFAULT_REDIS_URL,
  parseClusterNodes,
  redactUrl,
  redisOptionsFromUrl,
} from "./redis-url.js";

/** The queue backends `easyJobs` can build. */
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
  if (driver === "memory") {
    const queue = new InMemoryJobQueue(
      visibilityTimeoutSeconds === undefined ? {} : { visibilityTimeoutSeconds },
    );
    const scheduler = new InMemoryScheduler(schedulerOptions);
    return {
      driver,
      prefix: "memory",
      queue,
      scheduler,
      async close() {
        await scheduler.stop();
        await queue.close();
      },
    };
  }
  const prefix = resolvePrefix(options.prefix ?? env.JOBS_PREFIX);
  const url = resolveRedisUrl(options.redisUrl ?? env.REDIS_URL);
  const nodes = parseClusterNodes(options.clusterNodes ?? env.REDIS_CLUSTER_NODES);
  const redis = createClient(url, nodes, options.redisOptions);
  const queue = new RedisJobQueue(redis, {
    prefix,
    ...(visibilityTimeoutSeconds === undefined ? {} : { visibilityTimeoutSeconds }),
  });
  const leader = new RedisLeader(redis, { key: `${prefix}:scheduler:leader` });
  const scheduler = new InMemoryScheduler({ ...schedulerOptions, leader });
  let closed: Promise<void> | undefined;
  return {
    driver,
    prefix,
    queue,
    scheduler,
    redis,
    redisUrl: nodes
      ? `cluster ${nodes.map((n) => `${n.host}:${n.port}`).join(",")}`
      : redactUrl(url),
    leader,
    close() {
      closed ??= (async () => {
        await scheduler.stop();
        // Only a held lease is worth releasing; with Redis down it runs out by itself.
        if (leader.isLeader() && redis.status === "ready") await leader.release().catch(() => {});
        await queue.close();
        await closeRedis(redis);
      })();
      return closed;
    },
  };
}

/** Reads a driver name; `undefined` or empty means `memory`. */
export function resolveDriver(value: string | undefined): JobsDriver {
  const text = (value ?? "").trim().toLowerCase();
  if (text === "" || text === "memory") return "memory";
  if (text === "redis") return "redis";
  throw new ConfigError(
    `JOBS_DRIVER is ${JSON.stringify(value)}: set it to "memory" (one process, for development) or "redis" (shared, for production)`,
    { code: "ERR_JOBS_DRIVER" },
  );
}

function resolveRedisUrl(value: string | undefined): string {
  const url = value === undefined || value.trim() === "" ? DEFAULT_REDIS_URL : value.trim();
  redisOptionsFromUrl(url);
  return url;
}

function resolvePrefix(value: string | undefined): string {
  const prefix = value === undefined || value.trim() === "" ? "jobs" : value.trim();
  if (/\s/.test(prefix) || prefix.length > 200) {
    throw new ConfigError(
      `queue prefix ${JSON.stringify(prefix)} is not usable: use a short name without spaces, e.g. "jobs" or "billing"`,
      { code: "ERR_JOBS_PREFIX" },
    );
  }
  return prefix;
}

// QUIT waits for an answer, which never comes while Redis is unreachable.
async function closeRedis(redis: Redis | Cluster): Promise<void> {
  if (redis.status !== "ready") {
    redis.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    redis.quit().catch(() => {}),
    new Promise((resolve) => {
      timer = setTimeout(resolve, 2000);
    }),
  ]);
  clearTimeout(timer);
  redis.disconnect();
}

/**
 * A single-server client, or a `Cluster` over `nodes` with the URL's credentials and TLS.
 * Loads ioredis on first use; without it installed, a `ConfigError` says to install it.
 */
export function createClient(
  url: string,
  nodes: { host: string; port: number }[] | undefined,
  redisOptions: RedisOptions = {},
  clusterOptions: ClusterOptions = {},
): Redis | Cluster {
  const base = redisOptionsFromUrl(url);
  const { Cluster, Redis } = loadIoredis();
  if (!nodes) return new Redis({ ...base, ...redisOptions });
  const { username, password, tls } = base;
  const { retryStrategy, ...perNode } = redisOptions;
  return new Cluster(nodes, {
    redisOptions: { username, password, tls, ...perNode },
    ...(retryStrategy ? { clusterRetryStrategy: retryStrategy } : {}),
    ...clusterOptions,
  });
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
