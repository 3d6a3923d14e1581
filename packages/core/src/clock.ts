/**
 * The source of time for queues and schedulers. Injected so tests can drive time
 * deterministically instead of sleeping.
 */
export interface Clock {
  /** Current time in epoch milliseconds. */
  now(): number;
}

/** The default clock: reads `Date.now()`. */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });
