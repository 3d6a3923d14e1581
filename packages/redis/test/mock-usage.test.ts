// The README's "testing your code with ioredis-mock" example, kept runnable here.
import { ManualClock, processOne } from "@svc-jobs/core";
import { expectedStats } from "@svc-jobs/core/testing";
import { RedisJobQueue } from "@svc-jobs/redis";
import RedisMock from "ioredis-mock";
import { expect, it } from "vitest";

it("tests a handler against RedisJobQueue on ioredis-mock, with a manual clock", async () => {
  const clock = new ManualClock();
  const queue = new RedisJobQueue(new RedisMock(), { prefix: "test-delayed", clock });

  await queue.enqueue("delayed", { id: 1 }, { delaySeconds: 60 });
  expect(await queue.reserveNext()).toBeNull(); // not yet

  clock.advance(60);
  const seen: unknown[] = [];
  expect(await processOne(queue, async (job) => void seen.push(job.payload))).toBe(true);
  expect(seen).toEqual([{ id: 1 }]);
  expect(await queue.stats()).toEqual(expectedStats());
});

it("blocking reserve falls back to short polling on a client that cannot block", async () => {
  const client = new RedisMock();
  const queue = new RedisJobQueue(client, { prefix: "test-blocking" });
  const pending = queue.reserveNext({ blockSeconds: 5 });
  await new Promise((r) => setTimeout(r, 100));
  await new RedisJobQueue(client, { prefix: "test-blocking" }).enqueue("later", {});
  expect((await pending)?.name).toBe("later");
  await queue.close();
});
