import type { Clock } from "../clock.js";
import type { JobQueue } from "../job-queue.js";
import type { ManualClock } from "../manual-clock.js";
import type { QueueOptions } from "../queue-options.js";

/**
 * The queue options a conformance case may ask for (docs/contract.md, "Seeing and
 * controlling jobs"): a backend's `create` spreads them into its constructor.
 */
export type CaseQueueOptions = Pick<QueueOptions, "keepCompleted" | "keepCancelled" | "events">;

/** What the suite passes to a backend's `create`. */
export interface QueueFactoryContext {
  /** The clock the queue must use. Usually a {@link ManualClock} the suite advances. */
  clock: Clock;
  /** Visibility timeout the queue must use, in seconds. */
  visibilityTimeoutSeconds: number;
  /**
   * More queue options the case needs (retention, events); often empty. Spread them
   * into the queue's options: `new MyQueue({ clock, visibilityTimeoutSeconds, ...options })`.
   */
  options: CaseQueueOptions;
  /**
   * When set, the new queue must be a second queue object on the same storage as this
   * one (the same Redis prefix, the same tables), as another process would open it.
   * Only passed when `features.sharedStorage` is not `false`.
   */
  sameStorageAs?: JobQueue;
}

/** Options of {@link testJobQueue}. */
export interface JobQueueSuiteOptions {
  /** Shown in the test names, e.g. `"memory"` or `"redis (cluster)"`. */
  name: string;
  /**
   * Makes a fresh, empty queue for one test. Called once per test (some tests make
   * two queues); each queue must be isolated from the others (e.g. its own prefix),
   * except when `ctx.sameStorageAs` asks for a second object on the same storage.
   */
  create: (ctx: QueueFactoryContext) => JobQueue | Promise<JobQueue>;
  /** Runs after each test, after the suite closed the queues it made. */
  cleanup?: () => void | Promise<void>;
  /** Backends that cannot block switch these off. */
  features?: {
    /** `reserveNext({ blockSeconds })` waits and wakes on enqueue. @default true */
    blocking?: boolean;
    /**
     * `create` can open a second queue object on the storage of another
     * (`ctx.sameStorageAs`), as a second process would: pause and events are then
     * checked across the two. The in-memory queue cannot (its storage is the object).
     * @default true
     */
    sharedStorage?: boolean;
    /**
     * Names such as `__proto__` round-trip as hash fields. Only a test double turns this
     * off (ioredis-mock keeps hashes in plain objects); a real backend must not.
     * @default true
     */
    prototypeKeys?: boolean;
  };
}

/** Internal: per-test helpers. */
export interface SuiteContext {
  options: JobQueueSuiteOptions;
  /** A fresh queue on a fresh manual clock. */
  make(opts?: {
    visibilityTimeoutSeconds?: number;
    clock?: Clock;
    /** Queue options for the backend (retention, events). */
    options?: CaseQueueOptions;
  }): Promise<{ queue: JobQueue; clock: ManualClock }>;
  /**
   * A second queue object on the storage of `queue` (made by {@link make}), with the
   * same clock and options; `null` when the backend cannot (`features.sharedStorage`).
   */
  reopen(queue: JobQueue): Promise<JobQueue | null>;
}

export const VT = 30;
