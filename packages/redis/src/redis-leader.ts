import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import {
  BackendError,
  type Clock,
  JobValidationError,
  type Leader,
  systemClock,
} from "@svc-jobs/core";
import { type KnownKeys, rejectUnknownKeys, validateSeconds } from "@svc-jobs/core/backend";
import { assertIoredisClient } from "./assert-ioredis-client.js";
import { type DefinesCommands, defineLeaderCommands, type LeaderCommands } from "./scripts.js";

/**
 * The client a {@link RedisLeader} runs on: an ioredis `Redis` or `Cluster` (ioredis 5 or
 * 6). Typed by the shape the leader uses, not by ioredis' own classes, so either major
 * version of ioredis fits.
 */
export interface RedisLeaderClient extends DefinesCommands {}

/** The keys of {@link RedisLeaderOptions}. */
const LEADER_OPTIONS: KnownKeys = {
  keys: ["key", "leaseSeconds", "clock", "ownerId"],
  hints: {
    lease: "leaseSeconds",
    ttl: "leaseSeconds",
    ttlSeconds: "leaseSeconds",
    leaseMs: "leaseSeconds (in seconds)",
    id: "ownerId",
    owner: "ownerId",
  },
  noun: "RedisLeader option",
};

/** Options of {@link RedisLeader}. */
export interface RedisLeaderOptions {
  /**
   * The Redis key that holds the lease. Replicas that should elect one leader share it;
   * use a different key per group of replicas.
   * @default "jobs:leader"
   */
  key?: string;
  /**
   * How long a lease lasts without renewal, in seconds. A leader that dies is replaced
   * within this time; the holder must call `acquire()` again well before it runs out
   * (the scheduler renews every third of it).
   * @default 30
   */
  leaseSeconds?: number;
  /** Source of time for {@link RedisLeader.isLeader}. @default `Date.now()` */
  clock?: Clock;
  /**
   * The token stored in the lease key, unique per replica. Visible with
   * `redis-cli get jobs:leader`, so the default names the host and process.
   * @default `"<hostname>:<pid>:<random hex>"`
   */
  ownerId?: string;
}

/**
 * Leader election on one Redis key: `SET key token NX PX lease` takes the lease, a
 * Lua compare-and-set renews it (only while this replica's token is still there), and
 * a Lua compare-and-delete releases it. Pass it to a scheduler so only one of many
 * replicas fires each periodic task.
 *
 * `isLeader()` is measured from the moment the acquiring command was sent, so the
 * local view of the lease ends no later than the lease in Redis does.
 *
 * @example
 * ```ts
 * import { Redis } from "ioredis";
 * import { RedisLeader } from "@svc-jobs/redis";
 * import { InMemoryScheduler } from "@svc-jobs/scheduler";
 *
 * const leader = new RedisLeader(new Redis(process.env.REDIS_URL), { leaseSeconds: 30 });
 * const scheduler = new InMemoryScheduler({ leader });
 * await scheduler.addTask("cleanup", 300, cleanup); // fires on one replica only
 * await scheduler.run();
 * ```
 */
export class RedisLeader implements Leader {
  /** The lease key. */
  readonly key: string;
  /** Lease length in seconds. The scheduler reads it to renew in time. */
  readonly leaseSeconds: number;
  /** This replica's token in the lease key. */
  readonly ownerId: string;

  readonly #client: RedisLeaderClient & LeaderCommands;
  readonly #clock: Clock;
  readonly #leaseMs: number;
  /** Local deadline (clock ms) of the lease this replica last got; 0 when none. */
  #leaseUntil = 0;

  constructor(client: RedisLeaderClient, options: RedisLeaderOptions = {}) {
    assertIoredisClient(client, "RedisLeader");
    rejectUnknownKeys(options, LEADER_OPTIONS, "options");
    const key = options.key ?? "jobs:leader";
    if (typeof key !== "string" || key.length === 0) {
      throw new JobValidationError(
        "key",
        `RedisLeader key must be a non-empty string, got ${JSON.stringify(key)}: e.g. "jobs:leader"`,
      );
    }
    const ownerId =
      options.ownerId ?? `${hostname()}:${process.pid}:${randomBytes(6).toString("hex")}`;
    if (typeof ownerId !== "string" || ownerId.length === 0) {
      throw new JobValidationError(
        "ownerId",
        "RedisLeader ownerId must be a non-empty string unique per replica, or left out for a generated one",
      );
    }
    this.leaseSeconds = validateSeconds("leaseSeconds", options.leaseSeconds ?? 30, 0.001);
    this.#leaseMs = Math.max(1, Math.round(this.leaseSeconds * 1000));
    this.key = key;
    this.ownerId = ownerId;
    this.#client = defineLeaderCommands(client);
    this.#clock = options.clock ?? systemClock;
  }

  /** Takes the lease if it is free, renews it if this replica holds it; resolves to whether it leads now. */
  async acquire(): Promise<boolean> {
    const sentAt = this.#clock.now();
    const result = await this.#run("acquire", () =>
      this.#client.svcJobsLeaderAcquire(this.key, this.ownerId, String(this.#leaseMs)),
    );
    const leads = Number(result) > 0;
    this.#leaseUntil = leads ? sentAt + this.#leaseMs : 0;
    return leads;
  }

  /** True while the lease this replica got at its last `acquire()` has not run out by the clock. */
  isLeader(): boolean {
    return this.#leaseUntil > 0 && this.#clock.now() < this.#leaseUntil;
  }

  /** Deletes the lease if this replica still holds it, so another replica can take over at once. */
  async release(): Promise<void> {
    this.#leaseUntil = 0;
    await this.#run("release", () => this.#client.svcJobsLeaderRelease(this.key, this.ownerId));
  }

  async #run(what: string, command: () => Promise<number>): Promise<number> {
    try {
      // The script runs as EVALSHA, and as EVAL when the server does not know it yet.
      return await command();
    } catch (error) {
      throw new BackendError(
        `RedisLeader ${what} on key "${this.key}" failed: ${error instanceof Error ? error.message : String(error)}; check that Redis is reachable`,
        { cause: error },
      );
    }
  }
}
