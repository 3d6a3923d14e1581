import { testJobQueue } from "@svc-jobs/core/testing";
import { RedisJobQueue } from "@svc-jobs/redis";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";

const redis = redisFixture(Redis);

testJobQueue({
  name: "RedisJobQueue (redis-server)",
  create: ({ clock, visibilityTimeoutSeconds, options, sameStorageAs }) => {
    // A second queue object on the same storage: the same prefix, as another process.
    const prefix =
      sameStorageAs instanceof RedisJobQueue ? sameStorageAs.prefix : redis.prefix("conf");
    return new RedisJobQueue(redis.client, { prefix, clock, visibilityTimeoutSeconds, ...options });
  },
  cleanup: () => redis.deletePrefixes(),
});
