import { testJobQueueModel } from "@svc-jobs/core/testing";
import { RedisJobQueue } from "@svc-jobs/redis";
import { uniquePrefix, useRedis } from "@svc-jobs/test-servers";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";

let client: Redis;
let stop: () => Promise<void>;
beforeAll(async () => {
  const r = await useRedis();
  stop = r.stop;
  client = new Redis(r.url);
});
afterAll(async () => {
  client.disconnect();
  await stop();
});
testJobQueueModel({
  name: "RedisJobQueue",
  numRuns: 300,
  create: ({ clock, visibilityTimeoutSeconds }) =>
    new RedisJobQueue(client, { prefix: uniquePrefix("model"), clock, visibilityTimeoutSeconds }),
});
