/**
 * One SQL measurement (issue 18) in a fresh process: run by sql-run.ts as
 *   node .build/sql-scenario.mjs <json spec>
 * It prints one JSON line on stdout. Every timed part stops after `n` jobs or `seconds`,
 * whichever comes first, so a slow library costs a bounded time and still gets a figure.
 */

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
import {
  openSqlLib,
  type SqlAdapter,
  type SqlLibName,
  type SqlPayload,
  type SqlTarget,
} from "./sql-libs.js";
import { latencySummary } from "./stats.js";

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

const payload = (n: number): SqlPayload => ({ to: "user@example.com", n });

async function main(spec: SqlScenarioSpec): Promise<void> {
  const limitMs = (spec.seconds ?? 3600) * 1000;
  const lib = await openSqlLib(spec.lib, spec.target, spec.concurrency ?? 1);
  let producer: SqlAdapter | undefined;
  try {
    switch (spec.kind) {
      case "enqueue-one": {
        await lib.enqueueOne(payload(-1)); // connections and prepared paths, untimed
        const { done, ms } = await timedLoop(spec.n, (i) => lib.enqueueOne(payload(i)), limitMs);
        out({ jobsPerSec: (done / ms) * 1000, jobs: done, ms });
        break;
      }
      case "enqueue-bulk":
      case "fill": {
        if (spec.kind === "enqueue-bulk") await lib.enqueueOne(payload(-1));
        const t0 = now();
        let i = 0;
        while (i < spec.n && (spec.kind === "fill" || now() - t0 < limitMs)) {
          const batch = batchOf(i, spec.n, payload);
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
        const finished = deferred();
        const start = now();
        const timer = setTimeout(() => finished.resolve(), limitMs);
        await lib.startWorker(spec.concurrency ?? 1, () => {
          processed++;
          lastDone = now();
          // The cap is checked here too: with better-sqlite3 (synchronous) a busy worker
          // may run on promise callbacks alone, never letting the timer fire.
          if (processed >= spec.n || lastDone - start >= limitMs) finished.resolve();
        });
        await finished.promise;
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
        const finished = deferred();
        await lib.startWorker(
          spec.concurrency ?? 10,
          () => {},
          (p) => {
            if (p.t === undefined) return;
            latencies.push(now() - p.t);
            if (latencies.length >= spec.n) finished.resolve();
          },
        );
        producer =
          spec.lib === "svc-jobs-sqlite" ? lib : await openSqlLib(spec.lib, spec.target, 1);
        await producer.enqueueOne(payload(-1)); // warm the producer's connection
        await sleep(1000); // the worker idle, waiting
        const p = producer;
        await sendAtRate(spec.n, rate, (i) => p.enqueueOne({ ...payload(i), t: now() }));
        const timer = setTimeout(() => finished.resolve(), 30_000);
        await finished.promise;
        clearTimeout(timer);
        if (latencies.length < spec.n)
          throw new Error(`${spec.lib}: ${latencies.length} of ${spec.n} jobs picked up`);
        out(latencySummary(latencies));
        break;
      }
    }
  } finally {
    if (producer && producer !== lib) await producer.close();
    await lib.close();
  }
}

runScenario(main);
