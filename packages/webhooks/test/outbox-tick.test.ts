import { InMemoryJobQueue, JobValidationError, ManualClock } from "@svc-jobs/core";
import {
  InMemoryOutboxStore,
  KyselyOutboxStore,
  makeOutboxTick,
  markDeadLetters,
  migrateWebhookTables,
  type OutboxStore,
} from "@svc-jobs/webhooks";
import { afterEach, describe, expect, it } from "vitest";
import { createSqliteDatabase, type TestDatabase } from "./helpers/databases.js";

/** A queue whose next enqueueMany writes the jobs and then loses the answer, as in a crash. */
function losingQueue(): InMemoryJobQueue & { loseNext: boolean } {
  const queue = Object.assign(new InMemoryJobQueue(), { loseNext: false });
  const enqueueMany = queue.enqueueMany.bind(queue);
  // Wraps the instance's method rather than overriding it in a subclass, so the test
  // does not restate enqueueMany's (generic) signature.
  const losing = async (items: Parameters<typeof enqueueMany>[0]) => {
    const jobs = await enqueueMany(items);
    if (queue.loseNext) {
      queue.loseNext = false;
      throw new Error("connection reset after the jobs were written");
    }
    return jobs;
  };
  queue.enqueueMany = losing as unknown as typeof queue.enqueueMany;
  return queue;
}

const databases: TestDatabase[] = [];
afterEach(async () => {
  for (const d of databases.splice(0)) await d.destroy();
});

const stores: [string, () => Promise<OutboxStore>][] = [
  ["memory", async () => new InMemoryOutboxStore()],
  [
    "sqlite",
    async () => {
      const t = await createSqliteDatabase();
      databases.push(t);
      await migrateWebhookTables(t.db);
      return new KyselyOutboxStore(t.db);
    },
  ],
];

describe.each(stores)("makeOutboxTick (%s outbox)", (_name, makeOutbox) => {
  it("moves pending messages into the queue as {prefix}.{topic} jobs and marks them dispatched", async () => {
    const outbox = await makeOutbox();
    const queue = new InMemoryJobQueue();
    const a = await outbox.enqueue("user.created", { user_id: 1 });
    const b = await outbox.enqueue("order.completed", { order_id: 2 });
    const tick = makeOutboxTick({ outbox, queue });
    expect(await tick()).toBe(2);
    expect(await tick()).toBe(0);
    const first = await queue.reserveNext();
    const second = await queue.reserveNext();
    expect(first).toMatchObject({
      name: "outbox.user.created",
      payload: { outbox_id: a.id, topic: "user.created", payload: { user_id: 1 } },
    });
    expect(second?.name).toBe("outbox.order.completed");
    expect((await outbox.get(b.id))?.status).toBe("dispatched");
  });

  it("honours topics, jobNamePrefix, batchSize and jobOptions", async () => {
    const outbox = await makeOutbox();
    const queue = new InMemoryJobQueue();
    for (let i = 0; i < 5; i++) await outbox.enqueue("user.created", { i });
    await outbox.enqueue("other.topic", { skip: true });
    const tick = makeOutboxTick({
      outbox,
      queue,
      topics: ["user.created"],
      jobNamePrefix: "webhook",
      batchSize: 2,
      jobOptions: { maxAttempts: 8, backoffSeconds: 5 },
    });
    expect([await tick(), await tick(), await tick(), await tick()]).toEqual([2, 2, 1, 0]);
    const job = await queue.reserveNext();
    expect(job).toMatchObject({ name: "webhook.user.created", maxAttempts: 8, backoffSeconds: 5 });
    expect((await queue.stats()).ready).toBe(4);
    expect((await outbox.stats()).pending).toBe(1);
  });

  it("a crash after the enqueue and before the mark creates no duplicate job", async () => {
    const outbox = await makeOutbox();
    const queue = losingQueue();
    for (let i = 0; i < 3; i++) await outbox.enqueue("t", { i });
    const tick = makeOutboxTick({ outbox, queue });
    queue.loseNext = true;
    await expect(tick()).rejects.toThrow(/connection reset/);
    expect((await outbox.stats()).pending).toBe(3);
    expect((await queue.stats()).ready).toBe(3);
    expect(await tick()).toBe(3);
    expect((await queue.stats()).ready).toBe(3); // the dedupe returned the existing jobs
    expect((await outbox.stats()).dispatched).toBe(3);
  });

  it("rejects bad options before touching anything", async () => {
    const outbox = await makeOutbox();
    const queue = new InMemoryJobQueue();
    expect(() => makeOutboxTick({ outbox, queue, batchSize: 0 })).toThrow(JobValidationError);
    expect(() => makeOutboxTick({ outbox, queue, jobNamePrefix: "" })).toThrow(JobValidationError);
    expect(() => makeOutboxTick({ outbox, queue, topics: [""] })).toThrow(JobValidationError);
    expect(() => makeOutboxTick({ outbox, queue, jobOptions: { maxAttempts: 0 } })).toThrow(
      JobValidationError,
    );
    expect(() => makeOutboxTick({ outbox, queue: {} as never })).toThrow(JobValidationError);
  });
});

describe("markDeadLetters", () => {
  it("marks failed the rows whose job died without the handler finishing", async () => {
    const clock = new ManualClock();
    const queue = new InMemoryJobQueue({ clock, visibilityTimeoutSeconds: 30 });
    const outbox = new InMemoryOutboxStore({ clock });
    const crashed = await outbox.enqueue("t", { n: 1 });
    const fine = await outbox.enqueue("t", { n: 2 });
    await makeOutboxTick({ outbox, queue, jobOptions: { maxAttempts: 1 } })();
    await queue.enqueue("unrelated", { outbox_id: fine.id }, { maxAttempts: 1 });
    // Both outbox jobs are reserved; the first worker "crashes", the second delivers.
    const a = await queue.reserveNext();
    const b = await queue.reserveNext();
    const other = await queue.reserveNext();
    expect(a?.payload.outbox_id).toBe(crashed.id);
    await outbox.markProcessed(String(b?.payload.outbox_id));
    await queue.ack(b!);
    await queue.fail(other!, "unrelated failure");
    clock.advance(31); // a's visibility expires on its last attempt: DLQ
    expect((await queue.stats()).dlq).toBe(2);
    expect(await markDeadLetters({ outbox, queue })).toBe(1);
    expect(await outbox.get(crashed.id)).toMatchObject({ status: "failed" });
    expect((await outbox.get(crashed.id))?.lastError).toMatch(/visibility timeout/);
    expect((await outbox.get(fine.id))?.status).toBe("processed");
  });
});
