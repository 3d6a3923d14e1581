import { JobValidationError } from "@svc-jobs/core";
import { RedisJobQueue, RedisLeader } from "@svc-jobs/redis";
import { uniquePrefix } from "@svc-jobs/test-servers";
import { expectUnknownOptionRefused } from "@svc-jobs/test-servers/fixtures";
import RedisMock from "ioredis-mock";
import { afterAll, describe, it } from "vitest";

// A mock client is enough: every check runs before a command is sent.
const client = new RedisMock();
const queues: RedisJobQueue[] = [];
const queue = (options: object = {}) => {
  const q = new RedisJobQueue(client, { prefix: uniquePrefix("unknown"), ...options });
  queues.push(q);
  return q;
};

afterAll(async () => {
  await Promise.all(queues.map((q) => q.close()));
});

type Call = () => unknown;
/** [name, call with an unknown key, field, did-you-mean text, known keys, valid call] */
const cases: [string, Call, string, string, string, Call][] = [
  [
    "new RedisJobQueue: its own option misspelt",
    () => new RedisJobQueue(client, { prefx: "x" } as never),
    "options.prefx",
    'did you mean "prefix"?',
    "visibilityTimeoutSeconds, clock, retry, maxPayloadBytes, keepCompleted, keepCancelled, events, prefix, blocking, fallbackPollSeconds, enqueueTokenTtlSeconds, housekeepingBatch, random",
    () => queue({ blocking: false, fallbackPollSeconds: 0.1, housekeepingBatch: 5 }),
  ],
  [
    "new RedisJobQueue: a shared option misspelt",
    () => new RedisJobQueue(client, { visibilityTimeout: 5 } as never),
    "options.visibilityTimeout",
    'did you mean "visibilityTimeoutSeconds"?',
    "known: visibilityTimeoutSeconds",
    () => queue({ visibilityTimeoutSeconds: 5, enqueueTokenTtlSeconds: 1, random: Math.random }),
  ],
  [
    "reserveMany",
    () => queue().reserveMany(2, { blockSecond: 0 } as never),
    "opts.blockSecond",
    'did you mean "blockSeconds"?',
    "known: blockSeconds, signal",
    () => queue().reserveMany(2, { blockSeconds: 0 }),
  ],
  [
    "reserveNext",
    () => queue().reserveNext({ block: 1 } as never),
    "opts.block",
    'did you mean "blockSeconds"?',
    "known: blockSeconds, signal",
    () => queue().reserveNext({}),
  ],
  [
    "dlq.list",
    () => queue().dlq.list({ limt: 1 } as never),
    "opts.limt",
    'did you mean "limit"?',
    "known: limit, offset",
    () => queue().dlq.list({ limit: 1 }),
  ],
  [
    "ack",
    () => queue().ack("1", { reslt: 1 } as never),
    "opts.reslt",
    'did you mean "result"?',
    "known: result",
    () => queue().ack("1", { result: { ok: true } }),
  ],
  [
    "cancel",
    () => queue().cancel("1", { reasn: "x" } as never),
    "opts.reasn",
    'did you mean "reason"?',
    "known: reason",
    () => queue().cancel("1", { reason: "x" }),
  ],
  [
    "listJobs",
    () => queue().listJobs({ state: "ready", limt: 1 } as never),
    "opts.limt",
    'did you mean "limit"?',
    "known: state, name, limit, cursor",
    () => queue().listJobs({ state: "ready", limit: 1 }),
  ],
  [
    "events",
    () => queue().events({ aftr: "1-0" } as never),
    "opts.aftr",
    'did you mean "after"?',
    "known: signal, after",
    () => queue().events({ after: "1-0" }),
  ],
  [
    "new RedisJobQueue: a retention option misspelt",
    () => new RedisJobQueue(client, { keepCompleted: { cont: 1 } } as never),
    "keepCompleted.cont",
    'did you mean "count"?',
    "known: count, ageSeconds",
    () => queue({ keepCompleted: { count: 1 }, keepCancelled: true, events: { maxLen: 5 } }),
  ],
  [
    "new RedisLeader",
    () => new RedisLeader(client, { keyy: "x" } as never),
    "options.keyy",
    'did you mean "key"?',
    "known: key, leaseSeconds, clock, ownerId",
    () => new RedisLeader(client, { key: uniquePrefix("leader"), leaseSeconds: 5 }),
  ],
];

describe("unknown options are refused", () => {
  it.each(cases)("%s", async (_name, call, field, meant, known, valid) => {
    await expectUnknownOptionRefused(call, { errorClass: JobValidationError, field, meant, known });
    await valid();
  });
});
