import type { JobQueue } from "@svc-jobs/core";
import { RedisJobQueue } from "@svc-jobs/redis";
import type { Cluster, Redis } from "ioredis";
import { CliError, EXIT_USAGE } from "./cli-error.js";
import { connectRedis } from "./connect-redis.js";
import { resolveDriver } from "./easy-jobs.js";

/** Where an admin command (stats, dlq, enqueue) looks for the queue. */
export interface AdminTarget {
  /** `--driver` or `JOBS_DRIVER`. */
  driver?: string;
  /** `--redis-url` or `REDIS_URL`. */
  redisUrl?: string;
  /** `--redis-cluster-nodes` or `REDIS_CLUSTER_NODES`. */
  clusterNodes?: string;
  /** The command, for messages, e.g. `"stats"`. */
  command: string;
}

/** An open connection to the queues of one Redis. */
export interface AdminConnection {
  redis: Redis | Cluster;
  /** A queue handle for a prefix (cached). */
  queue(prefix: string): JobQueue;
  close(): Promise<void>;
}

/**
 * Connects an admin command to the shared queue. The memory driver holds jobs
 * inside one process, so a fresh `svc-jobs` process would always see an empty
 * queue: that is refused with a message pointing at `JOBS_DRIVER=redis`.
 *
 * @example
 * ```ts
 * const admin = await openAdmin({ command: "stats" });
 * console.log(await admin.queue("jobs").stats());
 * await admin.close();
 * ```
 */
export async function openAdmin(target: AdminTarget): Promise<AdminConnection> {
  const driver = resolveDriver(target.driver ?? process.env.JOBS_DRIVER);
  if (driver === "memory") {
    throw new CliError(
      `svc-jobs ${target.command} needs a shared queue, but the driver is memory (jobs live inside one process, so a new process always sees an empty queue): set JOBS_DRIVER=redis and REDIS_URL, or pass --driver redis`,
      { code: "ERR_MEMORY_DRIVER", exitCode: EXIT_USAGE },
    );
  }
  const redis = await connectRedis({
    ...(target.redisUrl === undefined ? {} : { url: target.redisUrl }),
    ...(target.clusterNodes === undefined ? {} : { clusterNodes: target.clusterNodes }),
  });
  const queues = new Map<string, JobQueue>();
  return {
    redis,
    queue(prefix) {
      let queue = queues.get(prefix);
      if (!queue) {
        queue = new RedisJobQueue(redis, { prefix });
        queues.set(prefix, queue);
      }
      return queue;
    },
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close().catch(() => {})));
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
