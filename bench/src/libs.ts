import type BeeQueueType from "bee-queue";
import type { Worker as BullWorkerType } from "bullmq";
import type { Cluster, Redis } from "ioredis";

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

/** A no-op job's payload: small JSON, like a typical "send an email" job. */
export type Payload = { to: string; n: number; t?: number };

/** What a scenario needs from a library, the same for all three. */
export interface LibAdapter {
  enqueueOne(payload: Payload): Promise<void>;
  enqueueBulk(payloads: Payload[]): Promise<void>;
  /** Starts a worker with a no-op handler; `onDone` runs once per job after it is acked. */
  startWorker(
    concurrency: number,
    onDone: (payload: Payload) => void,
    onStart?: (payload: Payload) => void,
  ): Promise<void>;
  /** Jobs waiting, delayed or active. */
  remaining(): Promise<number>;
  close(): Promise<void>;
}

function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

/** Opens a library on a queue. `queue` is the queue name (its hash tag on a cluster). */
export async function openLib(lib: LibName, target: Target, queue: string): Promise<LibAdapter> {
  if (lib === "svc-jobs") return openSvcJobs(target, queue);
  if (lib === "bullmq") return openBullmq(target, queue);
  return openBee(target, queue);
}

async function openSvcJobs(target: Target, name: string): Promise<LibAdapter> {
  const { WorkerRunner } = await import("@svc-jobs/core");
  const { RedisJobQueue } = await import("@svc-jobs/redis");
  const { Cluster, Redis } = await import("ioredis");
  const client: Redis | Cluster = target.cluster
    ? new Cluster(target.cluster)
    : new Redis(target.url as string);
  const queue = new RedisJobQueue(client, { prefix: name });
  let runner: InstanceType<typeof WorkerRunner> | undefined;
  return {
    async enqueueOne(payload) {
      await queue.enqueue("noop", payload);
    },
    async enqueueBulk(payloads) {
      await queue.enqueueMany(payloads.map((payload) => ({ name: "noop", payload })));
    },
    async startWorker(concurrency, onDone, onStart) {
      const handler = onStart
        ? async (job: { payload: unknown }) => onStart(job.payload as Payload)
        : async () => {};
      runner = new WorkerRunner(queue, handler, {
        concurrency,
        onJobSettled: (outcome) => onDone(outcome.job.payload as Payload),
      });
      void runner.start();
    },
    async remaining() {
      const s = await queue.stats();
      return s.ready + s.delayed + s.processing;
    },
    async close() {
      await runner?.stop({ graceSeconds: 5 });
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
    async remaining() {
      const c = await queue.getJobCounts("wait", "active", "delayed", "prioritized");
      return Object.values(c).reduce((a, b) => a + b, 0);
    },
    async close() {
      await worker?.close();
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
    async remaining() {
      const h = await producer.checkHealth();
      return h.waiting + h.active + h.delayed;
    },
    async close() {
      await worker?.close(5000);
      await producer.close(5000);
    },
  };
}
