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
import {
  batchOf,
  deferred,
  now,
  out,
  runScenario,
  sendAtRate,
  sleep,
  timedLoop,
} from "./measure.js";
import { latencySummary } from "./stats.js";

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

function payload(n: number, g?: string): Payload {
  return g === undefined ? { to: "user@example.com", n } : { to: "user@example.com", n, g };
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
        const { ms } = await timedLoop(spec.n, (i) => lib.enqueueOne(payload(i)));
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
            const batch = batchOf(i, spec.n, (j) => payload(j, spec.group));
            next += batch.length;
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
        const finished = deferred();
        out({ ready: true });
        await waitForGo();
        const start = now();
        await lib.startWorker(spec.concurrency ?? 1, () => {
          processed++;
          lastDone = now();
          if (processed >= spec.n) finished.resolve();
        });
        // Several processes share the queue: stop when it is empty.
        const poll = setInterval(() => {
          lib.remaining().then(
            (left) => {
              // A library may remove the last job just before it reports it done.
              if (left === 0) setTimeout(finished.resolve, 100);
            },
            () => {},
          );
        }, 25);
        await finished.promise;
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
        const finished = deferred();
        let done = 0;
        await lib.startWorker(
          spec.concurrency ?? 10,
          () => {
            if (++done > spec.n) finished.resolve();
          },
          (p) => {
            if (p.t !== undefined) latencies.push(now() - p.t);
          },
        );
        await lib.enqueueOne(payload(-1)); // warm the producer's connection
        await sleep(200);
        await sendAtRate(spec.n, rate, (i) => lib.enqueueOne({ ...payload(i), t: now() }));
        await finished.promise;
        out(latencySummary(latencies));
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
        const finished = deferred();
        await lib.startWorker(
          spec.concurrency ?? 10,
          () => {},
          (p) => {
            if (p.g === "flood") floodStarted++;
            else if (p.t !== undefined) {
              latencies.push(now() - p.t);
              if (latencies.length >= spec.n) finished.resolve();
            }
          },
        );
        await lib.enqueueOne(payload(-1, "light0")); // warm the producer's connection
        await sleep(200);
        floodAtStart = floodStarted;
        const t0 = await sendAtRate(spec.n, rate, (i) =>
          lib.enqueueOne({ ...payload(i, `light${i % groups}`), t: now() }),
        );
        await finished.promise;
        const ms = now() - t0;
        // The flood must outlast the measurement: its jobs still waiting at the end.
        const left = await lib.remaining();
        const checks = await lib.inspect?.();
        out({
          ...latencySummary(latencies),
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

runScenario(main);
