import { Redis } from "ioredis";
import { CliError, EXIT_RUNTIME } from "./cli-error.js";
import { DEFAULT_REDIS_URL, redactUrl, redisOptionsFromUrl } from "./redis-url.js";

/** Options of {@link connectRedis}. */
export interface ConnectRedisOptions {
  /** @default `REDIS_URL`, else `"redis://localhost:6379/0"` */
  url?: string;
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
export async function connectRedis(options: ConnectRedisOptions = {}): Promise<Redis> {
  const url = options.url?.trim() || process.env.REDIS_URL?.trim() || DEFAULT_REDIS_URL;
  const timeoutSeconds = options.timeoutSeconds ?? 5;
  const base = redisOptionsFromUrl(url);
  let lastError: unknown;
  const client = new Redis({
    ...base,
    lazyConnect: true,
    connectTimeout: Math.round(timeoutSeconds * 1000),
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => (times > 2 ? null : 200),
  });
  client.on("error", (error) => {
    lastError = error;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${timeoutSeconds}s`)),
          timeoutSeconds * 1000,
        );
      }),
    ]);
  } catch (cause) {
    client.disconnect();
    const reason = lastError ?? cause;
    throw new CliError(
      `cannot reach Redis at ${redactUrl(url)} (${reason instanceof Error ? reason.message : String(reason)}): check REDIS_URL and that the server is up (redis-cli -u <url> ping)`,
      { code: "ERR_REDIS_UNREACHABLE", exitCode: EXIT_RUNTIME, cause: reason },
    );
  } finally {
    clearTimeout(timer);
  }
  return client;
}
