import type { JobEvent } from "@svc-jobs/core";
import { SqlJobQueue } from "@svc-jobs/sql";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase, type TestDatabase, uniqueQueue } from "./helpers/databases.js";

// LISTEN/NOTIFY (docs/sql-backend.md, "Blocking reserves and events"): with `notify`, a
// waiter wakes when another process writes, long before its poll interval.
describe("SqlJobQueue (PostgreSQL): LISTEN/NOTIFY wake-ups", () => {
  let t: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    t = await createPostgresDatabase();
    pool = new pg.Pool({ connectionString: t.url, max: 4 });
  });
  afterAll(async () => {
    await pool?.end();
    await t?.destroy();
  });

  it("a blocked reserve wakes when another connection enqueues, not at its 30 s poll", async () => {
    const name = uniqueQueue("notify");
    const waiting = new SqlJobQueue(t.db, {
      dialect: "postgres",
      queue: name,
      notify: pool,
      pollIntervalSeconds: 30,
    });
    const other = new SqlJobQueue(t.connectAgain(), { dialect: "postgres", queue: name });
    // A first wait opens the LISTEN connection.
    expect(await waiting.reserveNext({ blockSeconds: 0.2 })).toBeNull();
    const started = Date.now();
    const pending = waiting.reserveNext({ blockSeconds: 20 });
    await new Promise((r) => setTimeout(r, 200));
    const job = await other.enqueue("wake", {});
    expect((await pending)?.id).toBe(job.id);
    expect(Date.now() - started).toBeLessThan(3000);
    await waiting.close();
    await other.close();
  });

  it("an events() iterator wakes on another connection's events; close() ends it and the LISTEN", async () => {
    const name = uniqueQueue("notify-events");
    const listening = new SqlJobQueue(t.db, {
      dialect: "postgres",
      queue: name,
      notify: pool,
      pollIntervalSeconds: 30,
    });
    const other = new SqlJobQueue(t.connectAgain(), { dialect: "postgres", queue: name });
    const iterator = listening.events()[Symbol.asyncIterator]();
    const first = iterator.next();
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const job = await other.enqueue("seen", {});
    const got = (await first).value as JobEvent;
    expect(got).toMatchObject({ type: "enqueued", jobId: job.id });
    expect(Date.now() - started).toBeLessThan(3000);
    const next = iterator.next();
    await listening.close();
    expect((await next).done).toBe(true);
    expect(pool.totalCount - pool.idleCount).toBe(0);
    await other.close();
  });

  it("refuses notify on SQLite and a notify that is not a pool", () => {
    expect(() => new SqlJobQueue(t.db, { dialect: "sqlite", notify: pool } as never)).toThrow(
      /PostgreSQL/,
    );
    expect(() => new SqlJobQueue(t.db, { dialect: "postgres", notify: {} as never })).toThrow(
      /pg Pool/,
    );
  });
});
