/**
 * One SQL measurement (issue 18) in a fresh process: run by sql-run.ts as
 *   node .build/sql-scenario.mjs <json spec>
 * It prints one JSON line on stdout. Every timed part stops after `n` jobs or `seconds`,
 * whichever comes first, so a slow library costs a bounded time and still gets a figure.
 */
import {
  openSqlLib,
  type SqlAdapter,
  type SqlLibName,
  type SqlPayload,
  type SqlTarget,
} from "./sql-libs.js";
import { percentile } from "./stats.js";

export interface SqlScenarioSpec {
  kind: "enqueue-one" | "enqueue-bulk" | "fill" | "work" | "latency";
  lib: SqlLibName;
  target: SqlTarget;
  /** Jobs to enqueue, process or send at most. */
  n: number;
  /** The timed part stops after this many seconds at most (not for fill). */
  seconds?: number;
  concurrency?: number;
  /** latency: jobs sent per second. */
  rate?: number;
}

const now = () => performance.timeOrigin + performance.now();
const BULK = 1000;

const payload = (n: number): SqlPayload => ({ to: "user@example.com", n });

function out(result: object): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function main(spec: SqlScenarioSpec): Promise<void> {
  const limitMs = (spec.seconds ?? 3600) * 1000;
  const lib = await openSqlLib(spec.lib, spec.target, spec.concurrency ?? 1);
  let producer: SqlAdapter | undefined;
  try {
    switch (spec.kind) {
      case "enqueue-one": {
        await lib.enqueueOne(payload(-1)); // connections and prepared paths, untimed
        const t0 = now();
        let i = 0;
        while (i < spec.n && now() - t0 < limitMs) await lib.enqueueOne(payload(i++));
        const ms = now() - t0;
        out({ jobsPerSec: (i / ms) * 1000, jobs: i, ms });
        break;
      }
      case "enqueue-bulk":
      case "fill": {
        if (spec.kind === "enqueue-bulk") await lib.enqueueOne(payload(-1));
        const t0 = now();
        let i = 0;
        while (i < spec.n && (spec.kind === "fill" || now() - t0 < limitMs)) {
          const batch: SqlPayload[] = [];
          for (let j = i; j < Math.min(spec.n, i + BULK); j++) batch.push(payload(j));
          await lib.enqueueBulk(batch);
          i += batch.length;
        }
        const ms = now() - t0;
        out({ jobsPerSec: (i / ms) * 1000, jobs: i, ms });
        break;
      }
      case "work": {
        // A backlog of `n` jobs was enqueued before (another process, untimed); the time
        // runs from the worker's start to its last completion, up to `seconds`.
        let processed = 0;
        let lastDone = 0;
        let finish!: () => void;
        const finished = new Promise<void>((resolve) => {
          finish = resolve;
        });
        const start = now();
        const timer = setTimeout(() => finish(), limitMs);
        await lib.startWorker(spec.concurrency ?? 1, () => {
          processed++;
          lastDone = now();
          // The cap is checked here too: with better-sqlite3 (synchronous) a busy worker
          // may run on promise callbacks alone, never letting the timer fire.
          if (processed >= spec.n || lastDone - start >= limitMs) finish();
        });
        await finished;
        clearTimeout(timer);
        if (processed === 0) throw new Error(`${spec.lib}: no job processed in ${spec.seconds} s`);
        out({
          jobsPerSec: (processed / (lastDone - start)) * 1000,
          processed,
          ms: lastDone - start,
          cappedByTime: processed < spec.n ? 1 : 0,
        });
        break;
      }
      case "latency": {
        // An idle worker; a producer in the same process, on its own connections (its own
        // pool and queue object: a wake-up goes through the database, as from another
        // process; SQLite: the same queue object, one connection per file per process),
        // enqueues one job at a time at `rate`/s with the send time in the payload; the
        // handler records `now - sent`.
        const rate = spec.rate ?? 10;
        const latencies: number[] = [];
        let finish!: () => void;
        const finished = new Promise<void>((resolve) => {
          finish = resolve;
        });
        await lib.startWorker(
          spec.concurrency ?? 10,
          () => {},
          (p) => {
            if (p.t === undefined) return;
            latencies.push(now() - p.t);
            if (latencies.length >= spec.n) finish();
          },
        );
        producer =
          spec.lib === "svc-jobs-sqlite" ? lib : await openSqlLib(spec.lib, spec.target, 1);
        await producer.enqueueOne(payload(-1)); // warm the producer's connection
        await new Promise((r) => setTimeout(r, 1000)); // the worker idle, waiting
        const t0 = now();
        for (let i = 0; i < spec.n; i++) {
          const due = t0 + (i * 1000) / rate;
          const wait = due - now();
          if (wait > 1) await new Promise((r) => setTimeout(r, wait));
          await producer.enqueueOne({ ...payload(i), t: now() });
        }
        const timer = setTimeout(() => finish(), 30_000);
        await finished;
        clearTimeout(timer);
        if (latencies.length < spec.n)
          throw new Error(`${spec.lib}: ${latencies.length} of ${spec.n} jobs picked up`);
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
    if (producer && producer !== lib) await producer.close();
    await lib.close();
  }
}

const spec = JSON.parse(process.argv[2] ?? "{}") as SqlScenarioSpec;
main(spec).then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error?.stack ?? error}\n`);
    process.exit(1);
  },
);
