import { testJobQueue } from "@svc-jobs/core/testing";
import { RedisJobQueue } from "@svc-jobs/redis";
import { uniquePrefix } from "@svc-jobs/test-servers";
import RedisMock from "ioredis-mock";

// The fast lane: the same suite on ioredis-mock (Lua in fengari, no real server). The
// mock cannot block, so blocking reserve falls back to short polling; real Redis is the
// proof that blocking works (conformance.redis.test.ts).
const client = new RedisMock();

testJobQueue({
  name: "RedisJobQueue (ioredis-mock)",
  create: ({ clock, visibilityTimeoutSeconds }) =>
    new RedisJobQueue(client, { prefix: uniquePrefix("mock"), clock, visibilityTimeoutSeconds }),
});
