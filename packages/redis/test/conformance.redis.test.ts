import { testJobQueue } from "@svc-jobs/core/testing";
import { RedisJobQueue } from "@svc-jobs/redis";
import { uniquePrefix, useRedis } from "@svc-jobs/test-servers";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { deleteKeys } from "./fixtures/delete-keys.js";

let server: Awaited<ReturnType<typeof useRedis>>;
const used: string[] = [];
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
  create: ({ clock, visibilityTimeoutSeconds }) => {
    const queue = new RedisJobQueue(client, {
      prefix: uniquePrefix("conf"),
      clock,
      visibilityTimeoutSeconds,
    });
    used.push(queue.prefix);
    return queue;
  },
  cleanup: async () => {
    for (const prefix of used.splice(0)) await deleteKeys(client, prefix);
  },
});
