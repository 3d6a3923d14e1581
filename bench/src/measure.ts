/**
 * What the measured processes (scenario.ts for Redis, sql-scenario.ts for SQL) share: the
 * clock, the result line, the timed loops, and the start of the process. Bundled into each
 * scenario; it imports nothing, so it loads no library.
 */

/** Milliseconds since the epoch, sub-ms precision (comparable across processes). */
export const now = () => performance.timeOrigin + performance.now();

/** Jobs per bulk call (fill and enqueue-bulk). */
export const BULK = 1000;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The result: one JSON line on stdout (the parent reads the last one). */
export function out(result: object): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** A promise and the function that resolves it (a scenario's "finished"). */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** The payloads of the bulk call that starts at job `from`: up to BULK of them, at most to job `n`. */
export function batchOf<P>(from: number, n: number, make: (j: number) => P): P[] {
  const batch: P[] = [];
  for (let j = from; j < Math.min(n, from + BULK); j++) batch.push(make(j));
  return batch;
}

/**
 * Awaits `step(i)` for i = 0 to n - 1, one call at a time, stopping early once `limitMs` has
 * passed (checked before each call; without a limit, no check). Returns the calls made and
 * the time they took.
 */
export async function timedLoop(
  n: number,
  step: (i: number) => Promise<void>,
  limitMs?: number,
): Promise<{ done: number; ms: number }> {
  const t0 = now();
  let i = 0;
  if (limitMs === undefined) for (; i < n; i++) await step(i);
  else while (i < n && now() - t0 < limitMs) await step(i++);
  return { done: i, ms: now() - t0 };
}

/**
 * The latency producer: `send(i)` for i = 0 to n - 1 at `rate` per second (call i is due
 * i / rate seconds after the start; a timer waits when it is more than 1 ms ahead), each
 * awaited. Returns the start time.
 */
export async function sendAtRate(
  n: number,
  rate: number,
  send: (i: number) => Promise<void>,
): Promise<number> {
  const t0 = now();
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - now();
    if (wait > 1) await sleep(wait);
    await send(i);
  }
  return t0;
}

/** Runs a scenario on the spec given as JSON in argv[2]; exits 0, or 1 with the error on stderr. */
export function runScenario<S>(main: (spec: S) => Promise<void>): void {
  const spec = JSON.parse(process.argv[2] ?? "{}") as S;
  main(spec).then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`${error?.stack ?? error}\n`);
      process.exit(1);
    },
  );
}
