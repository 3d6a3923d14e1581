import type { QueueStats } from "../job-queue.js";

/**
 * What `stats()` of a queue should say: every count 0 and not paused, except what `counts`
 * gives. For the backends' own tests as much as for the suite's cases.
 *
 * @example
 * ```ts
 * expect(await queue.stats()).toEqual(expectedStats({ ready: 2, dlq: 1 }));
 * ```
 */
export function expectedStats(counts: Partial<QueueStats> = {}): QueueStats {
  return {
    ready: 0,
    delayed: 0,
    processing: 0,
    dlq: 0,
    completed: 0,
    cancelled: 0,
    paused: false,
    ...counts,
  };
}
