import { expect } from "vitest";
import type { JobEvent, JobInfo, JobState } from "../control.js";
import { JobsError, JobValidationError } from "../errors.js";
import type { JobQueue } from "../job-queue.js";

// Helpers of the "Seeing and controlling jobs" cases (docs/contract.md).

/** Resolves after `ms` real milliseconds. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** `promise`, or a rejection naming `what` after `ms` real milliseconds. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `call` and checks it threw (or rejected with) a `JobValidationError` whose field
 * matches `field`, with a message worth reading. Returns the error.
 */
export async function expectValidationError(
  call: () => unknown,
  field: RegExp,
): Promise<JobValidationError> {
  let error: unknown;
  try {
    await call();
  } catch (e) {
    error = e;
  }
  expect(error, "expected a JobValidationError").toBeInstanceOf(JobValidationError);
  expect(error).toBeInstanceOf(JobsError);
  const e = error as JobValidationError;
  expect(e.field).toMatch(field);
  expect(e.message.length).toBeGreaterThan(20);
  return e;
}

/** Every job of `state` (and `name`), page by page; `between` runs after each page. */
export async function listAll(
  queue: JobQueue,
  state: JobState,
  opts: { name?: string; limit?: number; between?: (page: number) => Promise<void> } = {},
): Promise<{ jobs: JobInfo[]; pages: number }> {
  const jobs: JobInfo[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await queue.listJobs({
      state,
      ...(opts.name === undefined ? {} : { name: opts.name }),
      ...(opts.limit === undefined ? {} : { limit: opts.limit }),
      cursor,
    });
    pages++;
    expect(page.jobs.length).toBeLessThanOrEqual(opts.limit ?? 50);
    jobs.push(...page.jobs);
    cursor = page.cursor;
    if (cursor !== null) await opts.between?.(pages);
    if (pages > 10_000) throw new Error("listJobs never returned a null cursor");
  } while (cursor !== null);
  return { jobs, pages };
}

/** The ids of `listJobs` over every page. */
export async function idsOf(
  queue: JobQueue,
  state: JobState,
  opts: { name?: string; limit?: number } = {},
): Promise<string[]> {
  return (await listAll(queue, state, opts)).jobs.map((j) => j.id);
}

/** A running event listener: the events it got, in order. */
export interface Listener {
  /** The next `n` events (waits up to 5 s of real time for them). */
  take(n: number): Promise<JobEvent[]>;
  /** Ends the iteration (through the signal); resolves once the iterator is done. */
  stop(): Promise<void>;
  /** Resolves `true` when the iterator ended (without another event) within `ms`. */
  ended(ms?: number): Promise<boolean>;
}

/**
 * Starts iterating `queue.events(opts)` and gives a backend that reads its stream over
 * the network a moment to start, so events caused after `listen` resolves are seen.
 */
export async function listen(
  queue: JobQueue,
  opts: { after?: string; signal?: AbortSignal } = {},
): Promise<Listener> {
  const controller = new AbortController();
  const signal = opts.signal ?? controller.signal;
  const iterator = queue
    .events({ ...(opts.after === undefined ? {} : { after: opts.after }), signal })
    [Symbol.asyncIterator]();
  let pending = iterator.next();
  // Keep a rejection from being unhandled before take() awaits it.
  pending.catch(() => {});
  await sleep(100);
  return {
    async take(n) {
      const out: JobEvent[] = [];
      while (out.length < n) {
        const r = await within(pending, 5000, `event ${out.length + 1} of ${n}`);
        if (r.done) throw new Error(`the event iterator ended after ${out.length} of ${n} events`);
        out.push(r.value);
        pending = iterator.next();
        pending.catch(() => {});
      }
      return out;
    },
    async stop() {
      controller.abort();
      await within(pending, 5000, "the iterator to end").catch(() => undefined);
    },
    async ended(ms = 5000) {
      const r = await within(pending, ms, "the iterator to end");
      return r.done === true;
    },
  };
}

/** The parts of an event a case compares: everything but `id` and `at`. */
export function shape(event: JobEvent): Omit<JobEvent, "id" | "at"> {
  const { id: _id, at: _at, ...rest } = event;
  return rest;
}
