// Type tests: checked by `pnpm typecheck` (tsc covers test/); the runtime part only
// exercises the memory driver, which needs no server.
import {
  type EasyJobs,
  type EasyJobsOptions,
  easyJobs,
  type JobsDriver,
  type MemoryEasyJobs,
  type PostgresEasyJobs,
  type RedisEasyJobs,
  type SqliteEasyJobs,
} from "@svc-jobs/cli";
import { InMemoryJobQueue, type JobQueue } from "@svc-jobs/core";
import type { RedisJobQueue, RedisLeader } from "@svc-jobs/redis";
import type { SchedulerLogger } from "@svc-jobs/scheduler";
import type { PostgresLeader, SqlJobQueue } from "@svc-jobs/sql";
import type { Cluster, Redis } from "ioredis";
import type { Logger } from "pino";
import { describe, expect, expectTypeOf, it } from "vitest";

// Never called: building a redis driver would open a connection.
const redisJobs = () => easyJobs({ driver: "redis", redisUrl: "redis://127.0.0.1:6379/0" });
const memoryJobs = () => easyJobs({ driver: "memory" });
const sqliteJobs = () => easyJobs({ driver: "sqlite", sqlitePath: "./jobs.sqlite" });
const postgresJobs = () => easyJobs({ driver: "postgres", databaseUrl: "postgres://x/y" });
const fromEnvironment = () => easyJobs();
const fromOptions = (options: EasyJobsOptions) => easyJobs(options);
const fromDriverVariable = (driver: JobsDriver) => easyJobs({ driver });

describe("easyJobs() types", () => {
  it("driver: 'redis' gives a RedisJobQueue, a RedisLeader and the client", () => {
    expectTypeOf(redisJobs).returns.toEqualTypeOf<RedisEasyJobs>();
    expectTypeOf<RedisEasyJobs["driver"]>().toEqualTypeOf<"redis">();
    expectTypeOf<RedisEasyJobs["queue"]>().toEqualTypeOf<RedisJobQueue>();
    expectTypeOf<RedisEasyJobs["leader"]>().toEqualTypeOf<RedisLeader>();
    expectTypeOf<RedisEasyJobs["redis"]>().toEqualTypeOf<Redis | Cluster>();
    expectTypeOf<RedisEasyJobs["redisUrl"]>().toEqualTypeOf<string>();
    const typed = (jobs: RedisEasyJobs) => {
      const queue: RedisJobQueue = jobs.queue;
      const leader: RedisLeader = jobs.leader;
      return [queue, leader, jobs.redis.status];
    };
    expect(typeof typed).toBe("function");
  });

  it("driver: 'memory' gives an InMemoryJobQueue and no leader or client", () => {
    expectTypeOf(memoryJobs).returns.toEqualTypeOf<MemoryEasyJobs>();
    expectTypeOf<MemoryEasyJobs["queue"]>().toEqualTypeOf<InMemoryJobQueue>();
    expectTypeOf<MemoryEasyJobs["leader"]>().toEqualTypeOf<undefined>();
    expectTypeOf<MemoryEasyJobs["redis"]>().toEqualTypeOf<undefined>();
    const misuse = (jobs: MemoryEasyJobs) => {
      // @ts-expect-error the memory driver has no leader to call
      jobs.leader.isLeader();
      // @ts-expect-error nor a RedisJobQueue
      const queue: RedisJobQueue = jobs.queue;
      return queue;
    };
    expect(typeof misuse).toBe("function");
  });

  it("driver: 'sqlite' and 'postgres' give a SqlJobQueue, its Kysely and a leader", () => {
    expectTypeOf(sqliteJobs).returns.toEqualTypeOf<SqliteEasyJobs>();
    expectTypeOf(postgresJobs).returns.toEqualTypeOf<PostgresEasyJobs>();
    expectTypeOf<SqliteEasyJobs["queue"]>().toEqualTypeOf<SqlJobQueue>();
    expectTypeOf<PostgresEasyJobs["queue"]>().toEqualTypeOf<SqlJobQueue>();
    expectTypeOf<PostgresEasyJobs["leader"]>().toEqualTypeOf<PostgresLeader>();
    expectTypeOf<SqliteEasyJobs["sqlitePath"]>().toEqualTypeOf<string>();
    expectTypeOf<PostgresEasyJobs["databaseUrl"]>().toEqualTypeOf<string>();
  });

  it("a driver from the environment (or any string) gives the union, narrowed by driver", () => {
    expectTypeOf(fromEnvironment).returns.toEqualTypeOf<EasyJobs>();
    expectTypeOf(fromOptions).returns.toEqualTypeOf<EasyJobs>();
    expectTypeOf(fromDriverVariable).returns.toEqualTypeOf<EasyJobs>();
    expectTypeOf<EasyJobs>().toEqualTypeOf<
      MemoryEasyJobs | RedisEasyJobs | SqliteEasyJobs | PostgresEasyJobs
    >();
    expectTypeOf<EasyJobs["queue"]>().toExtend<JobQueue>();
    expectTypeOf<EasyJobs["leader"]>().toEqualTypeOf<
      RedisLeader | SqliteEasyJobs["leader"] | PostgresLeader | undefined
    >();
    // The union's queue methods stay callable: both queues declare JobQueue's signatures.
    const enqueue = (jobs: EasyJobs) => jobs.queue.enqueue("send_email", { to: "a@b.c" });
    expect(typeof enqueue).toBe("function");
    const narrow = (jobs: EasyJobs) => {
      // @ts-expect-error the leader may be missing until driver is checked
      jobs.leader.isLeader();
      if (jobs.driver === "redis") {
        expectTypeOf(jobs.queue).toEqualTypeOf<RedisJobQueue>();
        return jobs.leader.isLeader();
      }
      if (jobs.driver === "sqlite" || jobs.driver === "postgres") {
        expectTypeOf(jobs.queue).toEqualTypeOf<SqlJobQueue>();
        return jobs.leader.isLeader();
      }
      expectTypeOf(jobs.queue).toEqualTypeOf<InMemoryJobQueue>();
      return false;
    };
    expect(typeof narrow).toBe("function");
  });

  it("schedulerLogger takes a pino logger as it is", () => {
    expectTypeOf<Logger>().toExtend<SchedulerLogger>();
    expectTypeOf<{ schedulerLogger: Logger }>().toExtend<EasyJobsOptions>();
  });

  it("at run time the memory driver is what the types say", async () => {
    const jobs = easyJobs({ driver: "memory", env: {} });
    expect(jobs.queue).toBeInstanceOf(InMemoryJobQueue);
    expect(jobs.leader).toBeUndefined();
    expect(jobs.redis).toBeUndefined();
    await jobs.close();
  });
});
