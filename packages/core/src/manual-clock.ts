import type { Clock } from "./clock.js";
import { JobValidationError } from "./errors.js";

/**
 * A clock that only moves when told to. Use it in tests to step over delays,
 * backoffs and visibility timeouts without sleeping.
 *
 * @example
 * ```ts
 * const clock = new ManualClock();
 * const queue = new InMemoryJobQueue({ clock });
 * await queue.enqueue("later", {}, { delaySeconds: 3600 });
 * clock.advance(3600);
 * await queue.reserveNext(); // the job
 * ```
 */
export class ManualClock implements Clock {
  #now: number;

  /** @param start epoch milliseconds to start at (default: `Date.now()` at construction) */
  constructor(start: number = Date.now()) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Moves time forward by `seconds` (fractions allowed); a negative or non-finite value is a `JobValidationError`. */
  advance(seconds: number): void {
    if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) {
      throw new JobValidationError(
        "seconds",
        `ManualClock.advance: seconds must be a finite number >= 0 (time only moves forward; use set() to jump to a time), got ${String(seconds)}`,
      );
    }
    this.#now += seconds * 1000;
  }

  /** Sets the time to an absolute epoch-milliseconds value. */
  set(epochMs: number): void {
    this.#now = epochMs;
  }
}
