import type { Cluster, ClusterOptions, Redis, RedisOptions } from "ioredis";
import { loadIoredis } from "./load-ioredis.js";
import { redisOptionsFromUrl } from "./redis-url.js";

/**
 * A single-server client, or a `Cluster` over `nodes` with the URL's credentials and TLS.
 * Loads ioredis on first use; without it installed, a `ConfigError` says to install it.
 *
 * @example
 * ```ts
 * const redis = createClient("redis://localhost:6379/0", undefined);
 * ```
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
