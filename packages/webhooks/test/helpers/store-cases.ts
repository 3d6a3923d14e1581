import { JobValidationError, ManualClock } from "@svc-jobs/core";
import type { InboxStore, OutboxMessage, OutboxStore } from "@svc-jobs/webhooks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

/** A fresh pair of stores on a fresh database, driven by `clock`. */
export interface StoreFixture {
  outbox: OutboxStore;
  inbox: InboxStore;
  destroy(): Promise<void>;
}

/**
 * The behaviour every OutboxStore and InboxStore must have, run against the memory,
 * SQLite and PostgreSQL implementations alike.
 */
export function describeStores(
  name: string,
  make: (clock: ManualClock) => Promise<StoreFixture>,
): void {
  describe(`${name}: OutboxStore`, () => {
    let clock: ManualClock;
    let f: StoreFixture;
    beforeEach(async () => {
      clock = new ManualClock(1_700_000_000_000);
      f = await make(clock);
    });
    afterEach(async () => {
      await f.destroy();
    });

    it("enqueue stores a pending message and keeps its payload intact", async () => {
      const payload = {
        user_id: 7,
        name: "Zoë 😀",
        tags: ["a", "b"],
        nested: { ok: true, n: null },
      };
      const m = await f.outbox.enqueue("user.created", payload);
      expect(m).toMatchObject({ topic: "user.created", payload, status: "pending", attempts: 0 });
      expect(m.lastError).toBeNull();
      expect(m.createdAt.getTime()).toBe(clock.now());
      expect(m.id).toMatch(/^\d+$/);
      const again = await f.outbox.get(m.id);
      expect(again).toEqual(m);
      const second = await f.outbox.enqueue("user.created", { user_id: 8 });
      expect(Number(second.id)).toBeGreaterThan(Number(m.id));
    });

    it("rejects a bad topic or payload with a clear error and stores nothing", async () => {
      const bad: [unknown, unknown, string][] = [
        ["", {}, "topic"],
        ["has space", {}, "topic"],
        [42, {}, "topic"],
        ["t", [], "payload"],
        ["t", { when: new Date() }, "payload.when"],
        ["t", { n: Number.NaN }, "payload.n"],
        ["t", { u: undefined }, "payload.u"],
      ];
      for (const [topic, payload, field] of bad) {
        const error = await f.outbox.enqueue(topic as string, payload as never).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error, `${String(topic)} / ${field}`).toBeInstanceOf(JobValidationError);
        expect((error as JobValidationError).field).toBe(field);
      }
      expect(await f.outbox.stats()).toEqual({
        pending: 0,
        dispatched: 0,
        processed: 0,
        failed: 0,
      });
    });

    it("dispatchPending hands out the oldest pending messages and marks them dispatched", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await f.outbox.enqueue("a.b", { i })).id);
      const sent: OutboxMessage[][] = [];
      clock.advance(3);
      const first = await f.outbox.dispatchPending({ limit: 3 }, async (m) => {
        sent.push(m);
      });
      expect(first.map((m) => m.id)).toEqual(ids.slice(0, 3));
      expect(sent[0]?.map((m) => m.payload)).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
      const row = await f.outbox.get(ids[0]!);
      expect(row?.status).toBe("dispatched");
      expect(row?.dispatchedAt?.getTime()).toBe(clock.now());
      const rest = await f.outbox.dispatchPending({ limit: 3 }, async (m) => {
        sent.push(m);
      });
      expect(rest.map((m) => m.id)).toEqual(ids.slice(3));
      const none = await f.outbox.dispatchPending({}, async (m) => {
        sent.push(m);
      });
      expect(none).toEqual([]);
      expect(sent).toHaveLength(2);
      expect(await f.outbox.stats()).toMatchObject({ pending: 0, dispatched: 5 });
    });

    it("enqueue with { dispatched: true } writes a dispatched message the relay never takes", async () => {
      const pending = await f.outbox.enqueue("order.created", { n: 1 });
      clock.advance(5);
      const done = await f.outbox.enqueue("order.created", { n: 2 }, { dispatched: true });
      expect(done).toMatchObject({ status: "dispatched", attempts: 0, payload: { n: 2 } });
      expect(done.dispatchedAt?.getTime()).toBe(clock.now());
      expect(await f.outbox.get(done.id)).toEqual(done);
      const moved = await f.outbox.dispatchPending({}, async () => {});
      expect(moved.map((m) => m.id)).toEqual([pending.id]);
      // Its delivery handler settles it as any dispatched message.
      await f.outbox.markProcessed(done.id);
      expect((await f.outbox.get(done.id))?.status).toBe("processed");
      for (const dispatched of ["yes", 1, null]) {
        const error = await f.outbox
          .enqueue("order.created", { n: 3 }, { dispatched: dispatched as never })
          .then(
            () => null,
            (e: unknown) => e,
          );
        expect(error).toBeInstanceOf(JobValidationError);
        expect((error as JobValidationError).message).toMatch(/dispatched must be true or false/);
      }
      expect(await f.outbox.stats()).toEqual({
        pending: 0,
        dispatched: 1,
        processed: 1,
        failed: 0,
      });
    });

    it("dispatchPending filters by topic", async () => {
      await f.outbox.enqueue("user.created", { n: 1 });
      const order = await f.outbox.enqueue("order.completed", { n: 2 });
      await f.outbox.enqueue("user.deleted", { n: 3 });
      const got = await f.outbox.dispatchPending({ topics: ["order.completed"] }, async () => {});
      expect(got.map((m) => m.id)).toEqual([order.id]);
      expect(await f.outbox.dispatchPending({ topics: [] }, async () => {})).toEqual([]);
      expect(await f.outbox.stats()).toMatchObject({ pending: 2, dispatched: 1 });
    });

    it("a send that throws leaves the messages pending for the next call", async () => {
      const m = await f.outbox.enqueue("t", { n: 1 });
      const boom = new Error("queue down");
      await expect(
        f.outbox.dispatchPending({}, async () => {
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect((await f.outbox.get(m.id))?.status).toBe("pending");
      const retried = await f.outbox.dispatchPending({}, async () => {});
      expect(retried.map((x) => x.id)).toEqual([m.id]);
    });

    it("concurrent dispatchPending calls never hand out one message twice", async () => {
      for (let i = 0; i < 12; i++) await f.outbox.enqueue("t", { i });
      const seen: string[] = [];
      await Promise.all(
        Array.from({ length: 6 }, () =>
          f.outbox.dispatchPending({ limit: 3 }, async (messages) => {
            seen.push(...messages.map((m) => m.id));
          }),
        ),
      );
      expect(seen).toHaveLength(12);
      expect(new Set(seen).size).toBe(12);
    });

    it("records attempts and moves to processed or failed", async () => {
      const a = await f.outbox.enqueue("t", { n: 1 });
      const b = await f.outbox.enqueue("t", { n: 2 });
      await f.outbox.recordAttempt(a.id, "HTTP 500");
      await f.outbox.recordAttempt(a.id, "timed out");
      expect(await f.outbox.get(a.id)).toMatchObject({
        status: "pending",
        attempts: 2,
        lastError: "timed out",
      });
      clock.advance(10);
      await f.outbox.markProcessed(a.id);
      const done = await f.outbox.get(a.id);
      expect(done).toMatchObject({ status: "processed", attempts: 2 });
      expect(done?.completedAt?.getTime()).toBe(clock.now());
      await f.outbox.markFailed(a.id, "late failure");
      expect((await f.outbox.get(a.id))?.status).toBe("processed");

      await f.outbox.markFailed(b.id, "gave up");
      expect(await f.outbox.get(b.id)).toMatchObject({ status: "failed", lastError: "gave up" });
      // A dead job requeued by hand that then succeeds wins.
      await f.outbox.markProcessed(b.id);
      expect((await f.outbox.get(b.id))?.status).toBe("processed");
      expect(await f.outbox.stats()).toEqual({
        pending: 0,
        dispatched: 0,
        processed: 2,
        failed: 0,
      });
    });

    it("get returns null for an unknown id and rejects a malformed one", async () => {
      expect(await f.outbox.get("999999")).toBeNull();
      await expect(f.outbox.get("abc")).rejects.toBeInstanceOf(JobValidationError);
    });
  });

  describe(`${name}: InboxStore`, () => {
    let clock: ManualClock;
    let f: StoreFixture;
    beforeEach(async () => {
      clock = new ManualClock(1_700_000_000_000);
      f = await make(clock);
    });
    afterEach(async () => {
      await f.destroy();
    });

    it("markIfNew is true once per key until the mark expires", async () => {
      expect(await f.inbox.markIfNew("email:1", 60)).toBe(true);
      expect(await f.inbox.markIfNew("email:1", 60)).toBe(false);
      expect(await f.inbox.markIfNew("email:2", 60)).toBe(true);
      expect(await f.inbox.isMarked("email:1")).toBe(true);
      clock.advance(59);
      expect(await f.inbox.markIfNew("email:1", 60)).toBe(false);
      clock.advance(1);
      expect(await f.inbox.isMarked("email:1")).toBe(false);
      expect(await f.inbox.markIfNew("email:1", 60)).toBe(true);
      expect(await f.inbox.isMarked("email:1")).toBe(true);
    });

    it("of many concurrent markIfNew calls exactly one wins", async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, () => f.inbox.markIfNew("race", 60)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it("mark, isMarked, unmark and purgeExpired follow the guide's pattern", async () => {
      expect(await f.inbox.isMarked("job:1")).toBe(false);
      await f.inbox.mark("job:1", 10);
      await f.inbox.mark("job:2");
      await f.inbox.mark("job:3", 100);
      expect(await f.inbox.isMarked("job:1")).toBe(true);
      await f.inbox.mark("job:1", 30); // extends
      clock.advance(20);
      expect(await f.inbox.isMarked("job:1")).toBe(true);
      clock.advance(100);
      expect(await f.inbox.isMarked("job:3")).toBe(false);
      expect(await f.inbox.isMarked("job:2")).toBe(true); // default 24 h
      expect(await f.inbox.purgeExpired()).toBe(2);
      expect(await f.inbox.purgeExpired()).toBe(0);
      await f.inbox.unmark("job:2");
      expect(await f.inbox.isMarked("job:2")).toBe(false);
    });

    it("rejects a bad key or ttl", async () => {
      await expect(f.inbox.markIfNew("", 10)).rejects.toBeInstanceOf(JobValidationError);
      await expect(f.inbox.markIfNew("k", 0)).rejects.toBeInstanceOf(JobValidationError);
      await expect(f.inbox.mark("k", -1)).rejects.toBeInstanceOf(JobValidationError);
      expect(await f.inbox.isMarked("k")).toBe(false);
    });
  });
}
