import { createHash } from "node:crypto";
import {
  BackendError,
  type Clock,
  ConfigError,
  errorMessage,
  JobValidationError,
  type Leader,
  systemClock,
} from "@svc-jobs/core";
import { type KnownKeys, rejectUnknownKeys, validateSeconds } from "@svc-jobs/core/backend";

/** The part of a `pg` pool client that {@link PostgresLeader} uses. */
export interface LeaderClient {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  on(event: "error", listener: (error: Error) => void): unknown;
  removeListener(event: "error", listener: (error: Error) => void): unknown;
  release(error?: Error | boolean): void;
}

/** What {@link PostgresLeader} takes: a `pg` `Pool` (or anything with its `connect`). */
export interface LeaderPool {
  connect(): Promise<LeaderClient>;
}

/** The keys of {@link PostgresLeaderOptions}. */
const LEADER_OPTIONS: KnownKeys = {
  keys: ["name", "leaseSeconds", "clock"],
  hints: {
    key: "name",
    lockName: "name",
    lease: "leaseSeconds",
    ttl: "leaseSeconds",
    ttlSeconds: "leaseSeconds",
    leaseMs: "leaseSeconds (in seconds)",
  },
  noun: "PostgresLeader option",
};

/** Options of {@link PostgresLeader}. */
export interface PostgresLeaderOptions {
  /**
   * What the replicas elect a leader for: hashed (SHA-256, first 8 bytes) to the bigint
   * key of the advisory lock. Replicas that should elect one leader share it; use a
   * different name per group of replicas.
   * @default "svc-jobs:scheduler"
   */
  name?: string;
  /**
   * How long a successful `acquire()` counts, in seconds: `isLeader()` turns false this
   * long after the last check that found the lock's connection alive. The scheduler
   * checks every third of it; a check that takes longer than a third of it gives the
   * connection (and with it the lock) up.
   * @default 30
   */
  leaseSeconds?: number;
  /** Source of time for {@link PostgresLeader.isLeader}. @default `Date.now()` */
  clock?: Clock;
}

/**
 * The bigint key of the advisory lock for `name`: the first 8 bytes of its SHA-256, as a
 * signed 64-bit integer (what `pg_try_advisory_lock(bigint)` takes), in decimal.
 */
function advisoryLockKey(name: string): string {
  return createHash("sha256").update(name, "utf8").digest().readBigInt64BE(0).toString();
}

/**
 * Leader election on PostgreSQL with a session-level advisory lock: `acquire()` takes a
 * connection from the pool and tries `pg_try_advisory_lock(key)`; the replica that gets
 * it keeps that connection while it leads, and each later `acquire()` checks the
 * connection is still alive. PostgreSQL frees the lock the moment the session ends, so a
 * leader that crashes, or whose connection is cut (`pg_terminate_backend`, a restart),
 * loses it at once and another replica takes over at its next `acquire()`. `release()`
 * unlocks and gives the connection back.
 *
 * It takes a `pg` `Pool` (the one behind your Kysely's `PostgresDialect`, or its own)
 * and holds one of its connections while it leads: size the pool for it.
 *
 * @example
 * ```ts
 * import { PostgresLeader } from "@svc-jobs/sql";
 * import { InMemoryScheduler } from "@svc-jobs/scheduler";
 * import pg from "pg";
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const leader = new PostgresLeader(pool, { name: "billing-scheduler" });
 * const scheduler = new InMemoryScheduler({ leader });
 * await scheduler.addTask("cleanup", 300, cleanup); // fires on one replica only
 * await scheduler.run();
 * ```
 */
export class PostgresLeader implements Leader {
  /** What the replicas elect a leader for. */
  readonly name: string;
  /** The advisory lock's bigint key, in decimal (see `pg_locks`). */
  readonly lockKey: string;
  /** How long an `acquire()` counts, in seconds. The scheduler reads it to renew in time. */
  readonly leaseSeconds: number;

  readonly #pool: LeaderPool;
  readonly #clock: Clock;
  readonly #leaseMs: number;
  /** The connection holding the lock; undefined when this replica does not lead. */
  #client: LeaderClient | undefined;
  #onError: ((error: Error) => void) | undefined;
  /** Local deadline (clock ms) of the last successful check; 0 when none. */
  #leaseUntil = 0;
  /** The acquire() or release() in progress: they never overlap on the connection. */
  #busy: Promise<unknown> = Promise.resolve();

  constructor(pool: LeaderPool, options: PostgresLeaderOptions = {}) {
    if (pool === null || typeof pool !== "object" || typeof pool.connect !== "function") {
      throw new ConfigError(
        `PostgresLeader needs a pg Pool (anything with connect()), got ${pool === null ? "null" : typeof pool}: pass new pg.Pool({ connectionString })`,
      );
    }
    rejectUnknownKeys(options, LEADER_OPTIONS, "options");
    const name = options.name ?? "svc-jobs:scheduler";
    if (typeof name !== "string" || name.length === 0) {
      throw new JobValidationError(
        "name",
        `PostgresLeader name must be a non-empty string, got ${JSON.stringify(name)}: e.g. "svc-jobs:scheduler"`,
      );
    }
    this.leaseSeconds = validateSeconds("leaseSeconds", options.leaseSeconds ?? 30, 0.001);
    this.#leaseMs = Math.max(1, Math.round(this.leaseSeconds * 1000));
    this.name = name;
    this.lockKey = advisoryLockKey(name);
    this.#pool = pool;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Checks the held connection (leading) or tries the lock on a new one (not leading);
   * resolves to whether this replica leads now.
   */
  acquire(): Promise<boolean> {
    const run = this.#busy.then(() => this.#acquire());
    this.#busy = run.catch(() => {});
    return run;
  }

  /** True while the last `acquire()` found the lock held and its lease has not run out by the clock. */
  isLeader(): boolean {
    return (
      this.#client !== undefined && this.#leaseUntil > 0 && this.#clock.now() < this.#leaseUntil
    );
  }

  /** Unlocks and gives the connection back, so another replica can take over at once. */
  release(): Promise<void> {
    const run = this.#busy.then(() => this.#release());
    this.#busy = run.catch(() => {});
    return run;
  }

  async #acquire(): Promise<boolean> {
    const sentAt = this.#clock.now();
    if (this.#client) {
      const client = this.#client;
      try {
        await this.#withTimeout(client.query("select 1"));
        this.#leaseUntil = sentAt + this.#leaseMs;
        return true;
      } catch {
        // The session is gone (or hangs), and with it the lock: drop the connection and
        // compete again like any other replica.
        this.#drop(client, true);
      }
    }
    let client: LeaderClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw new BackendError(
        `PostgresLeader "${this.name}": could not connect to PostgreSQL: ${errorMessage(error)}; check that the database is reachable`,
        { cause: error },
      );
    }
    const onError = () => this.#drop(client, true);
    client.on("error", onError);
    let locked: boolean;
    try {
      const result = await this.#withTimeout(
        client.query("select pg_try_advisory_lock($1::bigint) as locked", [this.lockKey]),
      );
      locked = result.rows[0]?.locked === true;
    } catch (error) {
      client.removeListener("error", onError);
      client.release(error instanceof Error ? error : true);
      throw new BackendError(
        `PostgresLeader "${this.name}": pg_try_advisory_lock failed: ${errorMessage(error)}; check that the database is reachable`,
        { cause: error },
      );
    }
    if (!locked) {
      client.removeListener("error", onError);
      client.release();
      return false;
    }
    this.#client = client;
    this.#onError = onError;
    this.#leaseUntil = sentAt + this.#leaseMs;
    return true;
  }

  async #release(): Promise<void> {
    const client = this.#client;
    this.#leaseUntil = 0;
    if (!client) return;
    try {
      await this.#withTimeout(
        client.query("select pg_advisory_unlock($1::bigint)", [this.lockKey]),
      );
      this.#drop(client, false);
    } catch (error) {
      // Closing the session frees the lock too.
      this.#drop(client, true);
      throw new BackendError(
        `PostgresLeader "${this.name}": pg_advisory_unlock failed (${errorMessage(error)}); the connection was closed, which frees the lock`,
        { cause: error },
      );
    }
  }

  /** Forgets the held connection; `destroy` closes it instead of returning it to the pool. */
  #drop(client: LeaderClient, destroy: boolean): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    this.#leaseUntil = 0;
    if (this.#onError) client.removeListener("error", this.#onError);
    this.#onError = undefined;
    // A later error event of a destroyed connection must not crash the process.
    if (destroy) client.on("error", () => {});
    try {
      client.release(destroy ? true : undefined);
    } catch {
      // already released
    }
  }

  /** A check that takes longer than a third of the lease counts as a lost connection. */
  #withTimeout<T>(promise: Promise<T>): Promise<T> {
    const ms = Math.max(1000, this.#leaseMs / 3);
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer from PostgreSQL within ${ms} ms`)),
          ms,
        );
        timer.unref?.();
      }),
    ]).finally(() => clearTimeout(timer));
  }
}
