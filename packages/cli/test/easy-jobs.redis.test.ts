import { easyJobs, redisOptionsFromUrl } from "@svc-jobs/cli";
import { ConfigError, InMemoryJobQueue } from "@svc-jobs/core";
import { RedisJobQueue } from "@svc-jobs/redis";
import { InMemoryScheduler } from "@svc-jobs/scheduler";
import { uniquePrefix } from "@svc-jobs/test-servers";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { describe, expect, it } from "vitest";

const redis = redisFixture();

describe("easyJobs", () => {
  it("defaults to the memory driver", async () => {
    const jobs = easyJobs({ env: {} });
    expect(jobs.driver).toBe("memory");
    expect(jobs.queue).toBeInstanceOf(InMemoryJobQueue);
    expect(jobs.scheduler).toBeInstanceOf(InMemoryScheduler);
    const job = await jobs.queue.enqueue("send_email", { to: "user@example.com" });
    expect(job.id).toBe("1");
    await jobs.close();
  });

  it("reads JOBS_DRIVER case-insensitively; the option wins over the environment", async () => {
    const prefix = uniquePrefix("easy");
    const jobs = easyJobs({
      env: { JOBS_DRIVER: "REDIS", REDIS_URL: redis.url, JOBS_PREFIX: prefix },
    });
    try {
      expect(jobs.driver).toBe("redis");
      expect(jobs.queue).toBeInstanceOf(RedisJobQueue);
      expect(jobs.leader).toBeDefined();
      const job = await jobs.queue.enqueue("process_order", { order_id: 123 });
      expect(await jobs.redis?.hget(`${prefix}:job:${job.id}`, "name")).toBe("process_order");
    } finally {
      await jobs.close();
    }
    const memory = easyJobs({ driver: "memory", env: { JOBS_DRIVER: "redis" } });
    expect(memory.driver).toBe("memory");
    await memory.close();
  });

  it("the redis driver's scheduler takes the leader lease, and close() gives it up", async () => {
    const prefix = uniquePrefix("easy-sched");
    const jobs = easyJobs({ driver: "redis", redisUrl: redis.url, prefix });
    try {
      await jobs.scheduler.addJob("digest", {
        intervalSeconds: 60,
        queue: jobs.queue,
        jobName: "send_digest",
      });
      // The first tick takes the leader lease; due tasks fire only on the leader.
      await jobs.scheduler.tick();
      expect(jobs.leader?.isLeader()).toBe(true);
    } finally {
      await jobs.close();
    }
    expect(jobs.leader?.isLeader()).toBe(false);
  });

  it("takes the visibility timeout from JOBS_VISIBILITY_TIMEOUT_SECONDS, the option first", async () => {
    const fromEnv = easyJobs({ env: { JOBS_VISIBILITY_TIMEOUT_SECONDS: "2.5" } });
    expect(fromEnv.queue.visibilityTimeoutSeconds).toBe(2.5);
    await fromEnv.close();
    const fromOption = easyJobs({
      visibilityTimeoutSeconds: 9,
      env: { JOBS_VISIBILITY_TIMEOUT_SECONDS: "2.5" },
    });
    expect(fromOption.queue.visibilityTimeoutSeconds).toBe(9);
    await fromOption.close();
    const prefix = uniquePrefix("easy-vt");
    const redisJobs = easyJobs({
      env: {
        JOBS_DRIVER: "redis",
        REDIS_URL: redis.url,
        JOBS_PREFIX: prefix,
        JOBS_VISIBILITY_TIMEOUT_SECONDS: "3",
      },
    });
    expect(redisJobs.queue.visibilityTimeoutSeconds).toBe(3);
    await redisJobs.close();
    for (const bad of ["0", "-1", "soon"]) {
      expect(() => easyJobs({ env: { JOBS_VISIBILITY_TIMEOUT_SECONDS: bad } })).toThrow(
        /JOBS_VISIBILITY_TIMEOUT_SECONDS must be a positive number/,
      );
    }
  });

  it.each([
    [{ driver: "mysql" }, /JOBS_DRIVER is "mysql"/],
    [{ driver: "redis", redisUrl: "http://localhost:6379" }, /scheme "http"/],
    [{ driver: "redis", redisUrl: "localhost:6379" }, /scheme "localhost"|is not a URL/],
    [{ driver: "redis", redisUrl: "redis://localhost:6379/x" }, /database "x"/],
    [{ driver: "redis", prefix: "has space" }, /queue prefix "has space"/],
  ])("rejects %j with a ConfigError", (options, message) => {
    expect(() => easyJobs({ ...options, env: {} })).toThrow(ConfigError);
    expect(() => easyJobs({ ...options, env: {} })).toThrow(message);
  });
});

describe("redisOptionsFromUrl", () => {
  it("reads redis://, rediss:// and unix:// URLs", () => {
    expect(redisOptionsFromUrl("redis://user:p%40ss@cache.internal:6380/2")).toEqual({
      host: "cache.internal",
      port: 6380,
      db: 2,
      username: "user",
      password: "p@ss",
    });
    expect(redisOptionsFromUrl("rediss://cache.example.com/0")).toMatchObject({
      port: 6379,
      tls: { servername: "cache.example.com" },
    });
    expect(redisOptionsFromUrl("unix:///var/run/redis.sock?db=3")).toEqual({
      path: "/var/run/redis.sock",
      db: 3,
    });
  });
});
