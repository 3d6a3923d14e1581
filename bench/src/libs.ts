import type BeeQueueType from "bee-queue";
import type { Worker as BullWorkerType } from "bullmq";
import type { Cluster, Redis } from "ioredis";
import { spansEnded, startTracing } from "./tracing.js";

// Each library is imported only in the process that measures it, so a worker's RSS holds
// that library alone.

/** The libraries compared, in the order of the table's columns. */
export const LIBS = ["svc-jobs", "bullmq", "bee-queue"] as const;
export type LibName = (typeof LIBS)[number];

/** Where a scenario's Redis is: one node, or the nodes of a cluster. */
export interface Target {
  url?: string;
  cluster?: { host: string; port: number }[];
}

/**
 * A no-op job's payload: small JSON, like a typical "send an email" job. `t`: the send time
 * (pickup latency); `g` (svc-jobs only): the job's group, enqueued as `{ group: g }` and
 * kept in the payload so the handler knows it (the fairness scenario).
 */
export type Payload = { to: string; n: number; t?: number; g?: string };

/**
 * What every adapter has, Redis (below) and SQL (sql-libs.ts), with its own payload `P`:
 * enqueue one job or a bulk call's worth, a worker, and close.
 */
export interface QueueAdapter<P> {
  enqueueOne(payload: P): Promise<void>;
  enqueueBulk(payloads: P[]): Promise<void>;
  /**
   * Starts a worker running up to `concurrency` no-op handlers at once. `onStart` runs at
   * each handler's start, `onDone` once per job when it is done (acked; see each adapter for
   * what done is).
   */
  startWorker(
    concurrency: number,
    onDone: (payload: P) => void,
    onStart?: (payload: P) => void,
  ): Promise<void>;
  close(): Promise<void>;
}

/** What a scenario needs from a library, the same for all three. */
export interface LibAdapter extends QueueAdapter<Payload> {
  /**
   * Manual processing: connects (untimed), then returns `reserve`, which reserves `n`
   * jobs and holds them in flight (reservation/lock/stall interval one hour), in the
   * order they were reserved. `oneAtATime` reserves with one awaited call per job (the
   * timed backlog figure); otherwise the fastest way the library has (untimed set-up of
   * the in-flight figures). Each held job's `ack()` completes it and resolves when the
   * library reports it done.
   */
  prepareHold(n: number, oneAtATime: boolean): Promise<() => Promise<Held[]>>;
  /** Jobs waiting, delayed or active. */
  remaining(): Promise<number>;
  /**
   * svc-jobs only (untimed checks of the feature rows): completed jobs kept, entries in the
   * event stream, priority levels (other than 0) with jobs waiting, whether the next ready
   * job has a group (1) or not (0), the group concurrency limit stored (0: none), and the
   * most handlers of one group seen running at once in this process (0: no groups).
   */
  inspect?(): Promise<{
    completed: number;
    events: number;
    priorityLevels: number;
    readyHasGroup: number;
    groupConcurrency: number;
    maxGroupRunning: number;
    /** Spans ended in this process (0 without `tracing`). */
    spans: number;
    /** 1 when the first ready job carries a trace context. */
    readyHasTrace: number;
  }>;
}

/** One job reserved and held in flight by {@link LibAdapter.prepareHold}. */
export interface Held {
  ack(): Promise<void>;
}

/** How long a held job's reservation, lock or stall interval lasts: longer than any run. */
const HOLD_MS = 3_600_000;

function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

/**
 * svc-jobs's own features, for the rows that measure them (svc-jobs only; the peers are
 * not compared there). Every field left out is svc-jobs's default.
 */
export interface SvcJobsFeatures {
  /** Enqueues with `priority: payload.n % priorityLevels` (levels 0 to priorityLevels - 1). */
  priorityLevels?: number;
  /** The queue option `keepCompleted: { count }` (default: completed jobs are deleted). */
  keepCompleted?: number;
  /** The queue option `events` (default `true`: the capped event stream). */
  events?: boolean;
  /** The handler returns `{ ok: true, n }` (WorkerRunner acks with it as the result). */
  result?: boolean;
  /**
   * Enqueues job n with `group: "g" + (n % groups)` (unless its payload names a group `g`),
   * and counts in the worker the most handlers of one group running at once.
   */
  groups?: number;
  /** Calls `setGroupLimits({ concurrency })` when the queue is opened (before any work). */
  groupConcurrency?: number;
  /** The handler of a job whose payload group `g` is `group` waits `ms` (a timer) first. */
  slowGroup?: { group: string; ms: number };
  /**
   * Registers an OpenTelemetry SDK in the process before the queue is opened (tracing.ts:
   * every span recorded, then dropped), so enqueues and jobs are traced (docs/tracing.md).
   */
  tracing?: boolean;
}

/** Opens a library on a queue. `queue` is the queue name (its hash tag on a cluster). */
export async function openLib(
  lib: LibName,
  target: Target,
  queue: string,
  features?: SvcJobsFeatures,
): Promise<LibAdapter> {
  if (lib === "svc-jobs") return openSvcJobs(target, queue, features ?? {});
  if (features !== undefined)
    throw new Error(`${lib}: the svc-jobs feature rows are svc-jobs only`);
  if (lib === "bullmq") return openBullmq(target, queue);
  return openBee(target, queue);
}

async function openSvcJobs(
  target: Target,
  name: string,
  features: SvcJobsFeatures,
): Promise<LibAdapter> {
  if (features.tracing) await startTracing();
  const { WorkerRunner } = await import("@svc-jobs/core");
  const { RedisJobQueue } = await import("@svc-jobs/redis");
  const { Cluster, Redis } = await import("ioredis");
  const client: Redis | Cluster = target.cluster
    ? new Cluster(target.cluster)
    : new Redis(target.url as string);
  const queue = new RedisJobQueue(client, {
    prefix: name,
    ...(features.keepCompleted !== undefined
      ? { keepCompleted: { count: features.keepCompleted } }
      : {}),
    ...(features.events !== undefined ? { events: features.events } : {}),
  });
  if (features.groupConcurrency !== undefined) {
    await queue.setGroupLimits({ concurrency: features.groupConcurrency });
  }
  const levels = features.priorityLevels;
  const groups = features.groups;
  const groupOf = (p: Payload) => p.g ?? (groups ? `g${p.n % groups}` : undefined);
  const opts = (p: Payload) => {
    const group = groupOf(p);
    if (!levels && group === undefined) return {};
    return {
      opts: {
        ...(levels ? { priority: p.n % levels } : {}),
        ...(group !== undefined ? { group } : {}),
      },
    };
  };
  // Handlers of each group running now, and the most seen at once (the grouped rows' check).
  const running = new Map<string, number>();
  let maxGroupRunning = 0;
  const slow = features.slowGroup;
  let runner: InstanceType<typeof WorkerRunner> | undefined;
  const holders: InstanceType<typeof RedisJobQueue>[] = [];
  return {
    async enqueueOne(payload) {
      await queue.enqueue("noop", payload, opts(payload).opts);
    },
    async enqueueBulk(payloads) {
      await queue.enqueueMany(
        payloads.map((payload) => ({ name: "noop", payload, ...opts(payload) })),
      );
    },
    async startWorker(concurrency, onDone, onStart) {
      const plain = features.result
        ? async (job: { payload: unknown }) => {
            const p = job.payload as Payload;
            onStart?.(p);
            return { ok: true, n: p.n };
          }
        : onStart
          ? async (job: { payload: unknown }) => onStart(job.payload as Payload)
          : async () => {};
      // Grouped or slowed rows only: the plain rows keep the handler above as it was.
      const handler =
        groups === undefined && slow === undefined
          ? plain
          : async (job: { payload: unknown }) => {
              const p = job.payload as Payload;
              const g = groupOf(p);
              if (g === undefined) return plain(job);
              const now = (running.get(g) ?? 0) + 1;
              running.set(g, now);
              if (now > maxGroupRunning) maxGroupRunning = now;
              try {
                const result = await plain(job);
                if (slow && g === slow.group) await new Promise((r) => setTimeout(r, slow.ms));
                return result;
              } finally {
                running.set(g, (running.get(g) ?? 1) - 1);
              }
            };
      runner = new WorkerRunner(queue, handler, {
        concurrency,
        onJobSettled: (outcome) => onDone(outcome.job.payload as Payload),
      });
      void runner.start();
    },
    async prepareHold(n, oneAtATime) {
      const q = new RedisJobQueue(client, {
        prefix: name,
        visibilityTimeoutSeconds: HOLD_MS / 1000,
      });
      holders.push(q);
      return async () => {
        const jobs: Awaited<ReturnType<typeof q.reserveMany>> = [];
        while (jobs.length < n) {
          const got: typeof jobs = oneAtATime
            ? [await q.reserveNext()].filter((j) => j !== null)
            : await q.reserveMany(Math.min(1000, n - jobs.length));
          if (got.length === 0) throw new Error(`svc-jobs: ${jobs.length} of ${n} jobs reserved`);
          jobs.push(...got);
        }
        return jobs.map((job) => ({ ack: () => q.ack(job) }));
      };
    },
    async remaining() {
      const s = await queue.stats();
      return s.ready + s.delayed + s.processing;
    },
    async inspect() {
      const s = await queue.stats();
      return {
        completed: s.completed,
        events: await client.xlen(`${queue.prefix}:events`),
        priorityLevels: await client.zcard(`${queue.prefix}:priorities`),
        readyHasGroup: (await queue.listJobs({ state: "ready", limit: 1 })).jobs.some(
          (j) => j.group != null,
        )
          ? 1
          : 0,
        groupConcurrency: (await queue.getLimits()).groupLimits?.concurrency ?? 0,
        maxGroupRunning,
        spans: spansEnded(),
        readyHasTrace: (await queue.listJobs({ state: "ready", limit: 1 })).jobs.some(
          (j) => j.traceContext !== undefined,
        )
          ? 1
          : 0,
      };
    },
    async close() {
      await runner?.stop({ graceSeconds: 5 });
      for (const h of holders) await h.close();
      await queue.close();
      client.disconnect();
    },
  };
}

async function openBullmq(target: Target, name: string): Promise<LibAdapter> {
  const { Queue: BullQueue, Worker: BullWorker } = await import("bullmq");
  const { Cluster } = await import("ioredis");
  const connection = target.cluster
    ? new Cluster(target.cluster, { redisOptions: { maxRetriesPerRequest: null } })
    : { ...hostPort(target.url as string), maxRetriesPerRequest: null };
  // On a cluster BullMQ needs the hash tag in its prefix so a queue stays in one slot.
  const prefix = target.cluster ? `{${name}}` : "bull";
  const queue = new BullQueue(name, { connection, prefix });
  let worker: BullWorkerType | undefined;
  const holders: BullWorkerType[] = [];
  const removal = { removeOnComplete: true, removeOnFail: true };
  return {
    async enqueueOne(payload) {
      await queue.add("noop", payload, removal);
    },
    async enqueueBulk(payloads) {
      await queue.addBulk(payloads.map((data) => ({ name: "noop", data, opts: removal })));
    },
    async startWorker(concurrency, onDone, onStart) {
      const handler = onStart
        ? async (job: { data: unknown }) => onStart(job.data as Payload)
        : async () => {};
      worker = new BullWorker(name, handler, { connection, prefix, concurrency });
      worker.on("completed", (job) => onDone(job.data as Payload));
      worker.on("error", () => {});
    },
    async prepareHold(n, oneAtATime) {
      // The documented manual processing: a Worker without a processor, getNextJob(token)
      // to reserve (it takes the job's lock), job.moveToCompleted(result, token, false).
      const w = new BullWorker(name, null, {
        connection,
        prefix,
        autorun: false,
        lockDuration: HOLD_MS,
      });
      holders.push(w);
      w.on("error", () => {});
      await w.waitUntilReady();
      const token = "bench";
      return async () => {
        const jobs: Awaited<ReturnType<typeof w.getNextJob>>[] = [];
        // Untimed set-up: 20 calls at a time (ioredis keeps them in order on one connection).
        const parallel = oneAtATime ? 1 : 20;
        while (jobs.length < n) {
          const k = Math.min(parallel, n - jobs.length);
          const got = await Promise.all(
            Array.from({ length: k }, () => w.getNextJob(token, { block: false })),
          );
          if (got.some((j) => !j)) throw new Error(`bullmq: ${jobs.length} of ${n} jobs reserved`);
          jobs.push(...got);
        }
        return jobs.map((job) => ({
          ack: async () => {
            await job.moveToCompleted("ok", token, false);
          },
        }));
      };
    },
    async remaining() {
      const c = await queue.getJobCounts("wait", "active", "delayed", "prioritized");
      return Object.values(c).reduce((a, b) => a + b, 0);
    },
    async close() {
      await worker?.close();
      for (const h of holders) await h.close(true);
      await queue.close();
      if (connection instanceof Cluster) connection.disconnect();
    },
  };
}

async function openBee(target: Target, name: string): Promise<LibAdapter> {
  if (target.cluster) throw new Error("Bee-Queue does not support Redis Cluster");
  const BeeQueue = (await import("bee-queue")).default;
  const redis = hostPort(target.url as string);
  // A producer-only queue does not subscribe to job events (it does not wait for results).
  const producer = new BeeQueue<Payload>(name, { redis, isWorker: false, getEvents: false });
  let worker: BeeQueueType<Payload> | undefined;
  const holders: BeeQueueType<Payload>[] = [];
  return {
    async enqueueOne(payload) {
      await producer.createJob(payload).save();
    },
    async enqueueBulk(payloads) {
      const errors = await producer.saveAll(payloads.map((p) => producer.createJob(p)));
      if (errors.size > 0) throw [...errors.values()][0];
    },
    async startWorker(concurrency, onDone, onStart) {
      worker = new BeeQueue<Payload>(name, { redis, removeOnSuccess: true, getEvents: false });
      worker.on("succeeded", (job) => onDone(job.data));
      worker.on("error", () => {});
      worker.process(concurrency, async (job) => {
        onStart?.(job.data);
      });
      await worker.ready();
    },
    async prepareHold(n, oneAtATime) {
      // Bee-Queue has no reserve call: a worker reserves only inside process(concurrency,
      // handler), one job at a time (BRPOPLPUSH waiting -> active, then HGET of the job),
      // and completes a job when its handler's promise settles. process(n) with handlers
      // that return a promise resolved later holds n jobs in flight and completes them in
      // any order. Its reserves are always one at a time, so `oneAtATime` changes nothing.
      void oneAtATime;
      const w = new BeeQueue<Payload>(name, {
        redis,
        removeOnSuccess: true,
        getEvents: false,
        stallInterval: HOLD_MS,
      });
      holders.push(w);
      w.on("error", () => {});
      await w.ready();
      const done = new Map<string, () => void>();
      w.on("succeeded", (job) => done.get(job.id)?.());
      return async () => {
        const held: Held[] = [];
        let all!: () => void;
        const reserved = new Promise<void>((resolve) => {
          all = resolve;
        });
        w.process(n, (job) => {
          const finished = new Promise<void>((resolve) => {
            held.push({
              ack: () =>
                new Promise<void>((acked) => {
                  done.set(job.id, () => {
                    done.delete(job.id);
                    acked();
                  });
                  resolve();
                }),
            });
          });
          if (held.length === n) all();
          return finished;
        });
        await reserved;
        return held;
      };
    },
    async remaining() {
      const h = await producer.checkHealth();
      return h.waiting + h.active + h.delayed;
    },
    async close() {
      await worker?.close(5000);
      // Jobs still held stay in flight: do not wait for them.
      for (const h of holders) await h.close(1).catch(() => {});
      await producer.close(5000);
    },
  };
}
