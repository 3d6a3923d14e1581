import type { Clock } from "../clock.js";
import type { JobQueue } from "../job-queue.js";
import type { ManualClock } from "../manual-clock.js";

/** What the suite passes to a backend's `create`. */
export interface QueueFactoryContext {
  /** The clock the queue must use. Usually a {@link ManualClock} the suite advances. */
  clock: Clock;
  /** Visibility timeout the queue must use, in seconds. */
  visibilityTimeoutSeconds: number;
}

/** Options of {@link testJobQueue}. */
export interface JobQueueSuiteOptions {
  /** Shown in the test names, e.g. `"memory"` or `"redis (cluster)"`. */
  name: string;
  /**
   * Makes a fresh, empty queue for one test. Called once per test (some tests make
   * two queues); each queue must be isolated from the others (e.g. its own prefix).
   */
  create: (ctx: QueueFactoryContext) => JobQueue | Promise<JobQueue>;
  /** Runs after each test, after the suite closed the queues it made. */
  cleanup?: () => void | Promise<void>;
  /** Backends that cannot block switch these off. */
  features?: {
    /** `reserveNext({ blockSeconds })` waits and wakes on enqueue. @default true */
    blocking?: boolean;
  };
}

/** Internal: per-test helpers. */
export interface SuiteContext {
  options: JobQueueSuiteOptions;
  /** A fresh queue on a fresh manual clock. */
  make(opts?: {
    visibilityTimeoutSeconds?: number;
    clock?: Clock;
  }): Promise<{ queue: JobQueue; clock: ManualClock }>;
}

export const VT = 30;
