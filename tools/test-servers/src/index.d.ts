/** A redis-server this process started. */
export interface RedisServer {
  host: string;
  port: number;
  /** `redis://127.0.0.1:PORT` */
  url: string;
  /** Working directory (AOF/RDB files live here). */
  dir: string;
  /** PID of the redis-server process. */
  pid: number;
  /** Stops it (SIGTERM, then SIGKILL) and removes its folder unless `keepDir`. */
  stop(options?: { keepDir?: boolean }): Promise<void>;
  /** Kills it with SIGKILL at once (a crash), keeping its folder. */
  crash(): Promise<void>;
  /** Starts it again on the same port and folder (e.g. to reload its AOF). */
  restart(): Promise<void>;
}

export interface StartRedisOptions {
  /** @default a free port */
  port?: number;
  /** Extra redis-server arguments, e.g. ["--appendonly", "yes", "--appendfsync", "always"]. */
  args?: string[];
  /** @default a new temporary folder */
  dir?: string;
}

/** Starts a redis-server on 127.0.0.1 and waits until it answers PING. */
export function startRedis(options?: StartRedisOptions): Promise<RedisServer>;

/** A Redis Cluster of masters on loopback. */
export interface RedisCluster {
  nodes: { host: string; port: number }[];
  servers: RedisServer[];
  stop(): Promise<void>;
}

/** Starts `masters` cluster-enabled redis-servers, joins them, waits for cluster_state:ok. */
export function startRedisCluster(options?: { masters?: number }): Promise<RedisCluster>;

/** A PostgreSQL server this process started. */
export interface PostgresServer {
  port: number;
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust auth). */
  url: string;
  /**
   * Stops it and starts it again on the same data directory and port. `"immediate"` (the
   * default) ends every connection at once without a checkpoint, as a crash would, so the
   * start replays the WAL; `"fast"` is a clean shutdown.
   */
  restart(options?: { mode?: "immediate" | "fast" }): Promise<void>;
  stop(): Promise<void>;
}

/** Runs initdb in a temporary folder and starts PostgreSQL on 127.0.0.1. */
export function startPostgres(): Promise<PostgresServer>;

/**
 * The Redis the tests share: `REDIS_URL` when set (started by `npm test` / `.ci/run`),
 * else a redis-server started for this process. `stop()` only stops what it started.
 * Never FLUSHDB a shared server: use a unique key prefix per test.
 */
export function useRedis(): Promise<{ url: string; stop(): Promise<void> }>;

/** The shared cluster: `REDIS_CLUSTER_NODES` ("127.0.0.1:7000,127.0.0.1:7001,...") or a new one. */
export function useRedisCluster(): Promise<{
  nodes: { host: string; port: number }[];
  stop(): Promise<void>;
}>;

/** The shared PostgreSQL: `DATABASE_URL`/`PG_URL` when set, else a new server. The URL is of an admin database. */
export function usePostgres(): Promise<{ url: string; stop(): Promise<void> }>;

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number>;

/** Sends one inline command to a Redis server over a raw socket; returns the raw reply text. */
export function redisCommand(port: number, command: string, host?: string): Promise<string>;

/** Where a binary is, or throws an error that says how to install it. */
export function requireBinary(name: string, hint: string): string;

/** A unique key prefix for one test, e.g. `t:1a2b3c:name`. */
export function uniquePrefix(name?: string): string;

/**
 * Builds workspace packages (a pnpm `--filter`, e.g. "@svc-jobs/cli...") for tests that run
 * built code; a no-op when SVC_JOBS_BUILT=1 (the root `npm test` built everything already).
 */
export function ensureBuilt(filter: string): void;

/** What a child process printed and returned. */
export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall-clock run time in milliseconds. */
  ms: number;
}

/**
 * Runs `node script args...` with exactly `env` (plus PATH and HOME) and waits for it to
 * exit; rejects after `timeoutMs` (default 20 s), killing it.
 */
export function runNodeScript(
  script: string,
  args: string[],
  env?: Record<string, string | undefined>,
  options?: { cwd?: string; timeoutMs?: number },
): Promise<ProcessResult>;
