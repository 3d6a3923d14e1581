import { fileURLToPath } from "node:url";
import { RedisJobQueue } from "@svc-jobs/redis";
import { type RedisServer, startRedis, uniquePrefix } from "@svc-jobs/test-servers";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startWorkerProcess, until, type WorkerProcess } from "./helpers/worker-process.js";

// docs/contract.md, "Flow control", across OS processes on a real redis-server: three
// `svc-jobs run` workers share one queue's rate limit and group limits, stored in Redis.
// The limits are checked from the handlers' own timestamps (fixtures/flow-handler.mjs),
// taken in three processes: no span of perSeconds holds more than max starts, and no
// group ever runs more than its concurrency at once. Real time; nothing here times speed.

const HANDLER = fileURLToPath(new URL("./fixtures/flow-handler.mjs", import.meta.url));

let server: RedisServer;
let client: Redis;
const workers = new Set<WorkerProcess>();

beforeAll(async () => {
  server = await startRedis();
  client = new Redis(server.url, { maxRetriesPerRequest: 3 });
  client.on("error", () => {});
});

afterEach(async () => {
  await Promise.all([...workers].map((worker) => worker.stop("SIGKILL")));
});

afterAll(async () => {
  client?.disconnect();
  await server?.stop();
});

interface Run {
  id: string;
  group: string | null;
  start: number;
  end: number;
  pid: number;
}

function startWorkers(prefix: string, count: number, concurrency: number): WorkerProcess[] {
  return Array.from({ length: count }, () =>
    startWorkerProcess({
      handlers: HANDLER,
      prefix,
      redisUrl: server.url,
      concurrency,
      visibilityTimeoutSeconds: 30,
      env: { FLOW_REDIS_URL: server.url, FLOW_PREFIX: prefix },
      registry: workers,
    }),
  );
}

async function runs(prefix: string): Promise<Run[]> {
  const lines = await client.lrange(`${prefix}:flow:runs`, 0, -1);
  return lines.map((line) => JSON.parse(line) as Run);
}

/** The most starts in any span of `windowMs` (each span [t, t + windowMs) from a start t). */
function mostStartsInWindow(starts: number[], windowMs: number): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let most = 0;
  let j = 0;
  for (let i = 0; i < sorted.length; i++) {
    while (sorted[j]! < sorted[i]! - windowMs + 1) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/** The most jobs of one group whose handler intervals overlap at one instant. */
function mostAtOnce(group: Run[]): number {
  const edges = group.flatMap((r) => [
    { t: r.start, d: 1 },
    { t: r.end, d: -1 },
  ]);
  // At equal times an end comes first: a job that ended at t and one that began at t did
  // not run together.
  edges.sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let most = 0;
  for (const e of edges) {
    now += e.d;
    most = Math.max(most, now);
  }
  return most;
}

describe("flow control across three worker processes", () => {
  it("the queue's rate limit holds in every sliding window, over all three processes", async () => {
    const prefix = uniquePrefix("flow-rate");
    const queue = new RedisJobQueue(client, { prefix });
    const max = 6;
    const perSeconds = 0.5;
    await queue.setRateLimit({ max, perSeconds });
    // The workers are up and idle first, so the first window's starts are not spread by
    // three processes booting on the same CPUs.
    const procs = startWorkers(prefix, 3, 4);
    await Promise.all(procs.map((w) => w.started));
    const jobs = 42;
    // The queue's own record of each start: the `reserved` events, stamped by Redis's clock.
    const reserved = new Map<string, number>();
    const listening = new AbortController();
    const collected = (async () => {
      for await (const event of queue.events({ signal: listening.signal })) {
        if (event.type === "reserved") reserved.set(event.jobId, event.at.getTime());
        if (reserved.size === jobs) break;
      }
    })();
    await queue.enqueueMany(
      Array.from({ length: jobs }, (_, i) => ({ name: "tick", payload: { i } })),
    );
    await until(
      async () => (await client.llen(`${prefix}:flow:runs`)) === jobs,
      30_000,
      () => procs.map((w) => w.output()).join("\n"),
    );
    await Promise.race([collected, new Promise((r) => setTimeout(r, 5_000))]);
    listening.abort();
    const all = await runs(prefix);
    expect(new Set(all.map((r) => r.id)).size).toBe(jobs);
    // Work was spread over the processes, so the limit was shared, not one process's.
    expect(new Set(all.map((r) => r.pid)).size).toBeGreaterThan(1);
    const windowMs = perSeconds * 1000;
    // By the queue's clock: never more than max reservations in any window.
    expect(reserved.size).toBe(jobs);
    expect(mostStartsInWindow([...reserved.values()], windowMs)).toBeLessThanOrEqual(max);
    // By the handlers' own timestamps, taken in three processes: the same, less the spread of
    // the time each process took from its reservation to its handler's first statement (on a
    // quiet machine a few ms, inside the window's guard; a process the OS stalls for 400 ms
    // starts its handlers that much later, which no queue can prevent).
    const lags = all.map((r) => r.start - (reserved.get(r.id) as number));
    const spread = Math.max(...lags) - Math.min(...lags);
    console.log(`flow-rate: reservation-to-handler lag spread ${spread} ms`);
    const starts = all.map((r) => r.start);
    expect(mostStartsInWindow(starts, Math.max(1, windowMs - spread))).toBeLessThanOrEqual(max);
    // The limit was what held the workers back: 12 concurrent slots would have run the
    // 42 jobs of 30 ms in about 0.1 s; at 6 per 0.5 s they need at least 3 s.
    const span = Math.max(...starts) - Math.min(...starts);
    expect(span).toBeGreaterThanOrEqual(((jobs - max) / max) * perSeconds * 1000 - 50);
    await queue.close();
  }, 60_000);

  it("group concurrency holds across processes, and a flooding group does not hold back the others", async () => {
    const prefix = uniquePrefix("flow-groups");
    const queue = new RedisJobQueue(client, { prefix });
    await queue.setGroupLimits({ concurrency: 2 });
    await queue.setGroupLimits({ concurrency: 1 }, { group: "solo" });
    // One group floods first, then light groups trickle in behind it.
    await queue.enqueueMany(
      Array.from({ length: 60 }, (_, i) => ({
        name: "work",
        payload: { group: "flood", i },
        opts: { group: "flood" },
      })),
    );
    const light = ["a", "b", "c", "solo"];
    await queue.enqueueMany(
      light.flatMap((group) =>
        Array.from({ length: 4 }, (_, i) => ({
          name: "work",
          payload: { group, i },
          opts: { group },
        })),
      ),
    );
    const procs = startWorkers(prefix, 3, 4);
    await Promise.all(procs.map((w) => w.started));
    const total = 60 + light.length * 4;
    await until(
      async () => (await client.llen(`${prefix}:flow:runs`)) === total,
      30_000,
      () => procs.map((w) => w.output()).join("\n"),
    );
    const all = await runs(prefix);
    expect(new Set(all.map((r) => r.id)).size).toBe(total);
    const byGroup = new Map<string, Run[]>();
    for (const run of all)
      byGroup.set(run.group ?? "", [...(byGroup.get(run.group ?? "") ?? []), run]);
    expect(mostAtOnce(byGroup.get("flood")!)).toBeLessThanOrEqual(2);
    expect(mostAtOnce(byGroup.get("solo")!)).toBe(1);
    for (const group of ["a", "b", "c"]) {
      expect(mostAtOnce(byGroup.get(group)!)).toBeLessThanOrEqual(2);
    }
    // Round-robin: the light groups, enqueued behind 60 flood jobs, are all done before
    // the flood is (the flood runs 2 at a time, the light groups beside it).
    const floodEnd = Math.max(...byGroup.get("flood")!.map((r) => r.end));
    for (const group of ["a", "b", "c"]) {
      expect(Math.max(...byGroup.get(group)!.map((r) => r.end))).toBeLessThan(floodEnd);
    }
    await queue.close();
  }, 60_000);

  it("a handler's RateLimitError returns the job without charging an attempt and holds its group", async () => {
    const prefix = uniquePrefix("flow-429");
    const queue = new RedisJobQueue(client, { prefix });
    const job = await queue.enqueue(
      "work",
      { group: "api", limited: 3 },
      { group: "api", maxAttempts: 2 },
    );
    const procs = startWorkers(prefix, 2, 2);
    await Promise.all(procs.map((w) => w.started));
    await until(
      async () => (await client.llen(`${prefix}:flow:runs`)) === 1,
      20_000,
      () => procs.map((w) => w.output()).join("\n"),
    );
    const limited = (await client.lrange(`${prefix}:flow:limited`, 0, -1)).map(
      (line) => JSON.parse(line) as { attempts: number; at: number },
    );
    // Three 429s with maxAttempts 2, and still not dead: no attempt was charged.
    expect(limited.map((l) => l.attempts)).toEqual([1, 1, 1]);
    // Each retry came after the group's hold of 0.3 s.
    for (let i = 1; i < limited.length; i++) {
      expect(limited[i]!.at - limited[i - 1]!.at).toBeGreaterThanOrEqual(290);
    }
    const [run] = await runs(prefix);
    expect(run!.id).toBe(job.id);
    expect((await queue.stats()).dlq).toBe(0);
    await queue.close();
  }, 60_000);
});
