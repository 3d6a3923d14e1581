import { expect, it } from "vitest";
import { JOB_EVENT_TYPES, type JobEvent } from "../control.js";
import { ConfigError } from "../errors.js";
import { type SuiteContext, VT } from "./context.js";
import { listen, sleep, within } from "./control-helpers.js";

// docs/contract.md, "Events": the queue's events as an async iterable; `after` resumes
// behind an event id with no gap; events: false records none.

/** [type, jobId, the type's fields] of each event, to compare whole sequences. */
function summary(events: JobEvent[]): unknown[] {
  return events.map((e) => {
    const { id: _id, at: _at, type, jobId, name: _name, ...fields } = e;
    // Fields a backend left undefined are not part of the event.
    for (const key of Object.keys(fields) as (keyof typeof fields)[]) {
      if (fields[key] === undefined) delete fields[key];
    }
    return [type, jobId, fields];
  });
}

export function eventCases(ctx: SuiteContext): void {
  it("reports every type with its fields, the job's name and the queue clock's time", async () => {
    const { queue, clock } = await ctx.make();
    const listener = await listen(queue);
    const t0 = clock.now();

    // completed, with progress on the way
    const a = await queue.enqueue("alpha", { n: 1 }, { priority: 3 });
    const ra = (await queue.reserveNext())!;
    await queue.progress(ra, { pct: 50 });
    await queue.ack(ra, { result: { rows: 2 } });
    // delayed, retried, then dead
    const b = await queue.enqueue(
      "beta",
      {},
      { delaySeconds: 5, maxAttempts: 2, backoffSeconds: 10 },
    );
    clock.advance(5);
    await queue.fail((await queue.reserveNext())!, new Error("first failure"));
    clock.advance(10);
    await queue.fail((await queue.reserveNext())!, new Error("second failure"));
    // expired, then cancelled while processing
    const c = await queue.enqueue("gamma", {});
    await queue.reserveNext();
    clock.advance(VT + 1);
    const rc = (await queue.reserveNext())!;
    expect(rc.attempts).toBe(2);
    await queue.cancel(c.id, { reason: "no longer needed" });

    const events = await listener.take(14);
    expect(summary(events)).toEqual([
      ["enqueued", a.id, { delaySeconds: 0, priority: 3 }],
      ["reserved", a.id, { attempt: 1 }],
      ["progress", a.id, { progress: { pct: 50 } }],
      ["completed", a.id, { attempt: 1, result: { rows: 2 } }],
      ["enqueued", b.id, { delaySeconds: 5, priority: 0 }],
      ["reserved", b.id, { attempt: 1 }],
      ["retrying", b.id, { attempt: 1, error: "first failure", delaySeconds: 10 }],
      ["reserved", b.id, { attempt: 2 }],
      ["dead", b.id, { attempt: 2, error: "second failure" }],
      ["enqueued", c.id, { delaySeconds: 0, priority: 0 }],
      ["reserved", c.id, { attempt: 1 }],
      ["expired", c.id, expect.objectContaining({ attempt: 1 })],
      ["reserved", c.id, { attempt: 2 }],
      ["cancelled", c.id, { reason: "no longer needed" }],
    ]);
    expect(events.map((e) => e.name)).toEqual([
      ...Array(4).fill("alpha"),
      ...Array(5).fill("beta"),
      ...Array(5).fill("gamma"),
    ]);
    for (const e of events) {
      expect(JOB_EVENT_TYPES).toContain(e.type);
      expect(typeof e.id).toBe("string");
      expect(e.at).toBeInstanceOf(Date);
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(events[0]!.at.getTime()).toBe(t0);
    expect(events[4]!.at.getTime()).toBe(t0);
    expect(events[6]!.at.getTime()).toBe(t0 + 5000);
    expect(events[8]!.at.getTime()).toBe(t0 + 15_000);
    expect(events[13]!.at.getTime()).toBe(t0 + (15 + VT + 1) * 1000);
    await listener.stop();
  });

  it("a cancel without a reason, and an expiry on the last attempt", async () => {
    const { queue, clock } = await ctx.make();
    const listener = await listen(queue);
    const a = await queue.enqueue("a", {});
    await queue.cancel(a.id);
    const b = await queue.enqueue("b", {}, { maxAttempts: 1 });
    await queue.reserveNext();
    clock.advance(VT + 1);
    expect(await queue.stats()).toMatchObject({ dlq: 1 });
    const marker = await queue.enqueue("marker", {});
    const events: JobEvent[] = [];
    while (events.at(-1)?.jobId !== marker.id) events.push(...(await listener.take(1)));
    expect(events[1]).toMatchObject({ type: "cancelled", jobId: a.id });
    expect(events[1]!.reason ?? null).toBeNull();
    const ofB = events.filter((e) => e.jobId === b.id).map((e) => e.type);
    expect(ofB.slice(0, 3)).toEqual(["enqueued", "reserved", "expired"]);
    expect(ofB.filter((t) => t === "retrying" || t === "reserved")).toEqual(["reserved"]);
    // The job is dead: a listener learns it with a `dead` event, as after a failed last attempt.
    expect(events.find((e) => e.jobId === b.id && e.type === "dead")).toMatchObject({
      attempt: 1,
      error: expect.any(String),
    });
  });

  it("two iterators get the same events with the same ids", async () => {
    const { queue } = await ctx.make();
    const first = await listen(queue);
    const second = await listen(queue);
    for (let i = 0; i < 5; i++) await queue.enqueue("e", { i });
    const [x, y] = await Promise.all([first.take(5), second.take(5)]);
    expect(x.map((e) => e.id)).toEqual(y.map((e) => e.id));
    expect(summary(x)).toEqual(summary(y));
    expect(x.every((e) => e.type === "enqueued")).toBe(true);
  });

  it("an iterator without after starts with the next event", async () => {
    const { queue } = await ctx.make();
    await queue.enqueue("before", {});
    const listener = await listen(queue);
    const after = await queue.enqueue("after", {});
    const [event] = await listener.take(1);
    expect(event).toMatchObject({ type: "enqueued", jobId: after.id, name: "after" });
  });

  it("after: resumes behind an event id with no gap, also across a second queue object", async () => {
    const { queue } = await ctx.make();
    const listener = await listen(queue);
    for (let i = 0; i < 4; i++) await queue.enqueue("e", { i });
    const seen = await listener.take(4);
    await listener.stop();
    // Events happen while nobody listens...
    for (let i = 4; i < 7; i++) await queue.enqueue("e", { i });
    await queue.reserveNext();
    // ...and a listener that resumes behind the second one gets every later event.
    const resumed = await listen(queue, { after: seen[1]!.id });
    const got = await resumed.take(6);
    expect(got.map((e) => e.id).slice(0, 2)).toEqual([seen[2]!.id, seen[3]!.id]);
    expect(got.slice(0, 2).map((e) => e.jobId)).toEqual(seen.slice(2).map((e) => e.jobId));
    expect(got.map((e) => e.type)).toEqual([
      "enqueued",
      "enqueued",
      "enqueued",
      "enqueued",
      "enqueued",
      "reserved",
    ]);
    const ids = got.map((e) => e.id);
    expect(new Set([...seen.map((e) => e.id), ...ids]).size).toBe(8);
    const twin = await ctx.reopen(queue);
    if (twin === null) return; // in-memory: no second object on the same storage
    const fromTwin = await listen(twin, { after: seen[3]!.id });
    expect((await fromTwin.take(4)).map((e) => e.id)).toEqual(ids.slice(2));
    const live = await listen(twin);
    const job = await queue.enqueue("from_first_object", {});
    expect((await live.take(1))[0]).toMatchObject({ type: "enqueued", jobId: job.id });
  });

  it("the iterator ends when its signal aborts and when the queue closes", async () => {
    const { queue } = await ctx.make();
    const controller = new AbortController();
    const iterated = (async () => {
      const got: JobEvent[] = [];
      for await (const event of queue.events({ signal: controller.signal })) got.push(event);
      return got;
    })();
    await sleep(100);
    await queue.enqueue("one", {});
    await sleep(100);
    controller.abort();
    const got = await within(iterated, 5000, "the for-await loop to end on abort");
    expect(got.map((e) => e.type)).toEqual(["enqueued"]);

    const { queue: other } = await ctx.make();
    const listener = await listen(other);
    await other.close();
    expect(await listener.ended()).toBe(true);
  });

  it("events: false records none, and events() throws a ConfigError", async () => {
    const { queue } = await ctx.make({ options: { events: false } });
    expect(() => queue.events()).toThrow(ConfigError);
    // Everything else works without events.
    await queue.enqueue("a", {});
    await queue.ack((await queue.reserveNext())!);
    expect((await queue.stats()).processing).toBe(0);
  });

  it("refuses unknown events options", async () => {
    const { queue } = await ctx.make();
    let error: unknown;
    try {
      const iterator = queue.events({ since: "1" } as never)[Symbol.asyncIterator]();
      await iterator.next();
    } catch (e) {
      error = e;
    }
    expect((error as { field?: string })?.field).toBe("opts.since");
  });
}
