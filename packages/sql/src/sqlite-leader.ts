import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import {
  BackendError,
  type Clock,
  errorMessage,
  JobValidationError,
  type Leader,
  systemClock,
} from "@svc-jobs/core";
import { type KnownKeys, rejectUnknownKeys, validateSeconds } from "@svc-jobs/core/backend";
import { sql } from "kysely";
import type { AnyKysely } from "./job-tables.js";

/** The keys of {@link SqliteLeaderOptions}. */
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
  noun: "SqliteLeader option",
};

/** Options of {@link SqliteLeader}. */
export interface SqliteLeaderOptions {
  /** The lease row's name: processes that should elect one leader share it. @default "svc-jobs:scheduler" */
  name?: string;
  /** Lease length in seconds; the scheduler renews every third of it. @default 30 */
  leaseSeconds?: number;
  /** Source of time for the lease. @default `Date.now()` */
  clock?: Clock;
}

/**
 * The scheduler's leader on a SQLite file: a lease row in the file (table
 * `svc_jobs_leader`, created on first use), so of several processes on one file (two
 * `svc-jobs run`, a worker and an API) only one fires the schedule. One statement takes the
 * lease when it is free or has run out, or renews it when this process holds it;
 * `release()` deletes it. The file is on one host, so its processes share one clock
 * (docs/sql-backend.md, "Leaders for the scheduler").
 *
 * ```ts
 * const leader = new SqliteLeader(db, { name: "orders:scheduler" });
 * const scheduler = new InMemoryScheduler({ leader });
 * ```
 */
export class SqliteLeader implements Leader {
  /** The lease row's name: replicas that should elect one leader share it. */
  readonly name: string;
  /** Lease length in seconds. The scheduler reads it to renew in time. */
  readonly leaseSeconds: number;
  /** This process's token in the lease row. */
  readonly ownerId: string;

  readonly #db: AnyKysely;
  readonly #clock: Clock;
  readonly #leaseMs: number;
  #leaseUntil = 0;
  #created = false;

  constructor(db: AnyKysely, options: SqliteLeaderOptions = {}) {
    rejectUnknownKeys(options, LEADER_OPTIONS, "options");
    const name = options.name ?? "svc-jobs:scheduler";
    if (typeof name !== "string" || name.length === 0) {
      throw new JobValidationError(
        "name",
        `SqliteLeader name must be a non-empty string, got ${JSON.stringify(name)}: e.g. "svc-jobs:scheduler"`,
      );
    }
    this.#db = db;
    this.name = name;
    this.leaseSeconds = validateSeconds("leaseSeconds", options.leaseSeconds ?? 30, 0.001);
    this.#leaseMs = Math.max(1, Math.round(this.leaseSeconds * 1000));
    this.#clock = options.clock ?? systemClock;
    this.ownerId = `${hostname()}:${process.pid}:${randomBytes(6).toString("hex")}`;
  }

  /** Takes the lease if it is free or ran out, renews it if this process holds it. */
  async acquire(): Promise<boolean> {
    const now = this.#clock.now();
    const rows = await this.#run("acquire", async () => {
      if (!this.#created) {
        await sql`create table if not exists svc_jobs_leader (
          name text primary key, owner text not null, until integer not null)`.execute(this.#db);
        this.#created = true;
      }
      const result = await sql<{ owner: string }>`
        insert into svc_jobs_leader (name, owner, until)
        values (${this.name}, ${this.ownerId}, ${now + this.#leaseMs})
        on conflict (name) do update set owner = excluded.owner, until = excluded.until
        where svc_jobs_leader.owner = excluded.owner or svc_jobs_leader.until <= ${now}
        returning owner`.execute(this.#db);
      return result.rows;
    });
    const leads = rows.length > 0;
    this.#leaseUntil = leads ? now + this.#leaseMs : 0;
    return leads;
  }

  /** True while the lease this process got at its last `acquire()` has not run out. */
  isLeader(): boolean {
    return this.#leaseUntil > 0 && this.#clock.now() < this.#leaseUntil;
  }

  /** Deletes the lease row if this process holds it, so another can take over at once. */
  async release(): Promise<void> {
    const held = this.#leaseUntil > 0;
    this.#leaseUntil = 0;
    if (!held || !this.#created) return;
    await this.#run("release", () =>
      sql`delete from svc_jobs_leader where name = ${this.name} and owner = ${this.ownerId}`.execute(
        this.#db,
      ),
    );
  }

  async #run<T>(what: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      throw new BackendError(
        `the sqlite scheduler lease ("${this.name}") ${what} failed: ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }
}
