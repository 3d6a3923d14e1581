// Throughput of RedisJobQueue alone, in one process, on a local redis-server it starts
// itself: a quick check of the Redis backend while working on it (run.ts compares
// libraries). Not a test: it prints a table and gates nothing.
// Run: pnpm --filter @svc-jobs/bench bench:redis   (BENCH_SCALE=0.2 for a quick run)
import { execFileSync } from "node:child_process";
import { WorkerRunner } from "@svc-jobs/core";
import { RedisJobQueue } from "@svc-jobs/redis";
import { startRedis, uniquePrefix } from "@svc-jobs/test-servers";
import { Redis } from "ioredis";

const scale = Number(process.env.BENCH_SCALE ?? 1);
const n = (count: number) => Math.max(100, Math.round(count * scale));

const server = await startRedis();
// Redis on one CPU, this process on another, when the machine has two: otherwise they
// fight over a core and the figures swing 2-3x (see TOOLCHAIN.md).
try {
  execFileSync("taskset", ["-cp", "0", String(server.pid)], { stdio: "ignore" });
  execFileSync("taskset", ["-cp", "1", String(process.pid)], { stdio: "ignore" });
} catch {
  // No taskset or one CPU: run unpinned.
}
const client = new Redis(server.url);
const payload = { to: "user@example.com", subject: "hello", n: 1 };

const rows: { case: string; jobs: number; seconds: number }[] = [];

async function measure(name: string, jobs: number, run: () => Promise<void>): Promise<void> {
  const started = performance.now();
  await run();
  rows.push({ case: name, jobs, seconds: (performance.now() - started) / 1000 });
}

const fresh = () => new RedisJobQueue(client, { prefix: uniquePrefix("bench") });

async function filled(count: number): Promise<RedisJobQueue> {
  const queue = fresh();
  for (let i = 0; i < count; i += 1000) {
    await queue.enqueueMany(
      Array.from({ length: Math.min(1000, count - i) }, () => ({ name: "bench", payload })),
    );
  }
  return queue;
}

async function drainWithRunner(queue: RedisJobQueue, jobs: number, concurrency: number) {
  const runner = new WorkerRunner(queue, async () => {}, { concurrency, maxJobs: jobs });
  await runner.start();
}

// Warm up: scripts loaded, JIT warm.
await drainWithRunner(await filled(2000), 2000, 10);

{
  const queue = fresh();
  const jobs = n(10_000);
  await measure("enqueue, one at a time (awaited)", jobs, async () => {
    for (let i = 0; i < jobs; i++) await queue.enqueue("bench", payload);
  });
}
{
  const queue = fresh();
  const jobs = n(50_000);
  await measure("enqueue, 50 in flight (pipelined)", jobs, async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next++ < jobs) await queue.enqueue("bench", payload);
      }),
    );
  });
}
{
  const queue = fresh();
  const jobs = n(200_000);
  await measure("enqueueMany, batches of 1000", jobs, async () => {
    for (let i = 0; i < jobs; i += 1000) {
      await queue.enqueueMany(Array.from({ length: 1000 }, () => ({ name: "bench", payload })));
    }
  });
}
for (const concurrency of [1, 50]) {
  const jobs = n(concurrency === 1 ? 10_000 : 50_000);
  const queue = await filled(jobs);
  await measure(`reserve+ack, WorkerRunner concurrency ${concurrency}`, jobs, () =>
    drainWithRunner(queue, jobs, concurrency),
  );
  const stats = await queue.stats();
  if (stats.ready + stats.processing !== 0)
    throw new Error(`not drained: ${JSON.stringify(stats)}`);
}
{
  const jobs = n(50_000);
  const queue = await filled(jobs);
  await measure("reserveMany(50) + 50 acks in flight", jobs, async () => {
    for (;;) {
      const batch = await queue.reserveMany(50);
      if (batch.length === 0) break;
      await Promise.all(batch.map((job) => queue.ack(job)));
    }
  });
}

console.log(`\nRedisJobQueue on redis-server ${server.url} (${process.version})\n`);
console.log("| case | jobs | seconds | jobs/s |");
console.log("|---|---:|---:|---:|");
for (const r of rows) {
  console.log(
    `| ${r.case} | ${r.jobs} | ${r.seconds.toFixed(2)} | ${Math.round(r.jobs / r.seconds).toLocaleString("en-US")} |`,
  );
}

await client.quit();
await server.stop();
