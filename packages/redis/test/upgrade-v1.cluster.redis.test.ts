// The upgrade from layout version 1 (docs/redis-layout.md) on a real 3-master Redis Cluster,
// with a prefix that carries its own {hash tag}: every key the upgrade touches or builds
// (`seq`, the job hashes, `dlq:v1`) lives in the queue's one slot.
import { ManualClock } from "@svc-jobs/core";
import { expectedStats } from "@svc-jobs/core/testing";
import { RedisJobQueue } from "@svc-jobs/redis";
import { clusterFixture } from "@svc-jobs/test-servers/fixtures";
import { Cluster } from "ioredis";
import { expect, it } from "vitest";

const cluster = clusterFixture(Cluster);
const T = Date.UTC(2030, 0, 1);

it("upgrades a version-1 queue under a {hash tag} prefix on a cluster", async () => {
  const p = `app:{${cluster.prefix("upgrade")}}`;
  const c = cluster.client;
  const hash = (id: string, name: string, extra: Record<string, string> = {}) => ({
    id,
    name,
    payload: "{}",
    available_at: String(T),
    attempts: "0",
    max_attempts: "5",
    backoff_seconds: "60",
    last_error: "",
    ...extra,
  });
  await c.set(`${p}:seq`, "4");
  await c.hset(`${p}:job:1`, hash("1", "ready"));
  await c.lpush(`${p}:ready`, "1");
  await c.hset(`${p}:job:2`, hash("2", "later", { available_at: String(T + 5000) }));
  await c.zadd(`${p}:delayed`, T + 5000, "2");
  await c.hset(`${p}:job:3`, hash("3", "dead-old", { attempts: "5", last_error: "a" }));
  await c.hset(`${p}:job:4`, hash("4", "dead-new", { attempts: "5", last_error: "b" }));
  await c.rpush(`${p}:dlq`, "3", "4");

  const clock = new ManualClock(T);
  const queue = new RedisJobQueue(c, { prefix: p, clock });
  expect(queue.prefix).toBe(p);
  expect(await queue.stats()).toEqual(expectedStats({ ready: 1, delayed: 1, dlq: 2 }));
  expect(await c.get(`${p}:layout`)).toBe("2");
  expect(await c.zscore(`${p}:delayed`, "2")).toBe(String(T / 1000 + 5));
  expect(await c.lrange(`${p}:dlq`, 0, -1)).toEqual(["4", "3"]);
  expect((await queue.dlq.list()).map((j) => j.name)).toEqual(["dead-old", "dead-new"]);
  const ready = await queue.reserveNext();
  expect(ready).toMatchObject({ name: "ready", attempts: 1, availableAt: new Date(T) });
  await queue.ack(ready!);
  clock.advance(5);
  expect(await queue.reserveNext()).toMatchObject({ name: "later", attempts: 1 });
});
