import type { JobQueue } from "@svc-jobs/core";
import { RedisJobQueue } from "@svc-jobs/redis";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";
import { afterEach, describe } from "vitest";
import { dashboardSuite } from "./dashboard-suite.js";

describe("dashboard on RedisJobQueue (real redis-server)", () => {
  const redis = redisFixture(Redis);
  const opened: JobQueue[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((q) => q.close()));
  });
  dashboardSuite((options = {}) => {
    const queue = new RedisJobQueue(redis.client, {
      prefix: redis.prefix("dash"),
      keepCancelled: options.keepCancelled ?? false,
    });
    opened.push(queue);
    return queue;
  });
});
