import { ConfigError, InMemoryJobQueue, type Job, JobValidationError } from "@svc-jobs/core";
import { JobMetrics, JobRegistry } from "@svc-jobs/registry";
import { expectUnknownOptionRefused } from "@svc-jobs/test-servers/fixtures";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";

const job: Job = {
  id: "1",
  name: "send",
  payload: {},
  availableAt: new Date(0),
  attempts: 1,
  maxAttempts: 5,
  backoffSeconds: 60,
  lastError: null,
  dedupeKey: null,
} as Job;

const registry = () => new JobRegistry({ registry: new Registry() }).register("send", () => {});

type Call = () => unknown;
/** [name, call with an unknown key, error class, did-you-mean text, known keys, valid call] */
const cases: [string, Call, abstract new (...args: never[]) => Error, string, string, Call][] = [
  [
    "new JobRegistry",
    () => new JobRegistry({ prefix: "x" } as never),
    JobValidationError,
    'did you mean "metricPrefix"?',
    "known: metricPrefix, registry, metrics, timeoutSeconds, durationBuckets",
    () => new JobRegistry({ metricPrefix: "x", registry: new Registry(), metrics: false }),
  ],
  [
    "register",
    () => registry().register("other", () => {}, { replce: true } as never),
    JobValidationError,
    'did you mean "replace"?',
    "known: replace",
    () => registry().register("send", () => {}, { replace: true }),
  ],
  [
    "handler",
    () => registry().handler("other", { overwrite: true } as never),
    JobValidationError,
    'did you mean "replace"?',
    "known: replace",
    () => registry().handler("send", { replace: true })(() => {}),
  ],
  [
    "dispatch",
    () => registry().dispatch(job, { timeout: 1 } as never),
    JobValidationError,
    'did you mean "timeoutSeconds"?',
    "known: timeoutSeconds, signal",
    () => registry().dispatch(job, { timeoutSeconds: 1 }),
  ],
  [
    "asHandler",
    () => registry().asHandler({ timeoutSecond: 1 } as never),
    JobValidationError,
    'did you mean "timeoutSeconds"?',
    "known: timeoutSeconds",
    () => registry().asHandler({ timeoutSeconds: 1 }),
  ],
  [
    "JobRegistry.trackQueue",
    () => registry().trackQueue(new InMemoryJobQueue(), { queue: "q" } as never),
    JobValidationError,
    'did you mean "name"?',
    "known: name",
    () => registry().trackQueue(new InMemoryJobQueue(), { name: "q" }),
  ],
  [
    "new JobMetrics",
    () => new JobMetrics({ enable: false } as never),
    ConfigError,
    'did you mean "enabled"?',
    "known: metricPrefix, registry, enabled, durationBuckets",
    () => new JobMetrics({ enabled: false }),
  ],
  [
    "JobMetrics.trackQueue",
    () =>
      new JobMetrics({ registry: new Registry() }).trackQueue(new InMemoryJobQueue(), {
        nam: "q",
      } as never),
    JobValidationError,
    'did you mean "name"?',
    "known: name",
    () =>
      new JobMetrics({ registry: new Registry() }).trackQueue(new InMemoryJobQueue(), {
        name: "q",
      }),
  ],
];

describe("unknown options are refused", () => {
  it.each(cases)("%s", async (_name, call, errorClass, meant, known, valid) => {
    await expectUnknownOptionRefused(call, {
      errorClass: errorClass,
      field: /^options\./,
      meant,
      known,
    });
    await valid();
  });

  it("a refused register or handler() registers nothing", () => {
    const r = registry();
    expect(() => r.register("other", () => {}, { replace: true, x: 1 } as never)).toThrow(
      JobValidationError,
    );
    expect(() => r.handler("third", { x: 1 } as never)).toThrow(JobValidationError);
    expect(r.listHandlers()).toEqual(["send"]);
  });
});
