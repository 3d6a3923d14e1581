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
  create: ({ clock, visibilityTimeoutSeconds, options, sameStorageAs }) =>
    new RedisJobQueue(client, {
      // A second queue object on the same storage: the same prefix, as another process.
      prefix: sameStorageAs instanceof RedisJobQueue ? sameStorageAs.prefix : uniquePrefix("mock"),
      clock,
      visibilityTimeoutSeconds,
      ...options,
    }),
  // ioredis-mock keeps a hash in a plain object, where a `__proto__` field does not
  // round-trip; real Redis runs that case (conformance.redis.test.ts).
  features: { prototypeKeys: false },
});
