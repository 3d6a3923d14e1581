import { testJobQueueModel } from "@svc-jobs/core/testing";
import { RedisJobQueue } from "@svc-jobs/redis";
import { uniquePrefix } from "@svc-jobs/test-servers";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";

const redis = redisFixture(Redis);
testJobQueueModel({
  name: "RedisJobQueue",
  numRuns: 300,
  create: ({ clock, visibilityTimeoutSeconds }) =>
    new RedisJobQueue(redis.client, {
      prefix: uniquePrefix("model"),
      clock,
      visibilityTimeoutSeconds,
    }),
});
