import { testJobQueue } from "@svc-jobs/core/testing";
import { RedisJobQueue } from "@svc-jobs/redis";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";

const redis = redisFixture(Redis);

testJobQueue({
  name: "RedisJobQueue (redis-server)",
  create: ({ clock, visibilityTimeoutSeconds }) => {
    return new RedisJobQueue(redis.client, {
      prefix: redis.prefix("conf"),
      clock,
      visibilityTimeoutSeconds,
    });
  },
  cleanup: () => redis.deletePrefixes(),
});
