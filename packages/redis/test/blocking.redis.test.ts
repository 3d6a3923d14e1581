import { WorkerRunner } from "@svc-jobs/core";
import { RedisJobQueue } from "@svc-jobs/redis";
import { startRedis } from "@svc-jobs/test-servers";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";

const redis = redisFixture(Redis);
const connect = () => redis.connect();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("blocking reserve on real Redis", () => {
  it("a worker on another connection wakes on enqueue", async () => {
    const prefix = redis.prefix("xwake");
    const worker = new RedisJobQueue(connect(), { prefix });
    const producer = new RedisJobQueue(connect(), { prefix });
    const pending = worker.reserveNext({ blockSeconds: 10 });
    await sleep(200);
    const started = Date.now();
    const job = await producer.enqueue("ping", {});
    expect((await pending)?.id).toBe(job.id);
    // Generous: proves it was a wake-up, not the end of the 10 s wait.
    expect(Date.now() - started).toBeLessThan(5000);
    await Promise.all([worker.close(), producer.close()]);
  });

  it("several blocked workers in different queues objects each get one of a batch", async () => {
    const prefix = redis.prefix("chain");
    const workers = [0, 1, 2].map(() => new RedisJobQueue(connect(), { prefix }));
    const producer = new RedisJobQueue(connect(), { prefix });
    const pending = workers.map((w) => w.reserveNext({ blockSeconds: 10 }));
    await sleep(200);
    await producer.enqueueMany([0, 1, 2].map((i) => ({ name: "b", payload: { i } })));
    const got = await Promise.all(pending);
    expect(got.map((j) => j?.id).sort()).toEqual(["1", "2", "3"]);
    await Promise.all([...workers, producer].map((q) => q.close()));
  });

  it("a delayed job enqueued while a worker waits wakes it when due, not at the end of its wait", async () => {
    const prefix = redis.prefix("xdelay");
    const worker = new RedisJobQueue(connect(), { prefix });
    const producer = new RedisJobQueue(connect(), { prefix });
    const started = Date.now();
    const pending = worker.reserveNext({ blockSeconds: 20 });
    await sleep(100);
    await producer.enqueue("soon", {}, { delaySeconds: 0.5 });
    expect((await pending)?.name).toBe("soon");
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(Date.now() - started).toBeLessThan(10_000);
    await Promise.all([worker.close(), producer.close()]);
  });

  it("close() ends a pending blocking reserve and leaves the caller's client open", async () => {
    const client = connect();
    const queue = new RedisJobQueue(client, { prefix: redis.prefix("close") });
    const pending = queue.reserveNext({ blockSeconds: 30 });
    await sleep(100);
    await queue.close();
    expect(await pending).toBeNull();
    expect(await client.ping()).toBe("PONG");
    await expect(queue.enqueue("x", {})).rejects.toMatchObject({ code: "ERR_QUEUE_CLOSED" });
  });

  it("WorkerRunner.stop() is not held up by a long blocking wait", async () => {
    const queue = new RedisJobQueue(connect(), { prefix: redis.prefix("stop") });
    const runner = new WorkerRunner(queue, async () => {}, { pollIntervalSeconds: 30 });
    const done = runner.start();
    await sleep(200);
    const started = Date.now();
    await runner.stop();
    await done;
    expect(Date.now() - started).toBeLessThan(5000);
    await queue.close();
  });

  it("an idle worker sends only a few commands per second (no busy polling)", async () => {
    // A private server, so the command count is this worker's alone.
    const own = await startRedis();
    try {
      const admin = new Redis(own.url);
      const client = new Redis(own.url);
      const queue = new RedisJobQueue(client, { prefix: redis.prefix("idle") });
      // Something delayed far ahead, so nothing falls due during the measurement.
      await queue.enqueue("far", {}, { delaySeconds: 3600 });
      const runner = new WorkerRunner(queue, async () => {});
      const done = runner.start();
      await sleep(300);
      // Commands the worker sent: scripts and BLPOPs. (total_commands_processed would also
      // count the commands each script runs inside Redis.)
      const sent = async () => {
        const stats = await admin.info("commandstats");
        let n = 0;
        for (const name of ["evalsha", "eval", "blpop"]) {
          n += Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
        }
        return n;
      };
      await admin.config("RESETSTAT");
      await sleep(3000);
      const commands = await sent();
      await runner.stop();
      await done;
      await queue.close();
      await Promise.all([admin.quit(), client.quit()]);
      // WorkerRunner waits 0.5 s per reserve: about 2 reserves + 2 BLPOPs a second.
      expect(commands).toBeGreaterThan(0);
      expect(commands / 3).toBeLessThanOrEqual(6);
    } finally {
      await own.stop();
    }
  });
});
