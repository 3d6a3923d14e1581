import { ConfigError } from "@svc-jobs/core";
import { discoverRedisQueuePrefixes, RedisJobQueue, RedisLeader } from "@svc-jobs/redis";
import { InMemoryScheduler } from "@svc-jobs/scheduler";
import type { Cluster, Redis } from "ioredis";
import { connectRedis } from "./connect-redis.js";
import { createClient } from "./create-client.js";
import type { RedisEasyJobs } from "./easy-jobs.js";
import type { AdminConnection, JobsDriverDefinition } from "./jobs-driver.js";
import {
  DEFAULT_REDIS_URL,
  parseClusterNodes,
  redactUrl,
  redisOptionsFromUrl,
} from "./redis-url.js";

/**
 * The `redis` driver: a queue shared by every process on one Redis (or Redis Cluster),
 * the scheduler fired only by the replica holding `{prefix}:scheduler:leader`.
 */
export const redisDriver: JobsDriverDefinition<RedisEasyJobs> = {
  summary: "shared, for production",
  open(options, { env, visibilityTimeoutSeconds, schedulerOptions }) {
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
      driver: "redis",
      prefix,
      queue,
      scheduler,
      redis,
      redisUrl: nodes ? describeNodes(nodes) : redactUrl(url),
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
  },
  // A worker outlives Redis outages: it reconnects forever with a capped backoff, while
  // each command fails after two reconnects so the loop (and a SIGTERM) is never stuck
  // behind a command queued for a server that is gone.
  workerOptions: {
    redisOptions: {
      retryStrategy: (times: number) => Math.min(times * 250, 5000),
      maxRetriesPerRequest: 2,
    },
  },
  describe: (jobs) => ({ prefix: jobs.prefix, redisUrl: jobs.redisUrl }),
  isReachable: (jobs) => jobs.redis.status === "ready",
  // Connection errors repeat every retry; one line per outage is enough.
  watch(jobs, log) {
    let down = false;
    jobs.redis.on("error", (error: Error) => {
      if (down) return;
      down = true;
      log.warn(
        { redisUrl: jobs.redisUrl, err: error.message },
        "redis unreachable; retrying with backoff",
      );
    });
    jobs.redis.on("ready", () => {
      if (down) log.info({ redisUrl: jobs.redisUrl }, "redis reachable again");
      down = false;
    });
  },
  admin: {
    selectHint: "JOBS_DRIVER=redis and REDIS_URL, or pass --driver redis",
    async open(target): Promise<AdminConnection> {
      const redis = await connectRedis({
        ...(target.redisUrl === undefined ? {} : { url: target.redisUrl }),
        ...(target.clusterNodes === undefined ? {} : { clusterNodes: target.clusterNodes }),
      });
      const queues = new Map<string, RedisJobQueue>();
      return {
        queue(prefix) {
          let queue = queues.get(prefix);
          if (!queue) {
            queue = new RedisJobQueue(redis, { prefix });
            queues.set(prefix, queue);
          }
          return queue;
        },
        listPrefixes: () => discoverRedisQueuePrefixes(redis),
        async close() {
          await Promise.all([...queues.values()].map((q) => q.close().catch(() => {})));
          await redis.quit().catch(() => redis.disconnect());
        },
      };
    },
  },
};

function describeNodes(nodes: { host: string; port: number }[]): string {
  return `cluster ${nodes.map((n) => `${n.host}:${n.port}`).join(",")}`;
}

function resolveRedisUrl(value: string | undefined): string {
  const url = value === undefined || value.trim() === "" ? DEFAULT_REDIS_URL : value.trim();
  redisOptionsFromUrl(url);
  return url;
}

/** Reads `JOBS_PREFIX` (or the `prefix` option): the queue's name, `"jobs"` by default. Internal. */
export function resolvePrefix(value: string | undefined): string {
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
