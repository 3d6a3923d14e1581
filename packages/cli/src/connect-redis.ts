import { BackendError } from "@svc-jobs/core";
import type { Cluster, Redis } from "ioredis";
import { CliError, EXIT_RUNTIME } from "./cli-error.js";
import { createClient } from "./create-client.js";
import { checkOptionKeys, OPTION_KEYS } from "./option-keys.js";
import { DEFAULT_REDIS_URL, parseClusterNodes, redactUrl } from "./redis-url.js";

/** Options of {@link connectRedis}. */
export interface ConnectRedisOptions {
  /** @default `REDIS_URL`, else `"redis://localhost:6379/0"` */
  url?: string;
  /** Redis Cluster seeds, `host:port,...`. @default `REDIS_CLUSTER_NODES`, else a single server */
  clusterNodes?: string;
  /** Give up connecting after this many seconds. @default 5 */
  timeoutSeconds?: number;
}

/**
 * Opens a Redis connection for a one-shot admin command and checks it with PING.
 * An unreachable server is a `CliError` within `timeoutSeconds`, not an endless
 * reconnect loop.
 *
 * @example
 * ```ts
 * const redis = await connectRedis({ url: "redis://localhost:6379/0" });
 * ```
 */
export async function connectRedis(options: ConnectRedisOptions = {}): Promise<Redis | Cluster> {
  checkOptionKeys(options, OPTION_KEYS.connectRedis, "connectRedis options");
  const url = options.url?.trim() || process.env.REDIS_URL?.trim() || DEFAULT_REDIS_URL;
  const timeoutSeconds = options.timeoutSeconds ?? 5;
  const nodes = parseClusterNodes(options.clusterNodes ?? process.env.REDIS_CLUSTER_NODES);
  let lastError: unknown;
  const giveUp = (times: number) => (times > 2 ? null : 200);
  const client = createClient(
    url,
    nodes,
    {
      lazyConnect: true,
      connectTimeout: Math.round(timeoutSeconds * 1000),
      maxRetriesPerRequest: 1,
      retryStrategy: giveUp,
    },
    { lazyConnect: true },
  );
  const where = nodes
    ? `cluster ${nodes.map((n) => `${n.host}:${n.port}`).join(",")}`
    : redactUrl(url);
  client.on("error", (error) => {
    lastError = error;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new BackendError(`no answer within ${timeoutSeconds}s`)),
          timeoutSeconds * 1000,
        );
      }),
    ]);
  } catch (cause) {
    client.disconnect();
    const reason = lastError ?? cause;
    throw new CliError(
      `cannot reach Redis at ${where} (${reason instanceof Error ? reason.message : String(reason)}): check REDIS_URL${nodes ? " and REDIS_CLUSTER_NODES" : ""} and that the server is up (redis-cli -u <url> ping)`,
      { code: "ERR_REDIS_UNREACHABLE", exitCode: EXIT_RUNTIME, cause: reason },
    );
  } finally {
    clearTimeout(timer);
  }
  return client;
}
