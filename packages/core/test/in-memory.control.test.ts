import {
  ConfigError,
  InMemoryJobQueue,
  type JobEvent,
  JobValidationError,
  ManualClock,
  QueueClosedError,
} from "@svc-jobs/core";
import { afterEach, describe, expect, it } from "vitest";

// What the conformance suite cannot check on every backend: the in-memory queue's exact
// event buffer, its limits and its cost with many jobs and priorities
// (docs/contract.md, "Seeing and controlling jobs").

const open: InMemoryJobQueue[] = [];
function make(options: ConstructorParameters<typeof InMemoryJobQueue>[0] = {}) {
  const clock = new ManualClock(Date.UTC(2030, 0, 1));
  const queue = new InMemoryJobQueue({ clock, visibilityTimeoutSeconds: 30, ...options });
  open.push(queue);
  return { queue, clock };
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((q) => q.close()));
});

async function take(iterator: AsyncIterator<JobEvent>, n: number): Promise<JobEvent[]> {
  const out: JobEvent[] = [];
  while (out.length < n) {
    const r = await iterator.next();
    if (r.done) throw new Error(`ended after ${out.length} events`);
    out.push(r.value);
  }
  return out;
}

describe("InMemoryJobQueue events", () => {
  it("keeps the newest events.maxLen events: after an older id delivers what is still held", async () => {
    const { queue } = make({ events: { maxLen: 3 } });
    const live = queue.events()[Symbol.asyncIterator]();
    const all: JobEvent[] = [];
    for (let i = 0; i < 5; i++) {
      await queue.enqueue("e", { i });
      all.push(...(await take(live, 1)));
    }
    expect(all.map((e) => e.id)).toEqual(["1", "2", "3", "4", "5"]);
    const resumed = queue.events({ after: all[0]!.id })[Symbol.asyncIterator]();
    const held = await take(resumed, 3);
    expect(held.map((e) => e.id)).toEqual(["3", "4", "5"]);
    await queue.enqueue("e", { i: 5 });
    expect((await take(resumed, 1))[0]?.id).toBe("6");
    // A listener that falls behind by more than maxLen misses the trimmed events.
    const slow = queue.events()[Symbol.asyncIterator]();
    for (let i = 0; i < 5; i++) await queue.enqueue("e", { i });
    expect((await take(slow, 3)).map((e) => e.id)).toEqual(["9", "10", "11"]);
  });

  it("starts at the events() call, not at the first next()", async () => {
    const { queue } = make();
    await queue.enqueue("before", {});
    const iterable = queue.events();
    const job = await queue.enqueue("between", {});
    const [event] = await take(iterable[Symbol.asyncIterator](), 1);
    expect(event).toMatchObject({ type: "enqueued", jobId: job.id });
  });

  it("hands each listener its own copy of an event", async () => {
    const { queue } = make();
    const a = queue.events()[Symbol.asyncIterator]();
    const b = queue.events()[Symbol.asyncIterator]();
    await queue.enqueue("x", {});
    const reserved = (await queue.reserveNext())!;
    await queue.progress(reserved, { pct: 1 });
    const [, , fromA] = await take(a, 3);
    (fromA!.progress as { pct: number }).pct = 99;
    fromA!.at.setTime(0);
    const [, , fromB] = await take(b, 3);
    expect(fromB!.progress).toEqual({ pct: 1 });
    expect(fromB!.at.getTime()).not.toBe(0);
  });

  it("refuses a malformed after, throws ConfigError without events, QueueClosedError when closed", async () => {
    const { queue } = make();
    expect(() => queue.events({ after: "abc" })).toThrow(JobValidationError);
    expect(() => queue.events({ after: 5 as never })).toThrow(JobValidationError);
    const { queue: silent } = make({ events: false });
    expect(() => silent.events()).toThrow(ConfigError);
    await queue.close();
    expect(() => queue.events()).toThrow(QueueClosedError);
  });

  it("refuses a bad events option at construction", () => {
    expect(() => make({ events: { maxLen: 0 } })).toThrow(JobValidationError);
    expect(() => make({ events: { max: 5 } as never })).toThrow(/maxLen/);
    expect(() => make({ keepCompleted: { count: 0 } })).toThrow(JobValidationError);
    expect(() => make({ keepCancelled: "yes" as never })).toThrow(JobValidationError);
  });
});

describe("InMemoryJobQueue cancel", () => {
  it("forgets a cancelled reservation after the visibility timeout (checkReservations then says lost)", async () => {
    const { queue, clock } = make();
    const job = await queue.enqueue("a", {});
    const held = (await queue.reserveNext())!;
    clock.advance(10);
    await queue.cancel(job.id);
    clock.advance(29);
    expect(await queue.checkReservations([held])).toEqual([
      { id: held.id, status: "cancelled", reason: null },
    ]);
    clock.advance(2);
    expect(await queue.checkReservations([held])).toEqual([{ id: held.id, status: "lost" }]);
  });

  it("ack accepts { result: undefined } as no result", async () => {
    const { queue } = make({ keepCompleted: true });
    const job = await queue.enqueue("a", {});
    await queue.ack((await queue.reserveNext())!, { result: undefined });
    expect((await queue.getJob(job.id))?.result).toBeNull();
  });
});

describe("InMemoryJobQueue pause", () => {
  it("wakes every blocked reserver on resume, each with its own job", async () => {
    const { queue } = make();
    await queue.pause();
    for (let i = 0; i < 3; i++) await queue.enqueue("j", { i });
    const waits = [0, 1, 2, 3].map(() => queue.reserveNext({ blockSeconds: 5 }));
    await new Promise((r) => setTimeout(r, 50));
    await queue.resume();
    // Woken by resume, well before their 5 s wait ends.
    const got = await Promise.race([
      Promise.all(waits.slice(0, 3)),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no wake")), 2000)),
    ]);
    expect(got.map((j) => j?.payload.i).sort()).toEqual([0, 1, 2]);
    await queue.close();
    expect(await waits[3]).toBeNull();
  });
});

describe("InMemoryJobQueue with many jobs and priorities", () => {
  it("reserves 30,000 jobs of 1,000 priorities in priority then FIFO order", async () => {
    const { queue } = make();
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    const items = Array.from({ length: 30_000 }, (_, i) => ({
      name: "j",
      payload: { i },
      opts: { priority: (rand() % 1000) - 500 },
    }));
    await queue.enqueueMany(items);
    let last: { priority: number; i: number } | null = null;
    for (let n = 0; n < items.length; n++) {
      const job = (await queue.reserveNext())!;
      const i = job.payload.i as number;
      const priority = items[i]!.opts.priority;
      if (last) {
        expect(priority <= last.priority).toBe(true);
        if (priority === last.priority) expect(i > last.i).toBe(true);
      }
      last = { priority, i };
      if (n % 3 === 0) await queue.ack(job);
    }
    expect(await queue.reserveNext()).toBeNull();
  });

  it("pages 5,000 ready jobs in 5 pages of 1,000 with the same order reserve uses", async () => {
    const { queue } = make();
    await queue.enqueueMany(
      Array.from({ length: 5000 }, (_, i) => ({
        name: "p",
        payload: { i },
        opts: { priority: i % 7 },
      })),
    );
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await queue.listJobs({ state: "ready", limit: 1000, cursor });
      ids.push(...page.jobs.map((j) => j.id));
      cursor = page.cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(5);
    const reserved: string[] = [];
    for (;;) {
      const job = await queue.reserveNext();
      if (!job) break;
      reserved.push(job.id);
    }
    expect(ids).toEqual(reserved);
  });

  it("lists completed jobs newest first after trimming, with a cursor that survives trims", async () => {
    const { queue, clock } = make({ keepCompleted: { count: 5 } });
    for (let i = 0; i < 8; i++) await queue.enqueue("c", { i });
    for (let i = 0; i < 5; i++) {
      await queue.ack((await queue.reserveNext())!);
      clock.advance(1);
    }
    const first = await queue.listJobs({ state: "completed", limit: 2 });
    expect(first.jobs.map((j) => j.payload.i)).toEqual([4, 3]);
    // Three more complete: the three oldest (0, 1, 2) are trimmed.
    for (let i = 0; i < 3; i++) await queue.ack((await queue.reserveNext())!);
    const rest = await queue.listJobs({ state: "completed", limit: 10, cursor: first.cursor });
    expect(rest.jobs.map((j) => j.payload.i)).toEqual([]);
    expect(rest.cursor).toBeNull();
    expect((await queue.stats()).completed).toBe(5);
  });
});

describe("InMemoryJobQueue countByName", () => {
  it("counts a job named __proto__ like any other", async () => {
    const { queue } = make();
    await queue.enqueue("__proto__", {});
    await queue.enqueue("__proto__", {});
    await queue.enqueue("constructor", {});
    const counts = await queue.countByName("ready");
    expect(Object.entries(counts).sort()).toEqual([
      ["__proto__", 2],
      ["constructor", 1],
    ]);
  });
});
