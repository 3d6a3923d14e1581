import { ConfigError, JobValidationError, ManualClock } from "@svc-jobs/core";
import { migrateJobTables, SqlJobQueue } from "@svc-jobs/sql";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestDatabase, uniqueQueue } from "./databases.js";

/** What this backend adds to the contract, on one database kind. */
export function backendCases(
  label: string,
  create: () => Promise<TestDatabase>,
  /**
   * Whether several connections of one process may write at once. Not with better-sqlite3:
   * it waits for the file's lock synchronously, blocking the thread the lock holder needs
   * (docs/sql-backend.md, "SQLite"); the SQLite file proves it with processes instead.
   */
  concurrentConnections: boolean,
): void {
  // Cases that need several writing connections in one process exist only where they can
  // run (PostgreSQL); SQLite proves the same with processes (processes.sqlite.test.ts).
  const itWithConcurrentConnections = concurrentConnections
    ? it
    : ((() => {}) as unknown as typeof it);
  describe(`SqlJobQueue (${label}): the SQL backend's own behaviour`, () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await create();
      await t.db.schema
        .createTable("orders")
        .ifNotExists()
        .addColumn("id", "integer", (c) => c.primaryKey())
        .addColumn("item", "text", (c) => c.notNull())
        .execute();
    });
    afterAll(async () => t?.destroy());

    const make = (options: Record<string, unknown> = {}) =>
      new SqlJobQueue(t.db, { dialect: t.dialect, queue: uniqueQueue("own"), ...options });

    it("enqueue({ trx }): the job exists if and only if the business write commits", async () => {
      const queue = make();
      await t.db.transaction().execute(async (trx) => {
        await trx.insertInto("orders").values({ id: 1, item: "book" }).execute();
        await queue.enqueue("ship", { order: 1 }, { trx });
      });
      await expect(
        t.db.transaction().execute(async (trx) => {
          await trx.insertInto("orders").values({ id: 2, item: "pen" }).execute();
          await queue.enqueueMany([{ name: "ship", payload: { order: 2 } }], { trx });
          throw new Error("the business write fails");
        }),
      ).rejects.toThrow("the business write fails");
      const orders = await t.db.selectFrom("orders").select("id").execute();
      expect(orders.map((o) => Number(o.id))).toEqual([1]);
      const job = await queue.reserveNext();
      expect(job?.payload).toEqual({ order: 1 });
      expect(await queue.reserveNext()).toBeNull();
      expect((await queue.stats()).ready).toBe(0);
    });

    it("enqueue({ trx }) works as the first call of a new queue object", async () => {
      const queue = make();
      await t.db.transaction().execute(async (trx) => {
        await queue.enqueue("first", {}, { trx });
      });
      expect((await queue.reserveNext())?.name).toBe("first");
    });

    it("refuses a trx that is not a Kysely transaction, and unknown enqueueMany options", async () => {
      const queue = make();
      await expect(queue.enqueue("x", {}, { trx: {} as never })).rejects.toMatchObject({
        field: "opts.trx",
      });
      await expect(queue.enqueueMany([], { transaction: 1 } as never)).rejects.toBeInstanceOf(
        JobValidationError,
      );
      await expect(queue.enqueue("x", {}, { delay: 1 } as never)).rejects.toMatchObject({
        field: "opts.delay",
      });
    });

    it("refuses unknown options and a bad dialect, naming them", () => {
      expect(
        () => new SqlJobQueue(t.db, { dialect: t.dialect, visibilityTimeout: 5 } as never),
      ).toThrow(/visibilityTimeoutSeconds/);
      expect(() => new SqlJobQueue(t.db, { dialect: "mysql" } as never)).toThrow(ConfigError);
      expect(() => new SqlJobQueue({} as never, { dialect: t.dialect })).toThrow(ConfigError);
      expect(() => new SqlJobQueue(t.db, { dialect: t.dialect, queue: "" })).toThrow(ConfigError);
    });

    it("migrateJobTables is idempotent, safe from several connections at once, and refuses unknown options", async () => {
      const others = [t.connectAgain(), t.connectAgain(), t.connectAgain()];
      if (concurrentConnections) {
        await Promise.all(others.map((db) => migrateJobTables(db, { dialect: t.dialect })));
      } else {
        for (const db of others) await migrateJobTables(db, { dialect: t.dialect });
      }
      await migrateJobTables(t.db, { dialect: t.dialect });
      const versions = await t.db.selectFrom("svc_jobs_schema_version").selectAll().execute();
      expect(versions.map((v) => Number(v.version))).toEqual([1, 2]);
      await expect(
        migrateJobTables(t.db, { dialect: t.dialect, dialekt: "x" } as never),
      ).rejects.toBeInstanceOf(ConfigError);
    });

    it("queues that share the tables are isolated: ids, jobs, pause and limits", async () => {
      const name = uniqueQueue("a");
      const a = new SqlJobQueue(t.db, { dialect: t.dialect, queue: name });
      const b = new SqlJobQueue(t.db, { dialect: t.dialect, queue: `${name}-b` });
      const ja = await a.enqueue("x", {});
      const jb = await b.enqueue("y", {});
      expect(ja.id).toBe("1");
      expect(jb.id).toBe("1");
      await a.pause();
      await a.setRateLimit({ max: 1, perSeconds: 10 });
      expect(await b.isPaused()).toBe(false);
      expect((await b.getLimits()).rateLimit).toBeNull();
      expect((await b.reserveNext())?.name).toBe("y");
      expect(await a.reserveNext()).toBeNull();
    });

    itWithConcurrentConnections(
      "two connections reserving at once never get the same job",
      async () => {
        const clock = new ManualClock(Date.UTC(2030, 0, 1));
        const name = uniqueQueue("race");
        const a = new SqlJobQueue(t.db, { dialect: t.dialect, queue: name, clock });
        const b = new SqlJobQueue(t.connectAgain(), { dialect: t.dialect, queue: name, clock });
        await a.enqueueMany(Array.from({ length: 60 }, (_, i) => ({ name: "n", payload: { i } })));
        const seen: string[] = [];
        const worker = async (q: SqlJobQueue) => {
          for (;;) {
            const jobs = await q.reserveMany(3);
            if (jobs.length === 0) return;
            for (const job of jobs) {
              seen.push(job.id);
              await q.ack(job);
            }
          }
        };
        await Promise.all([worker(a), worker(b), worker(a), worker(b)]);
        expect(seen).toHaveLength(60);
        expect(new Set(seen).size).toBe(60);
      },
    );

    it("enqueueMany writes a large batch with consecutive ids, in order", async () => {
      const queue = make();
      const jobs = await queue.enqueueMany(
        Array.from({ length: 1200 }, (_, i) => ({ name: "bulk", payload: { i } })),
      );
      expect(jobs.map((j) => Number(j.id))).toEqual(jobs.map((_, i) => i + 1));
      expect((await queue.stats()).ready).toBe(1200);
      expect((await queue.reserveNext())?.payload).toEqual({ i: 0 });
    });

    itWithConcurrentConnections(
      "schema: the tables in a schema of their own, events and all",
      async () => {
        await migrateJobTables(t.db, { dialect: t.dialect, schema: "jobs_schema" });
        const queue = new SqlJobQueue(t.db, {
          dialect: t.dialect,
          schema: "jobs_schema",
          queue: uniqueQueue("schema"),
          events: { maxLen: 2 },
        });
        const job = await queue.enqueue("in_schema", { a: 1 });
        const reserved = await queue.reserveNext();
        await queue.ack(reserved!);
        expect(reserved?.id).toBe(job.id);
        const held = await t.db
          .withSchema("jobs_schema")
          .selectFrom("svc_jobs_events")
          .select("type")
          .orderBy("id")
          .execute();
        expect(held.map((e) => e.type)).toEqual(["reserved", "completed"]);
      },
    );

    it("a failing database surfaces as a BackendError with the cause", async () => {
      const queue = new SqlJobQueue(t.db, {
        dialect: t.dialect,
        schema: "no_such_schema",
        queue: uniqueQueue("broken"),
      });
      await expect(queue.enqueue("x", {})).rejects.toMatchObject({ code: "ERR_BACKEND" });
      // The tables of the right schema are untouched.
      const rows = await sql<{
        n: number;
      }>`select count(*) as n from svc_jobs_queues where name like 'broken%'`.execute(t.db);
      expect(Number(rows.rows[0]?.n)).toBe(0);
    });
  });
}
