import {
  exponentialRetry,
  InMemoryJobQueue,
  JobValidationError,
  linearRetry,
  processOne,
  type RetryStrategy,
  resolveModuleUrl,
  WorkerRunner,
} from "@svc-jobs/core";
import { resolveQueueOptions } from "@svc-jobs/core/backend";
import { expectUnknownOptionRefused } from "@svc-jobs/test-servers/fixtures";
import { describe, expect, it } from "vitest";

type Call = () => unknown;

const handler = async () => {};

/** [name, call with an unknown key, field, did-you-mean text, known keys, valid call] */
const cases: [string, Call, string, string, string, Call][] = [
  [
    "new InMemoryJobQueue",
    () => new InMemoryJobQueue({ visibilityTimeout: 5 } as never),
    "options.visibilityTimeout",
    'did you mean "visibilityTimeoutSeconds"?',
    "visibilityTimeoutSeconds, clock, retry, maxPayloadBytes, keepCompleted, keepCancelled, events",
    () => new InMemoryJobQueue({ visibilityTimeoutSeconds: 5 }),
  ],
  [
    "resolveQueueOptions with a backend's own keys",
    () => resolveQueueOptions({ prefx: "x" } as never, ["prefix"]),
    "options.prefx",
    'did you mean "prefix"?',
    "events, prefix",
    () => resolveQueueOptions({ prefix: "x" } as never, ["prefix"]),
  ],
  [
    "new WorkerRunner",
    () => new WorkerRunner(new InMemoryJobQueue(), handler, { concurency: 2 } as never),
    "options.concurency",
    'did you mean "concurrency"?',
    "pollIntervalSeconds, concurrency, timeoutSeconds",
    () => new WorkerRunner(new InMemoryJobQueue(), handler, { concurrency: 2 }),
  ],
  [
    "WorkerRunner.stop",
    () => new WorkerRunner(new InMemoryJobQueue(), handler).stop({ grace: 1 } as never),
    "options.grace",
    'did you mean "graceSeconds"?',
    "known: graceSeconds",
    () => new WorkerRunner(new InMemoryJobQueue(), handler).stop({ graceSeconds: 1 }),
  ],
  [
    "processOne",
    () => processOne(new InMemoryJobQueue(), handler, { timeout: 1 } as never),
    "opts.timeout",
    'did you mean "timeoutSeconds"?',
    "known: timeoutSeconds, onJobSettled",
    () => processOne(new InMemoryJobQueue(), handler, { timeoutSeconds: 1 }),
  ],
  [
    "exponentialRetry",
    () => exponentialRetry({ factr: 3 } as never),
    "retry.factr",
    'did you mean "factor"?',
    "known: factor, maxSeconds, jitter",
    () => exponentialRetry({ factor: 3 }),
  ],
  [
    "an exponential strategy as a queue's retry",
    () =>
      new InMemoryJobQueue({
        retry: { kind: "exponential", maxSecond: 10 } as unknown as RetryStrategy,
      }),
    "retry.maxSecond",
    'did you mean "maxSeconds"?',
    "known: kind, factor, maxSeconds, jitter",
    () => new InMemoryJobQueue({ retry: { kind: "exponential", maxSeconds: 10 } }),
  ],
  [
    "a linear strategy with parameters",
    () =>
      new InMemoryJobQueue({
        retry: { kind: "linear", factor: 2 } as unknown as RetryStrategy,
      }),
    "retry.factor",
    "",
    "known: kind",
    () => new InMemoryJobQueue({ retry: linearRetry }),
  ],
  [
    "reserveNext",
    () => new InMemoryJobQueue().reserveNext({ blockSecond: 0 } as never),
    "opts.blockSecond",
    'did you mean "blockSeconds"?',
    "known: blockSeconds, signal",
    () => new InMemoryJobQueue().reserveNext({ blockSeconds: 0 }),
  ],
  [
    "dlq.list",
    () => new InMemoryJobQueue().dlq.list({ skip: 1 } as never),
    "opts.skip",
    'did you mean "offset"?',
    "known: limit, offset",
    () => new InMemoryJobQueue().dlq.list({ limit: 1, offset: 1 }),
  ],
  [
    "enqueueMany items",
    () => new InMemoryJobQueue().enqueueMany([{ name: "a", payload: {}, options: {} } as never]),
    "items[0].options",
    'did you mean "opts"?',
    "known: name, payload, opts",
    () => new InMemoryJobQueue().enqueueMany([{ name: "a", payload: {}, opts: {} }]),
  ],
  [
    "resolveModuleUrl (importModule, loadModuleExport)",
    () => resolveModuleUrl("./x.js", { dir: "/" } as never),
    "options.dir",
    'did you mean "cwd"?',
    "known: cwd",
    () => resolveModuleUrl("node:path", { cwd: "/" }),
  ],
];

describe("unknown options are refused", () => {
  it.each(cases)("%s", async (_name, call, field, meant, known, valid) => {
    await expectUnknownOptionRefused(call, { errorClass: JobValidationError, field, meant, known });
    await valid();
  });

  it("a refused enqueue-free call changes nothing: the queue still works with its defaults", async () => {
    const queue = new InMemoryJobQueue();
    await queue.enqueue("a", {});
    await expect(queue.reserveNext({ blockSecs: 1 } as never)).rejects.toThrow(JobValidationError);
    expect((await queue.stats()).ready).toBe(1);
    const runner = new WorkerRunner(queue, handler);
    await expect(runner.stop({ graceSecs: 1 } as never)).rejects.toThrow(JobValidationError);
    expect(runner.isRunning).toBe(false);
    await expect(processOne(queue, handler, { timout: 1 } as never)).rejects.toThrow(
      JobValidationError,
    );
    expect((await queue.stats()).ready).toBe(1);
    // A bad item anywhere in a batch writes none of it.
    await expect(
      queue.enqueueMany([{ name: "b", payload: {} }, { name: "c", payload: {}, opt: {} } as never]),
    ).rejects.toThrow(JobValidationError);
    expect((await queue.stats()).ready).toBe(1);
  });
});
