import { testJobQueue } from "@svc-jobs/core/testing";
import { RedisJobQueue } from "@svc-jobs/redis";
import { uniquePrefix, useRedis } from "@svc-jobs/test-servers";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";

let server: Awaited<ReturnType<typeof useRedis>>;
let client: Redis;

beforeAll(async () => {
  server = await useRedis();
  client = new Redis(server.url);
});

afterAll(async () => {
  await client?.quit();
  await server?.stop();
});

testJobQueue({
  name: "RedisJobQueue (redis-server)",
  create: ({ clock, visibilityTimeoutSeconds }) =>
    new RedisJobQueue(client, { prefix: uniquePrefix("conf"), clock, visibilityTimeoutSeconds }),
});
