import type { Job, JobEvent } from "@svc-jobs/core";
import { migrateJobTables, SqlJobQueue } from "@svc-jobs/sql";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase, type TestDatabase, uniqueQueue } from "./helpers/databases.js";

// docs/sql-backend.md, "Transactions and locking" and "The fast path": operations of one
// queue object share transactions (acks and reserves in one function call), and several
// objects (processes) contend on the control row. No job may be lost or doubled, event ids
// have no gap, and nothing deadlocks.
describe("SqlJobQueue (PostgreSQL): concurrent operations", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createPostgresDatabase();
  });
  afterAll(async () => {
    await t?.destroy();
  });

  /** Workers that reserve (`batch` at a time) and ack until `total` jobs were processed. */
  async function drain(queues: SqlJobQueue[], workers: number, batch: number, total: number) {
    const seen: string[] = [];
    let idle = 0;
    const worker = async (queue: SqlJobQueue) => {
      while (seen.length < total && idle < 200) {
        const jobs =
          batch === 1
            ? [await queue.reserveNext()].filter((j): j is Job => j !== null)
            : await queue.reserveMany(batch);
        if (jobs.length === 0) {
          idle++;
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        for (const job of jobs) seen.push(job.id);
        await Promise.all(jobs.map((job) => queue.ack(job)));
      }
    };
    await Promise.all(
      Array.from({ length: workers }, (_, i) => worker(queues[i % queues.length] as SqlJobQueue)),
    );
    return seen;
  }

  async function collectEvents(queue: SqlJobQueue, count: number): Promise<JobEvent[]> {
    const out: JobEvent[] = [];
    for await (const event of queue.events({ after: "0" })) {
      out.push(event);
      if (out.length === count) break;
    }
    return out;
  }

  it("one queue object: concurrent enqueues, reserves and acks each take every job once, events without gaps", async () => {
    const queue = new SqlJobQueue(t.db, { dialect: "postgres", queue: uniqueQueue("one") });
    const enqueued = await Promise.all(
      Array.from({ length: 300 }, (_, i) => queue.enqueue("job", { i })),
    );
    const ids = enqueued.map((job) => job.id);
    expect(new Set(ids).size).toBe(300);
    const seen = [...(await drain([queue], 20, 1, 150)), ...(await drain([queue], 10, 7, 150))];
    expect(seen.length).toBe(300);
    expect(new Set(seen)).toEqual(new Set(ids));
    const stats = await queue.stats();
    expect(stats).toMatchObject({ ready: 0, processing: 0, delayed: 0 });
    const events = await collectEvents(queue, 900);
    expect(events.map((e) => Number(e.id))).toEqual(Array.from({ length: 900 }, (_, i) => i + 1));
    for (const type of ["enqueued", "reserved", "completed"]) {
      const jobIds = events.filter((e) => e.type === type).map((e) => e.jobId);
      expect(new Set(jobIds)).toEqual(new Set(ids));
      expect(jobIds.length).toBe(300);
    }
    await queue.close();
  });

  it("several queue objects on their own connections: no job lost or doubled, no deadlock", async () => {
    const name = uniqueQueue("many");
    const queues = Array.from(
      { length: 4 },
      () => new SqlJobQueue(t.connectAgain(), { dialect: "postgres", queue: name }),
    );
    const producer = queues[0] as SqlJobQueue;
    const ids = (
      await producer.enqueueMany(
        Array.from({ length: 400 }, (_, i) => ({ name: "job", payload: { i } })),
      )
    ).map((job) => job.id);
    // Producers keep writing while the workers drain, through every object.
    const more = Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        (queues[i % 4] as SqlJobQueue).enqueue("late", { i }).then((job) => job.id),
      ),
    );
    const seen = await drain(queues, 16, 5, 500);
    ids.push(...(await more));
    expect(seen.length).toBe(500);
    expect(new Set(seen)).toEqual(new Set(ids));
    expect(await producer.stats()).toMatchObject({ ready: 0, processing: 0 });
    for (const queue of queues) await queue.close();
  });

  it("a stale ack in the same batch as a good one settles only the good one", async () => {
    const queue = new SqlJobQueue(t.db, { dialect: "postgres", queue: uniqueQueue("fence") });
    await queue.enqueueMany([
      { name: "a", payload: {} },
      { name: "b", payload: {} },
    ]);
    const [a, b] = await queue.reserveMany(2);
    const stale = { id: (a as Job).id, attempts: 7 };
    await Promise.all([queue.ack(stale), queue.ack(b as Job), queue.ack("not-an-id")]);
    expect((await queue.getJob((a as Job).id))?.state).toBe("processing");
    expect(await queue.getJob((b as Job).id)).toBeNull();
    await queue.close();
  });

  for (const group of [undefined, "g"]) {
    it(`an operation the database refuses fails alone; the others of its batch are written (${group === undefined ? "fast path" : "general transaction"})`, async () => {
      const queue = new SqlJobQueue(t.db, { dialect: "postgres", queue: uniqueQueue("refused") });
      // PostgreSQL text cannot hold U+0000: that enqueue's statement is refused.
      const [good, bad, other] = await Promise.allSettled([
        queue.enqueue("good", {}),
        queue.enqueue("bad\u0000name", {}),
        queue.enqueue("other", {}, group === undefined ? {} : { group }),
      ]);
      expect(good.status).toBe("fulfilled");
      expect(bad.status).toBe("rejected");
      expect(other.status).toBe("fulfilled");
      expect(await queue.stats()).toMatchObject({ ready: 2 });
      await queue.close();
    });
  }

  it("tables at schema version 1 (no functions) work, and migrating adds version 2", async () => {
    const schema = `v1_${Math.random().toString(36).slice(2, 8)}`;
    await migrateJobTables(t.db, { dialect: "postgres", schema });
    await sql`drop function ${sql.id(schema, "svc_jobs_ack_reserve")}`.execute(t.db);
    await sql`drop function ${sql.id(schema, "svc_jobs_enqueue")}`.execute(t.db);
    await sql`delete from ${sql.id(schema, "svc_jobs_schema_version")} where version = 2`.execute(
      t.db,
    );
    const queue = new SqlJobQueue(t.db, { dialect: "postgres", schema, queue: uniqueQueue("v1") });
    const job = await queue.enqueue("old", {});
    expect((await queue.reserveNext())?.id).toBe(job.id);
    await queue.ack(job.id);
    expect(await queue.getJob(job.id)).toBeNull();
    await migrateJobTables(t.db, { dialect: "postgres", schema });
    const versions = await t.db
      .withSchema(schema)
      .selectFrom("svc_jobs_schema_version")
      .select("version")
      .orderBy("version")
      .execute();
    expect(versions.map((v) => Number(v.version))).toEqual([1, 2]);
    const upgraded = new SqlJobQueue(t.db, {
      dialect: "postgres",
      schema,
      queue: uniqueQueue("v2"),
    });
    const next = await upgraded.enqueue("new", {});
    expect((await upgraded.reserveNext())?.id).toBe(next.id);
    await queue.close();
    await upgraded.close();
  });

  it('the fast path\'s functions run on generic plans (docs/sql-backend.md, "The fast path")', async () => {
    const { rows } = await sql<{ name: string; config: string[] | null }>`
      select proname as name, proconfig as config from pg_proc
      where proname in ('svc_jobs_enqueue', 'svc_jobs_ack_reserve')
        and pronamespace = 'public'::regnamespace order by proname`.execute(t.db);
    expect(rows).toEqual([
      { name: "svc_jobs_ack_reserve", config: ["plan_cache_mode=force_generic_plan"] },
      { name: "svc_jobs_enqueue", config: ["plan_cache_mode=force_generic_plan"] },
    ]);
  });
});
