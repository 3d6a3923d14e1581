import { InMemoryJobQueue, ManualClock, WorkerRunner } from "@svc-jobs/core";
import {
  KyselyInboxStore,
  KyselyOutboxStore,
  makeOutboxTick,
  makeWebhookHandler,
  migrateWebhookTables,
  OUTBOX_TABLE,
} from "@svc-jobs/webhooks";
import { expect } from "vitest";
import { createUsersTable, type TestDatabase } from "./databases.js";
import { startReceiver } from "./receiver.js";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/** Waits (in real time, with a generous cap) until `check` holds. Not a speed assertion. */
async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Business write + outbox in one transaction, the tick, a WorkerRunner on the memory
 * queue and a real receiver that answers 500 once and hangs once: every committed
 * event arrives exactly once, a rolled-back one never.
 */
export async function runEndToEnd(create: () => Promise<TestDatabase>): Promise<void> {
  const t = await create();
  const receiver = await startReceiver(SECRET);
  const clock = new ManualClock();
  const queue = new InMemoryJobQueue({ clock });
  const handler = makeWebhookHandler({
    outbox: new KyselyOutboxStore(t.db),
    inbox: new KyselyInboxStore(t.db),
    getWebhookUrlForTopic: () => receiver.url,
    getSecretForTopic: () => SECRET,
    timeoutSeconds: 0.3,
    allowPrivateNetworks: true, // the receiver runs on 127.0.0.1
  });
  const runner = new WorkerRunner(queue, handler, { pollIntervalSeconds: 0.02, timeoutSeconds: 5 });
  try {
    await migrateWebhookTables(t.db);
    await createUsersTable(t.db);
    const outbox = new KyselyOutboxStore(t.db);

    const createUser = (id: number, rollBack = false) =>
      t.db.transaction().execute(async (trx) => {
        await trx
          .insertInto("users")
          .values({ id, email: `u${id}@example.com` })
          .execute();
        await outbox.enqueue("user.created", { user_id: id, email: `u${id}@example.com` }, { trx });
        if (rollBack) throw new Error("rolled back on purpose");
      });
    await createUser(1);
    await createUser(2);
    await createUser(3);
    await expect(createUser(4, true)).rejects.toThrow("rolled back on purpose");

    const tick = makeOutboxTick({ outbox, queue, topics: ["user.created"] });
    expect(await tick()).toBe(3);
    expect(await tick()).toBe(0);
    const [first, , last] = await t.db
      .selectFrom(OUTBOX_TABLE)
      .select("id")
      .orderBy("id")
      .execute();
    // A duplicate job for event 1 (say a second relay or a replay), without dedupe.
    await queue.enqueue("outbox.user.created", {
      outbox_id: String(first?.id),
      topic: "user.created",
      payload: { user_id: 1, email: "u1@example.com" },
    });

    receiver.failNext(1, 500); // event 1, attempt 1
    receiver.hangNext(1); // event 2, attempt 1: a timeout
    const done = runner.start();
    await until("the first round was tried", async () => {
      const s = await queue.stats();
      return receiver.requests.length === 4 && s.ready === 0 && s.processing === 0;
    });
    expect((await queue.stats()).delayed).toBe(2);
    clock.advance(60); // the first retry is due after backoffSeconds * 1
    await until("every event is processed", async () => {
      const s = await queue.stats();
      return (await outbox.stats()).processed === 3 && s.ready + s.delayed + s.processing === 0;
    });

    // A duplicate job after delivery sends nothing either.
    const third = await outbox.get(String(last?.id));
    await queue.enqueue("outbox.user.created", {
      outbox_id: third!.id,
      topic: third!.topic,
      payload: third!.payload,
    });
    await until("the late duplicate is done", async () => {
      const s = await queue.stats();
      return s.ready + s.processing === 0;
    });
    await runner.stop();
    await done;

    const accepted = receiver.accepted();
    const users = accepted.map((r) => (JSON.parse(r.body) as { user_id: number }).user_id);
    expect(users.sort()).toEqual([1, 2, 3]);
    expect(accepted.every((r) => r.verified !== null && r.referenceVerified)).toBe(true);
    const byUser = (id: number) =>
      receiver.requests.filter((r) => (JSON.parse(r.body) as { user_id: number }).user_id === id);
    expect(byUser(1).map((r) => r.outcome)).toEqual([500, 204]);
    expect(byUser(2).map((r) => r.outcome)).toEqual(["hung", 204]);
    expect(byUser(2).map((r) => r.headers["x-attempt"])).toEqual(["1", "2"]);
    expect(byUser(3).map((r) => r.outcome)).toEqual([204]);
    expect(byUser(4)).toEqual([]);
    expect(receiver.requests).toHaveLength(5);
    expect(await outbox.stats()).toEqual({ pending: 0, dispatched: 0, processed: 3, failed: 0 });
    expect((await queue.stats()).dlq).toBe(0);
    const rows = await t.db.selectFrom("users").select("id").orderBy("id").execute();
    expect(rows.map((r) => Number(r.id))).toEqual([1, 2, 3]);
  } finally {
    await runner.stop({ graceSeconds: 0 });
    await handler.close();
    await receiver.close();
    await queue.close();
    await t.destroy();
  }
}
