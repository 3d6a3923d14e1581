/**
 * One measurement in a fresh process. The parent (run.ts) starts it as
 *   node --conditions=@svc-jobs/source --import tsx src/scenario.ts <json spec>
 * and reads one JSON line from stdout. Worker scenarios print `ready` first and
 * wait for `go` on stdin, so several worker processes start together.
 */
import { createInterface } from "node:readline";
import { Redis } from "ioredis";
import { type LibName, openLib, type Payload, type Target } from "./libs.js";
import { percentile } from "./stats.js";

export interface ScenarioSpec {
  kind: "rtt" | "enqueue-one" | "enqueue-bulk" | "fill" | "work" | "latency";
  lib: LibName;
  target: Target;
  queue: string;
  n: number;
  concurrency?: number;
  /** Jobs per second the latency producer sends. */
  rate?: number;
}

const now = () => performance.timeOrigin + performance.now();
const BULK = 1000;

function payload(n: number): Payload {
  return { to: "user@example.com", n };
}

function out(result: object): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
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
  const lib = await openLib(spec.lib, spec.target, spec.queue);
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
        for (let i = 0; i < spec.n; i += BULK) {
          const batch: Payload[] = [];
          for (let j = i; j < Math.min(spec.n, i + BULK); j++) batch.push(payload(j));
          await lib.enqueueBulk(batch);
        }
        const ms = now() - t0;
        out({ jobsPerSec: (spec.n / ms) * 1000, ms });
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
        out({ start, lastDone, processed, peakRssMb: peakRss / 1024 / 1024 });
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
