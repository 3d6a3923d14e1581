/**
 * One measurement in a fresh process. The parent (run.ts) starts it as
 *   node --conditions=@svc-jobs/source --import tsx src/scenario.ts <json spec>
 * and reads one JSON line from stdout. Worker scenarios print `ready` first and
 * wait for `go` on stdin, so several worker processes start together.
 */
import { createInterface } from "node:readline";
import { Redis } from "ioredis";
import {
  type LibAdapter,
  type LibName,
  openLib,
  type Payload,
  type SvcJobsFeatures,
  type Target,
} from "./libs.js";
import { percentile } from "./stats.js";

export interface ScenarioSpec {
  kind:
    | "rtt"
    | "enqueue-one"
    | "enqueue-bulk"
    | "fill"
    | "work"
    | "latency"
    | "inflight"
    | "reserve"
    | "fairness";
  lib: LibName;
  target: Target;
  queue: string;
  n: number;
  concurrency?: number;
  /** Jobs per second the latency producer sends. */
  rate?: number;
  /** fill: bulk calls in flight at once (default 1). */
  parallel?: number;
  /** inflight: acks timed, and the order jobs are completed in. */
  acks?: number;
  order?: "oldest" | "random";
  /** svc-jobs only: priorities, retention, events, handler result (the "features" rows). */
  features?: SvcJobsFeatures;
  /** fill (svc-jobs only): every job's payload group `g`, enqueued as its `group`. */
  group?: string;
  /**
   * fairness: light jobs go to groups `light0` to `light{lightGroups - 1}` in turn, `n` of
   * them at `rate` jobs/s in all; `flood` jobs of group `flood` were enqueued before (0: the
   * light groups alone).
   */
  lightGroups?: number;
  flood?: number;
}

const now = () => performance.timeOrigin + performance.now();
const BULK = 1000;

function payload(n: number, g?: string): Payload {
  return g === undefined ? { to: "user@example.com", n } : { to: "user@example.com", n, g };
}

function out(result: object): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** The feature rows' checks, untimed (after the timing ends): see {@link LibAdapter.inspect}. */
async function inspect(spec: ScenarioSpec, lib: LibAdapter): Promise<Record<string, number>> {
  if (!spec.features || !lib.inspect) return {};
  return lib.inspect();
}

function waitForGo(): Promise<void> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin });
    rl.on("line", (line) => {
      if (line.trim() === "go") {
        rl.close();
        resolve();
      }
    });
  });
}

async function main(spec: ScenarioSpec): Promise<void> {
  if (spec.kind === "rtt") {
    // The floor of a single enqueue: awaited round trips on one ioredis connection.
    const client = new Redis(spec.target.url as string);
    await client.ping();
    const t0 = now();
    for (let i = 0; i < spec.n; i++) await client.ping();
    const ms = now() - t0;
    client.disconnect();
    out({ jobsPerSec: (spec.n / ms) * 1000, ms });
    return;
  }
  const lib = await openLib(spec.lib, spec.target, spec.queue, spec.features);
  try {
    switch (spec.kind) {
      case "enqueue-one": {
        await lib.enqueueOne(payload(-1)); // connect and load scripts outside the timing
        const t0 = now();
        for (let i = 0; i < spec.n; i++) await lib.enqueueOne(payload(i));
        const ms = now() - t0;
        out({ jobsPerSec: (spec.n / ms) * 1000, ms });
        break;
      }
      case "enqueue-bulk":
      case "fill": {
        if (spec.kind === "enqueue-bulk") await lib.enqueueOne(payload(-1));
        const t0 = now();
        const parallel = spec.parallel ?? 1;
        let next = 0;
        const filler = async () => {
          while (next < spec.n) {
            const i = next;
            next += BULK;
            const batch: Payload[] = [];
            for (let j = i; j < Math.min(spec.n, i + BULK); j++) batch.push(payload(j, spec.group));
            await lib.enqueueBulk(batch);
          }
        };
        await Promise.all(Array.from({ length: parallel }, filler));
        const ms = now() - t0;
        out({ jobsPerSec: (spec.n / ms) * 1000, ms, ...(await inspect(spec, lib)) });
        break;
      }
      case "work": {
        let peakRss = process.memoryUsage.rss();
        const sampler = setInterval(() => {
          peakRss = Math.max(peakRss, process.memoryUsage.rss());
        }, 10);
        let processed = 0;
        let lastDone = 0;
        let finish!: () => void;
        const finished = new Promise<void>((resolve) => {
          finish = resolve;
        });
        out({ ready: true });
        await waitForGo();
        const start = now();
        await lib.startWorker(spec.concurrency ?? 1, () => {
          processed++;
          lastDone = now();
          if (processed >= spec.n) finish();
        });
        // Several processes share the queue: stop when it is empty.
        const poll = setInterval(() => {
          lib.remaining().then(
            (left) => {
              // A library may remove the last job just before it reports it done.
              if (left === 0) setTimeout(finish, 100);
            },
            () => {},
          );
        }, 25);
        await finished;
        clearInterval(poll);
        clearInterval(sampler);
        peakRss = Math.max(peakRss, process.memoryUsage.rss());
        out({
          start,
          lastDone,
          processed,
          peakRssMb: peakRss / 1024 / 1024,
          ...(await inspect(spec, lib)),
        });
        break;
      }
      case "inflight": {
        // N jobs in flight (reserved untimed, the fastest way each library has), then
        // `acks` awaited acks, oldest first or in random order.
        const reserve = await lib.prepareHold(spec.n, false);
        const held = await reserve();
        const acks = Math.min(spec.acks ?? 2000, held.length);
        let picked = held.slice(0, acks);
        if (spec.order === "random") {
          const copy = held.slice();
          for (let i = copy.length - 1; i > 0; i--) {
            const j = Math.floor(Math.random() * (i + 1));
            [copy[i], copy[j]] = [
              copy[j] as (typeof copy)[number],
              copy[i] as (typeof copy)[number],
            ];
          }
          picked = copy.slice(0, acks);
        }
        const t0 = now();
        for (const job of picked) await job.ack();
        const ms = now() - t0;
        out({ acksPerSec: (acks / ms) * 1000, ms, inFlight: held.length });
        break;
      }
      case "reserve": {
        // One job reserved first (untimed: connects, loads scripts), then `n` reserves, one
        // awaited call at a time, held in flight.
        await (await lib.prepareHold(1, true))();
        const reserve = await lib.prepareHold(spec.n, true);
        const t0 = now();
        const held = await reserve();
        const ms = now() - t0;
        out({ reservesPerSec: (held.length / ms) * 1000, ms });
        break;
      }
      case "latency": {
        const rate = spec.rate ?? 500;
        const latencies: number[] = [];
        let finish!: () => void;
        const finished = new Promise<void>((resolve) => {
          finish = resolve;
        });
        let done = 0;
        await lib.startWorker(
          spec.concurrency ?? 10,
          () => {
            if (++done > spec.n) finish();
          },
          (p) => {
            if (p.t !== undefined) latencies.push(now() - p.t);
          },
        );
        await lib.enqueueOne(payload(-1)); // warm the producer's connection
        await new Promise((r) => setTimeout(r, 200));
        const t0 = now();
        for (let i = 0; i < spec.n; i++) {
          const due = t0 + (i * 1000) / rate;
          const wait = due - now();
          if (wait > 1) await new Promise((r) => setTimeout(r, wait));
          await lib.enqueueOne({ ...payload(i), t: now() });
        }
        await finished;
        latencies.sort((a, b) => a - b);
        out({
          p50: percentile(latencies, 0.5),
          p99: percentile(latencies, 0.99),
          max: latencies[latencies.length - 1],
        });
        break;
      }
      case "fairness": {
        // Pickup latency of light groups' jobs (enqueue call to handler start), sent at a
        // steady rate by a producer in the worker's process, while group "flood" has a
        // backlog (enqueued before, untimed) whose handlers take `slowGroup.ms` each.
        const rate = spec.rate ?? 450;
        const groups = spec.lightGroups ?? 9;
        const latencies: number[] = [];
        let floodStarted = 0;
        let floodAtStart = -1;
        let finish!: () => void;
        const finished = new Promise<void>((resolve) => {
          finish = resolve;
        });
        await lib.startWorker(
          spec.concurrency ?? 10,
          () => {},
          (p) => {
            if (p.g === "flood") floodStarted++;
            else if (p.t !== undefined) {
              latencies.push(now() - p.t);
              if (latencies.length >= spec.n) finish();
            }
          },
        );
        await lib.enqueueOne(payload(-1, "light0")); // warm the producer's connection
        await new Promise((r) => setTimeout(r, 200));
        floodAtStart = floodStarted;
        const t0 = now();
        for (let i = 0; i < spec.n; i++) {
          const due = t0 + (i * 1000) / rate;
          const wait = due - now();
          if (wait > 1) await new Promise((r) => setTimeout(r, wait));
          await lib.enqueueOne({ ...payload(i, `light${i % groups}`), t: now() });
        }
        await finished;
        const ms = now() - t0;
        // The flood must outlast the measurement: its jobs still waiting at the end.
        const left = await lib.remaining();
        const checks = await lib.inspect?.();
        latencies.sort((a, b) => a - b);
        out({
          p50: percentile(latencies, 0.5),
          p99: percentile(latencies, 0.99),
          max: latencies[latencies.length - 1],
          light: latencies.length,
          ms,
          floodPerSec: ((floodStarted - floodAtStart) / ms) * 1000,
          floodLeft: left,
          groupConcurrency: checks?.groupConcurrency ?? 0,
          maxGroupRunning: checks?.maxGroupRunning ?? 0,
        });
        break;
      }
    }
  } finally {
    await lib.close();
  }
}

const spec = JSON.parse(process.argv[2] ?? "{}") as ScenarioSpec;
main(spec).then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error?.stack ?? error}\n`);
    process.exit(1);
  },
);
