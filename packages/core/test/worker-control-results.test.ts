import {
  InMemoryJobQueue,
  type JobRef,
  type JobSettledEvent,
  JobValidationError,
  type JsonValue,
  processOne,
  WorkerRunner,
} from "@svc-jobs/core";
import { describe, expect, it } from "vitest";

// docs/contract.md, "Seeing and controlling jobs", Retention: a kept completed job has
// the handler's JSON return value as its result; a return value that is not JSON, or
// undefined, is kept as null.

/** Runs one job whose handler returns `value`; the kept job's result. */
async function resultOf(value: () => unknown, via: "runner" | "processOne" = "runner") {
  const queue = new InMemoryJobQueue({ keepCompleted: true });
  const job = await queue.enqueue("a", {});
  const settled: JobSettledEvent[] = [];
  if (via === "runner") {
    await new WorkerRunner(queue, async () => value(), {
      maxJobs: 1,
      pollIntervalSeconds: 0.05,
      onJobSettled: (e) => settled.push(e),
    }).start();
  } else {
    await processOne(queue, async () => value(), { onJobSettled: (e) => settled.push(e) });
  }
  expect(settled.map((e) => e.outcome)).toEqual(["completed"]);
  const info = await queue.getJob(job.id);
  expect(info?.state).toBe("completed");
  expect(info?.finishedAt).toBeInstanceOf(Date);
  return info?.result;
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

describe("the handler's return value is the job's result", () => {
  it("a JSON value is kept as its JSON round trip (WorkerRunner and processOne)", async () => {
    const value = { sent: 3, to: ["a@example.com"], ok: true, nested: { n: null } };
    expect(await resultOf(() => value)).toEqual(value);
    expect(await resultOf(() => value, "processOne")).toEqual(value);
    expect(await resultOf(() => "done")).toBe("done");
    expect(await resultOf(() => 0)).toBe(0);
    expect(await resultOf(() => false)).toBe(false);
    expect(await resultOf(() => [1, "two"])).toEqual([1, "two"]);
    const at = new Date("2026-01-02T03:04:05.000Z");
    expect(await resultOf(() => ({ at, skipped: undefined }))).toEqual({
      at: "2026-01-02T03:04:05.000Z",
    });
    expect(await resultOf(() => new Point(1, 2))).toEqual({ x: 1, y: 2 });
  });

  it("undefined, null and anything JSON cannot carry are kept as null, without a crash", async () => {
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    const values: (() => unknown)[] = [
      () => undefined,
      () => null,
      () => () => 1,
      () => 10n,
      () => ({ big: 10n }),
      () => circular,
      () => new Map([["a", 1]]),
      () => new Set([1]),
      () => Symbol("s"),
      () => Number.POSITIVE_INFINITY,
      () => ({
        toJSON() {
          throw new Error("no");
        },
      }),
    ];
    for (const value of values) expect(await resultOf(value)).toBeNull();
    expect(await resultOf(() => undefined, "processOne")).toBeNull();
  });

  it("parts JSON cannot carry are dropped as JSON.stringify drops functions", async () => {
    expect(
      await resultOf(() => ({
        a: 1,
        f: () => 1,
        m: new Map(),
        u: undefined,
        list: [1, () => 2, new Set()],
      })),
    ).toEqual({ a: 1, list: [1, null, null] });
  });

  it("passes { result } to ack, and the completed event carries it", async () => {
    const queue = new InMemoryJobQueue();
    const acks: [JobRef, unknown][] = [];
    const realAck = queue.ack.bind(queue);
    queue.ack = (job, opts) => {
      acks.push([job, opts]);
      return realAck(job, opts);
    };
    const job = await queue.enqueue("a", {});
    const controller = new AbortController();
    const results: (JsonValue | undefined)[] = [];
    const listening = (async () => {
      for await (const event of queue.events({ signal: controller.signal })) {
        if (event.type === "completed") {
          results.push(event.result);
          controller.abort();
        }
      }
    })();
    await processOne(queue, () => ({ id: 7 }));
    await listening;
    expect(acks).toHaveLength(1);
    expect(acks[0]?.[1]).toEqual({ result: { id: 7 } });
    expect(acks[0]?.[0]).toMatchObject({ id: job.id });
    expect(results).toEqual([{ id: 7 }]);
  });

  it("a result the queue refuses does not keep the job from completing: it is kept as null", async () => {
    const queue = new InMemoryJobQueue({ keepCompleted: true });
    const realAck = queue.ack.bind(queue);
    queue.ack = (job, opts) => {
      if (opts?.result !== null) {
        return Promise.reject(new JobValidationError("opts.result", "result too large"));
      }
      return realAck(job, opts);
    };
    const job = await queue.enqueue("a", {});
    const settled: JobSettledEvent[] = [];
    await new WorkerRunner(queue, () => ({ huge: "x" }), {
      maxJobs: 1,
      pollIntervalSeconds: 0.05,
      onJobSettled: (e) => settled.push(e),
    }).start();
    expect(settled.map((e) => e.outcome)).toEqual(["completed"]);
    expect(await queue.getJob(job.id)).toMatchObject({ state: "completed", result: null });
  });
});
