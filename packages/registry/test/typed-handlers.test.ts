import {
  InMemoryJobQueue,
  type Job,
  type JobHandler,
  type JsonObject,
  processOne,
  WorkerRunner,
} from "@svc-jobs/core";
import { JobRegistry, type JobResult, type RegistryHandler } from "@svc-jobs/registry";
import { describe, expect, expectTypeOf, it } from "vitest";

// Type tests: `tsc --noEmit` (the package's typecheck script) checks this file, and
// vitest runs the accepted cases. The refused cases sit in a function that is never
// called; each `@ts-expect-error` fails the type check if its line compiles.

interface EmailPayload {
  to: string;
  subject: string;
}

/**
 * The shape `makeWebhookHandler()` of @svc-jobs/webhooks returns (a core JobHandler
 * with `close()`), which this package cannot import: the README registers one.
 */
interface WebhookLikeHandler extends JobHandler {
  close(): Promise<void>;
}

describe("typed registry handlers", () => {
  it("register<P> and handler<P> type the job of the handler they take", async () => {
    const registry = new JobRegistry({ metrics: false });
    const sent: string[] = [];
    registry.register<EmailPayload>("send_email", async (job, { signal }) => {
      expectTypeOf(job).toEqualTypeOf<Job<EmailPayload>>();
      expectTypeOf(signal).toEqualTypeOf<AbortSignal>();
      sent.push(job.payload.to);
      return { success: true, message: `sent to ${job.payload.to}` };
    });
    const remind = registry.handler<EmailPayload>("remind")(async (job) => {
      expectTypeOf(job.payload.subject).toEqualTypeOf<string>();
      sent.push(job.payload.subject);
    });
    expectTypeOf(remind).toEqualTypeOf<RegistryHandler<EmailPayload>>();

    // A handler typed itself needs no type argument.
    const typed = async (job: Job<EmailPayload>): Promise<JobResult> => ({
      success: true,
      message: job.payload.to,
    });
    registry.register("typed", typed);
    expectTypeOf(registry.handler("typed_too")(typed)).toEqualTypeOf<
      RegistryHandler<EmailPayload>
    >();

    const queue = new InMemoryJobQueue();
    await queue.enqueue<EmailPayload>("send_email", { to: "a@example.com", subject: "s" });
    await queue.enqueue<EmailPayload>("remind", { to: "b@example.com", subject: "later" });
    const handler = registry.asHandler();
    expect(await processOne(queue, handler)).toBe(true);
    expect(await processOne(queue, handler)).toBe(true);
    expect(sent).toEqual(["a@example.com", "later"]);

    // dispatch() takes a typed job as it comes from a typed enqueue.
    const job = await queue.enqueue<EmailPayload>("send_email", {
      to: "c@example.com",
      subject: "s",
    });
    expect(await registry.dispatch(job)).toEqual({
      success: true,
      message: "sent to c@example.com",
    });
  });

  it("registers any core JobHandler and the webhook handler of the README", async () => {
    const registry = new JobRegistry({ metrics: false });
    const core: JobHandler = async () => {};
    const returnsAnything: JobHandler<EmailPayload> = (job) => job.payload.to.length;
    const webhookHandler: WebhookLikeHandler = Object.assign(async () => {}, {
      close: async () => {},
    });
    registry.register("core", core);
    registry.register("anything", returnsAnything);
    // The README's line, with the handler makeWebhookHandler({...}) returns.
    registry.register("outbox.order.created", webhookHandler);
    expect(registry.listHandlers()).toEqual(["core", "anything", "outbox.order.created"]);
    expectTypeOf(registry.getHandler("core")).toEqualTypeOf<RegistryHandler | undefined>();
    expectTypeOf<RegistryHandler<EmailPayload>>().toEqualTypeOf<JobHandler<EmailPayload>>();
  });

  it("asHandler() is a core JobHandler for WorkerRunner and processOne", async () => {
    const registry = new JobRegistry({ metrics: false });
    registry.register<EmailPayload>("send_email", () => undefined);
    const handler = registry.asHandler({ timeoutSeconds: 60 });
    expectTypeOf(handler).toEqualTypeOf<JobHandler>();
    expectTypeOf(handler.timeoutSeconds).toEqualTypeOf<number | undefined>();
    expect(handler.timeoutSeconds).toBe(60);
    const queue = new InMemoryJobQueue();
    await queue.enqueue<EmailPayload>("send_email", { to: "a", subject: "b" });
    const runner = new WorkerRunner(queue, handler, { maxJobs: 1, pollIntervalSeconds: 0.05 });
    expectTypeOf(runner).toEqualTypeOf<WorkerRunner<JsonObject>>();
    await runner.start();
    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 0, processing: 0, dlq: 0 });
  });
});

describe("handler payload types JSON cannot carry", () => {
  it("are refused at compile time (see refusedHandlerTypes, checked by tsc, never run)", () => {
    expect(typeof refusedHandlerTypes).toBe("function");
  });
});

// Never called: each line below must be refused by the compiler.
function refusedHandlerTypes(registry: JobRegistry): void {
  interface WithDate {
    at: Date;
  }
  interface WithFunction {
    run: () => void;
  }
  // @ts-expect-error a Date in the payload type
  registry.register<WithDate>("x", () => {});
  // @ts-expect-error a function in the payload type
  registry.handler<WithFunction>("x");
  // @ts-expect-error a handler whose own payload type has a Date
  registry.register("x", (job: Job<WithDate>) => job.payload.at.getTime());
  // @ts-expect-error a RegistryHandler type of one
  expectTypeOf<RegistryHandler<WithFunction>>();
  // @ts-expect-error a handler for one payload is not one for another
  registry.register<EmailPayload>("x", (job: Job<{ other: number }>) => job.payload.other);
}
