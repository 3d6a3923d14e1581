import {
  type EnqueueItem,
  InMemoryJobQueue,
  type Job,
  type JobHandler,
  type JobQueue,
  type JobRef,
  type JsonCompatible,
  type JsonObject,
  type JsonPayload,
  type JsonValue,
  processOne,
  WorkerRunner,
} from "@svc-jobs/core";
import { describe, expect, expectTypeOf, it } from "vitest";

// Type tests: `tsc --noEmit` (the package's typecheck script) checks this file, and
// vitest runs the accepted cases for real. The refused cases sit in functions that are
// never called; each `@ts-expect-error` fails the type check if its line compiles.

interface EmailPayload {
  to: string;
  subject: string;
  cc?: string[];
  meta?: { priority: number | null; tags: string[] };
}

type ReportPayload = { reportId: string; pages: number[]; draft: boolean };

interface TreePayload {
  name: string;
  children: TreePayload[];
}

describe("typed payloads", () => {
  it("enqueue takes interface and type-alias payloads and returns Job<P>", async () => {
    const queue = new InMemoryJobQueue();
    const email = await queue.enqueue<EmailPayload>("send_email", {
      to: "a@example.com",
      subject: "hi",
      meta: { priority: null, tags: [] },
    });
    expectTypeOf(email).toEqualTypeOf<Job<EmailPayload>>();
    expectTypeOf(email.payload.to).toEqualTypeOf<string>();
    expectTypeOf(email.payload.cc).toEqualTypeOf<string[] | undefined>();

    const report = await queue.enqueue<ReportPayload>("report", {
      reportId: "r1",
      pages: [1, 2],
      draft: false,
    });
    expectTypeOf(report.payload.pages).toEqualTypeOf<number[]>();

    const tree = await queue.enqueue<TreePayload>("tree", { name: "root", children: [] });
    expectTypeOf(tree.payload.children).toEqualTypeOf<TreePayload[]>();

    // Inferred from the literal, as before.
    const inferred = await queue.enqueue("inferred", { n: 1, deep: [{ ok: true, s: null }] });
    expectTypeOf(inferred.payload).toEqualTypeOf<{ n: number; deep: { ok: true; s: null }[] }>();

    // JsonObject payloads and the default type parameter keep working.
    const loose: JsonObject = { anything: [1, "two", { three: null }] };
    const plain = await queue.enqueue("plain", loose);
    expectTypeOf(plain).toEqualTypeOf<Job<JsonObject>>();
    expectTypeOf(plain.payload.anything).toEqualTypeOf<JsonValue | undefined>();
    expect(await queue.stats()).toMatchObject({ ready: 5 });
  });

  it("enqueueMany takes typed items; the memory queue returns Job<P>[]", async () => {
    const queue = new InMemoryJobQueue();
    const items: EnqueueItem<EmailPayload>[] = [
      { name: "send_email", payload: { to: "a@example.com", subject: "1" } },
      { name: "send_email", payload: { to: "b@example.com", subject: "2" }, opts: {} },
    ];
    const jobs = await queue.enqueueMany(items);
    expectTypeOf(jobs).toEqualTypeOf<Job<EmailPayload>[]>();
    expect(jobs.map((j) => j.payload.to)).toEqual(["a@example.com", "b@example.com"]);

    // Through the JobQueue contract the items are typed too (the result is Job[]).
    const contract: JobQueue = queue;
    const more = await contract.enqueueMany<EmailPayload>([
      { name: "send_email", payload: { to: "c@example.com", subject: "3" } },
    ]);
    expectTypeOf(more).toEqualTypeOf<Job[]>();
    const typed = await contract.enqueue<EmailPayload>("send_email", { to: "d", subject: "4" });
    expectTypeOf(typed).toEqualTypeOf<Job<EmailPayload>>();

    // Items with different payloads in one call.
    await queue.enqueueMany([
      { name: "a", payload: { x: 1 } },
      { name: "b", payload: { y: "s" } },
    ]);
    expect(await queue.stats()).toMatchObject({ ready: 6 });
  });

  it("WorkerRunner<P>, processOne<P> and JobHandler<P> hand the handler a typed job", async () => {
    const queue = new InMemoryJobQueue();
    await queue.enqueue<EmailPayload>("send_email", { to: "a@example.com", subject: "one" });
    await queue.enqueue<EmailPayload>("send_email", { to: "b@example.com", subject: "two" });
    const seen: string[] = [];

    const handler: JobHandler<EmailPayload> = async (job, { signal }) => {
      expectTypeOf(job).toEqualTypeOf<Job<EmailPayload>>();
      expectTypeOf(signal).toEqualTypeOf<AbortSignal>();
      seen.push(job.payload.to.toUpperCase());
    };
    expect(await processOne<EmailPayload>(queue, handler)).toBe(true);

    const runner = new WorkerRunner<EmailPayload>(
      queue,
      async (job) => {
        expectTypeOf(job.payload.subject).toEqualTypeOf<string>();
        seen.push(job.payload.subject);
      },
      { maxJobs: 1, pollIntervalSeconds: 0.05 },
    );
    expectTypeOf(runner).toEqualTypeOf<WorkerRunner<EmailPayload>>();
    await runner.start();
    expect(seen).toEqual(["A@EXAMPLE.COM", "two"]);

    // Without a type argument the payload is a JsonObject, as before, or the payload
    // of a handler typed itself.
    await queue.enqueue("any", { x: 1 });
    await processOne(queue, async (job) => {
      expectTypeOf(job.payload).toEqualTypeOf<JsonObject>();
    });
    expectTypeOf(new WorkerRunner(queue, handler)).toEqualTypeOf<WorkerRunner<EmailPayload>>();
  });

  it("ack, fail, release and extendVisibility take a typed job (JobRef)", async () => {
    const queue: JobQueue = new InMemoryJobQueue();
    await queue.enqueue<EmailPayload>("send_email", { to: "a@example.com", subject: "s" });
    await queue.enqueue<EmailPayload>("send_email", { to: "b@example.com", subject: "s" });
    const typed: Job<EmailPayload>[] = [];
    await processOne<EmailPayload>(queue, async (job) => {
      typed.push(job);
      await queue.extendVisibility(job, 30);
    });
    await queue.ack(typed[0] as Job<EmailPayload>); // already acked: a no-op, but it compiles
    const second = (await queue.reserveNext()) as Job<EmailPayload> | null;
    expect(second?.payload.to).toBe("b@example.com");
    await queue.fail(second as Job<EmailPayload>, new Error("boom"));
    expectTypeOf<Job<EmailPayload>>().toMatchTypeOf<JobRef>();
    expectTypeOf<Job<ReportPayload>>().toMatchTypeOf<JobRef>();
    expectTypeOf<string>().toMatchTypeOf<JobRef>();
    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 1, processing: 0 });
  });

  it("generic code written against JsonObject payloads still compiles", () => {
    function firstKey<P extends JsonObject>(job: Job<P>): string | undefined {
      return Object.keys(job.payload)[0];
    }
    const handlerOf = <P extends JsonObject>(fn: (payload: P) => void): JobHandler<P> => {
      return (job) => fn(job.payload);
    };
    expectTypeOf(firstKey<{ a: number }>)
      .parameter(0)
      .toEqualTypeOf<Job<{ a: number }>>();
    expectTypeOf(handlerOf<JsonObject>(() => {})).toEqualTypeOf<JobHandler>();
  });

  it("JsonCompatible<T> is T for JSON-compatible types and marks what JSON cannot carry", () => {
    expectTypeOf<JsonCompatible<EmailPayload>>().toEqualTypeOf<{
      to: string;
      subject: string;
      cc?: string[];
      meta?: { priority: number | null; tags: string[] };
    }>();
    expectTypeOf<JsonCompatible<{ at: Date }>["at"]>().not.toEqualTypeOf<Date>();
    expectTypeOf<JsonCompatible<{ f: () => void }>["f"]>().toEqualTypeOf<never>();
    expectTypeOf<JsonCompatible<{ n: bigint }>["n"]>().toEqualTypeOf<never>();
    expectTypeOf<EmailPayload>().toExtend<JsonPayload<EmailPayload>>();
    expectTypeOf<JsonObject>().toExtend<JsonPayload<JsonObject>>();
  });
});

describe("payload types JSON cannot carry", () => {
  it("are refused at compile time (see refusedPayloadTypes, checked by tsc, never run)", () => {
    expect(typeof refusedPayloadTypes).toBe("function");
  });
});

// Never called: each line below must be refused by the compiler.
function refusedPayloadTypes(queue: InMemoryJobQueue, contract: JobQueue): void {
  interface WithFunction {
    to: string;
    send: () => void;
  }
  interface WithDate {
    at: Date;
  }
  interface WithMethod {
    to: string;
    format(): string;
  }

  // @ts-expect-error a function field
  void queue.enqueue<WithFunction>("x", { to: "a", send: () => {} });
  // @ts-expect-error a function field, inferred from the literal
  void queue.enqueue("x", { to: "a", send: () => {} });
  // @ts-expect-error a method
  void contract.enqueue<WithMethod>("x", { to: "a", format: () => "" });
  // @ts-expect-error a Date
  void queue.enqueue<WithDate>("x", { at: new Date() });
  // @ts-expect-error a Date, inferred from the literal
  void queue.enqueue("x", { at: new Date() });
  // @ts-expect-error a field that is only ever undefined
  void queue.enqueue<{ gone: undefined }>("x", { gone: undefined });
  // @ts-expect-error a required field that may be undefined (JSON drops the key)
  void queue.enqueue<{ maybe: string | undefined }>("x", { maybe: undefined });
  // @ts-expect-error a bigint
  void queue.enqueue<{ big: bigint }>("x", { big: 1n });
  // @ts-expect-error a symbol
  void queue.enqueue<{ sym: symbol }>("x", { sym: Symbol("s") });
  // @ts-expect-error a Map
  void queue.enqueue<{ map: Map<string, string> }>("x", { map: new Map() });
  // @ts-expect-error an unknown field (use JsonValue)
  void queue.enqueue<{ data: unknown }>("x", { data: 1 });
  // @ts-expect-error a function deep inside an array
  void queue.enqueue<{ items: { run: () => void }[] }>("x", { items: [] });
  // @ts-expect-error an array is not a payload (payloads are objects)
  void queue.enqueue<string[]>("x", ["a"]);
  // @ts-expect-error a primitive is not a payload
  void queue.enqueue<string>("x", "a");
  // @ts-expect-error readonly arrays are refused, as by JsonValue: use string[]
  void queue.enqueue<{ readonly ids: readonly string[] }>("x", { ids: [] });
  // @ts-expect-error enqueueMany items are checked the same way
  void contract.enqueueMany<WithDate>([{ name: "x", payload: { at: new Date() } }]);
  // @ts-expect-error and so is an EnqueueItem type
  expectTypeOf<EnqueueItem<WithFunction>>();
  // @ts-expect-error and Job<P>
  expectTypeOf<Job<WithDate>>();
  // @ts-expect-error and JobHandler<P>
  expectTypeOf<JobHandler<WithFunction>>();
  // @ts-expect-error and WorkerRunner<P>
  void new WorkerRunner<WithDate>(queue, () => {});
  // @ts-expect-error and processOne<P>
  void processOne<WithFunction>(queue, () => {});
  // @ts-expect-error and a handler's own payload type
  void new WorkerRunner(queue, (job: Job<WithDate>) => job.payload.at.getTime());
  // @ts-expect-error a handler for one payload type is not one for another
  void new WorkerRunner<EmailPayload>(queue, (job: Job<{ other: string }>) => job.payload.other);
}
