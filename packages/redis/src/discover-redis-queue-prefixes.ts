import { BackendError } from "@svc-jobs/core";
import { assertIoredisClient } from "./assert-ioredis-client.js";
import { queuePrefixOfSeqKey, SEQ_SUFFIX } from "./queue-keys.js";
import type { DefinesCommands } from "./scripts.js";

/** One Redis node as {@link discoverRedisQueuePrefixes} scans it. */
export interface RedisScanNode {
  scan(
    cursor: string,
    matchToken: "MATCH",
    pattern: string,
    countToken: "COUNT",
    count: number,
  ): Promise<[cursor: string, keys: string[]]>;
}

/**
 * The client {@link discoverRedisQueuePrefixes} takes: an ioredis `Redis` or `Cluster`
 * (ioredis 5 or 6), typed by the shape it uses.
 */
export interface DiscoverRedisQueuePrefixesClient extends DefinesCommands, RedisScanNode {
  /** True on an ioredis `Cluster`: every master is scanned. */
  readonly isCluster?: boolean;
  /** A cluster's nodes by role (ioredis `Cluster.nodes`). */
  nodes?(role: "master"): RedisScanNode[];
  get(key: string): Promise<string | null>;
  ping(): Promise<unknown>;
}

/**
 * Finds the queues in a Redis database: every prefix with an id counter (`<prefix>:seq`
 * holding an integer), which every queue that ever took a job has. SCANs the node, or
 * every master of a Cluster, so it never blocks Redis, and reads each candidate counter
 * once (a dedupe key that happens to end in `:seq` is not a counter).
 *
 * Each prefix returned, passed as `prefix` to a `RedisJobQueue` on the same client, opens
 * that queue: on a Cluster `{emails}:seq` gives `"emails"` (the queue wraps it back), a
 * client's own `keyPrefix` is left out, and the list is sorted.
 *
 * @example
 * ```ts
 * import { discoverRedisQueuePrefixes, RedisJobQueue } from "@svc-jobs/redis";
 * import { Redis } from "ioredis";
 *
 * const redis = new Redis(process.env.REDIS_URL ?? "redis://localhost:6379/0");
 * for (const prefix of await discoverRedisQueuePrefixes(redis)) {
 *   console.log(prefix, await new RedisJobQueue(redis, { prefix }).stats());
 * }
 * ```
 */
export async function discoverRedisQueuePrefixes(
  client: DiscoverRedisQueuePrefixesClient,
): Promise<string[]> {
  assertIoredisClient(client, "discoverRedisQueuePrefixes");
  const cluster = client.isCluster === true;
  const keyPrefix = (client as { options?: { keyPrefix?: string } }).options?.keyPrefix ?? "";
  // ioredis adds keyPrefix to keys, never to SCAN's pattern or replies.
  const pattern = `${escapeGlob(keyPrefix)}*${SEQ_SUFFIX}`;
  try {
    // A cluster client learns its nodes when it connects; a command waits until it has.
    if (cluster && client.nodes?.("master").length === 0) await client.ping();
    const nodes = cluster && client.nodes ? client.nodes("master") : [client];
    const seqKeys = new Set<string>();
    for (const node of nodes) {
      let cursor = "0";
      do {
        const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
        cursor = next;
        for (const key of keys) seqKeys.add(key.slice(keyPrefix.length));
      } while (cursor !== "0");
    }
    const counters = [...seqKeys];
    const values = await Promise.all(counters.map((key) => client.get(key).catch(() => null)));
    const prefixes = new Set<string>();
    counters.forEach((key, i) => {
      if (/^\d+$/.test(values[i] ?? "")) prefixes.add(queuePrefixOfSeqKey(key, cluster));
    });
    return [...prefixes].sort();
  } catch (error) {
    throw new BackendError(
      `discoverRedisQueuePrefixes failed: ${error instanceof Error ? error.message : String(error)}; check that Redis is reachable`,
      { code: "ERR_REDIS", cause: error },
    );
  }
}

/** `text` as a SCAN pattern that matches only itself. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}
