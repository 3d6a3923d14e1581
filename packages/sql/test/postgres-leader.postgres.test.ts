import { BackendError, ConfigError, JobValidationError, ManualClock } from "@svc-jobs/core";
import { Scheduler } from "@svc-jobs/scheduler";
import { PostgresLeader } from "@svc-jobs/sql";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase, type TestDatabase, uniqueQueue } from "./helpers/databases.js";

// PostgresLeader: a session-level advisory lock held on one pooled connection.
describe("PostgresLeader (PostgreSQL advisory lock)", () => {
  let t: TestDatabase;
  let pool: pg.Pool;
  let admin: pg.Pool;
  beforeAll(async () => {
    t = await createPostgresDatabase();
    pool = new pg.Pool({ connectionString: t.url, max: 6 });
    admin = new pg.Pool({ connectionString: t.url, max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await admin?.end();
    await t?.destroy();
  });

  /** The backends holding the advisory lock of `leader`, from pg_locks. */
  const holders = async (leader: PostgresLeader): Promise<number[]> => {
    // A bigint key shows as classid (high 32 bits) and objid (low 32 bits).
    const { rows } = await admin.query(
      `select pid from pg_locks
        where locktype = 'advisory' and granted and objsubid = 1
          and database = (select oid from pg_database where datname = current_database())
          and ((classid::bigint << 32) | objid::bigint) = $1::bigint`,
      [leader.lockKey],
    );
    return rows.map((r) => Number(r.pid));
  };

  it("two leaders on one name: only one leads; the holder renews, the other is refused", async () => {
    const name = uniqueQueue("leader");
    const a = new PostgresLeader(pool, { name });
    const b = new PostgresLeader(pool, { name });
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    expect(await holders(a)).toHaveLength(1);
    // Another name is another lock.
    const other = new PostgresLeader(pool, { name: `${name}-other` });
    expect(await other.acquire()).toBe(true);
    await other.release();
    await a.release();
    await b.release();
  });

  it("release() unlocks at once: the other replica takes over, and the pool gets the connection back", async () => {
    const name = uniqueQueue("leader");
    const a = new PostgresLeader(pool, { name });
    const b = new PostgresLeader(pool, { name });
    expect(await a.acquire()).toBe(true);
    await a.release();
    expect(a.isLeader()).toBe(false);
    expect(await holders(a)).toEqual([]);
    expect(await b.acquire()).toBe(true);
    expect(await a.acquire()).toBe(false);
    await b.release();
    await b.release(); // twice is harmless
    expect(pool.totalCount - pool.idleCount).toBe(0);
  });

  it("the leader's connection killed with pg_terminate_backend: it loses the lead, the other takes over", async () => {
    const name = uniqueQueue("leader");
    const a = new PostgresLeader(pool, { name });
    const b = new PostgresLeader(pool, { name });
    expect(await a.acquire()).toBe(true);
    const [pid] = await holders(a);
    expect(pid).toBeGreaterThan(0);
    await admin.query("select pg_terminate_backend($1)", [pid]);
    // The backend ends right after pg_terminate_backend returns; the lock goes with it.
    let took = false;
    for (let i = 0; i < 50 && !took; i++) {
      took = await b.acquire();
      if (!took) await new Promise((r) => setTimeout(r, 50));
    }
    expect(took).toBe(true);
    expect(await a.acquire()).toBe(false);
    expect(a.isLeader()).toBe(false);
    expect(b.isLeader()).toBe(true);
    const [newPid] = await holders(b);
    expect(newPid).not.toBe(pid);
    await b.release();
    expect(await a.acquire()).toBe(true);
    await a.release();
  });

  it("isLeader() turns false once the lease has run out by the clock, before any new acquire", async () => {
    const clock = new ManualClock();
    const a = new PostgresLeader(pool, { name: uniqueQueue("leader"), leaseSeconds: 10, clock });
    expect(a.leaseSeconds).toBe(10);
    expect(a.isLeader()).toBe(false);
    expect(await a.acquire()).toBe(true);
    clock.advance(9.9);
    expect(a.isLeader()).toBe(true);
    clock.advance(0.1);
    expect(a.isLeader()).toBe(false);
    expect(await a.acquire()).toBe(true);
    expect(a.isLeader()).toBe(true);
    await a.release();
  });

  it("drives the scheduler: one due tick runs once across two schedulers", async () => {
    const name = uniqueQueue("leader");
    const clock = new ManualClock();
    const runs: string[] = [];
    const schedulers = ["one", "two"].map((replica) => {
      const scheduler = new Scheduler({
        clock,
        leader: new PostgresLeader(pool, { name, clock }),
        logger: { info() {}, warn() {}, error() {} },
      });
      return { replica, scheduler };
    });
    for (const { replica, scheduler } of schedulers) {
      await scheduler.addTask("cleanup", 60, () => {
        runs.push(replica);
      });
    }
    clock.advance(60);
    const fired = await Promise.all(schedulers.map(({ scheduler }) => scheduler.tick()));
    expect(runs).toHaveLength(1);
    expect(fired.flat()).toEqual(["cleanup"]);
    clock.advance(60);
    for (const { scheduler } of schedulers) await scheduler.tick();
    expect(runs).toHaveLength(2);
    expect(new Set(runs).size).toBe(1); // the leader keeps the lead
    // stop() releases the lease: the other replica fires the next tick.
    const leading = schedulers.find(({ replica }) => replica === runs[0]);
    const other = schedulers.find(({ replica }) => replica !== runs[0]);
    void leading?.scheduler.run();
    await leading?.scheduler.stop();
    clock.advance(60);
    await other?.scheduler.tick();
    expect(runs.at(-1)).toBe(other?.replica);
    void other?.scheduler.run();
    await other?.scheduler.stop();
  });

  it("reports an unreachable database as a BackendError", async () => {
    const dead = new pg.Pool({
      connectionString: "postgres://postgres@127.0.0.1:1/none",
      connectionTimeoutMillis: 2000,
    });
    const a = new PostgresLeader(dead, { name: "x" });
    const error = await a.acquire().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as Error).message).toContain('PostgresLeader "x"');
    expect(a.isLeader()).toBe(false);
    await dead.end();
  });

  it("refuses unknown options and bad values, naming the field", () => {
    expect(() => new PostgresLeader(pool, { key: "x" } as never)).toThrow(/name/);
    expect(() => new PostgresLeader(pool, { leaseMs: 5 } as never)).toThrow(/leaseSeconds/);
    const cases: [Record<string, unknown>, string][] = [
      [{ leaseSeconds: 0 }, "leaseSeconds"],
      [{ leaseSeconds: "30" }, "leaseSeconds"],
      [{ name: "" }, "name"],
    ];
    for (const [options, field] of cases) {
      let caught: unknown;
      try {
        new PostgresLeader(pool, options as never);
      } catch (error) {
        caught = error;
      }
      expect(caught, JSON.stringify(options)).toBeInstanceOf(JobValidationError);
      expect((caught as JobValidationError).field).toBe(field);
    }
    for (const bad of [undefined, null, "postgres://x", {}]) {
      expect(() => new PostgresLeader(bad as never)).toThrow(ConfigError);
    }
    expect(new PostgresLeader(pool).name).toBe("svc-jobs:scheduler");
  });
});
