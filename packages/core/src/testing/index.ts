/**
 * The backend conformance suite. Any `JobQueue` implementation runs it with one call
 * in a vitest file:
 *
 * ```ts
 * import { testJobQueue } from "@svc-jobs/core/testing";
 * testJobQueue({
 *   name: "memory",
 *   create: ({ clock, visibilityTimeoutSeconds, options }) =>
 *     new InMemoryJobQueue({ clock, visibilityTimeoutSeconds, ...options }),
 *   features: { sharedStorage: false },
 * });
 * ```
 *
 * Time is driven through the injected clock, so the minutes-long delays of the
 * retry schedule take no real time.
 *
 * @module
 */
import { afterEach, describe } from "vitest";
import type { Clock } from "../clock.js";
import type { JobQueue } from "../job-queue.js";
import { ManualClock } from "../manual-clock.js";
import { blockingCases } from "./blocking-cases.js";
import { cancelCases } from "./cancel-cases.js";
import {
  type CaseQueueOptions,
  type JobQueueSuiteOptions,
  type SuiteContext,
  VT,
} from "./context.js";
import { dedupeCases } from "./dedupe-cases.js";
import { dlqCases } from "./dlq-cases.js";
import { enqueueCases } from "./enqueue-cases.js";
import { eventCases } from "./event-cases.js";
import { fencingCases } from "./fencing-cases.js";
import { flowGroupCases } from "./flow-group-cases.js";
import { flowRateCases } from "./flow-rate-cases.js";
import { flowReleaseCases } from "./flow-release-cases.js";
import { inspectionCases } from "./inspection-cases.js";
import { pagingCases } from "./paging-cases.js";
import { pauseCases } from "./pause-cases.js";
import { priorityCases } from "./priority-cases.js";
import { progressCases } from "./progress-cases.js";
import { promoteCases } from "./promote-cases.js";
import { reserveCases } from "./reserve-cases.js";
import { retentionCases } from "./retention-cases.js";
import { retryCases } from "./retry-cases.js";
import { traceContextCases } from "./trace-context-cases.js";
import { validationCases } from "./validation-cases.js";
import { visibilityCases } from "./visibility-cases.js";

export type { CaseQueueOptions, JobQueueSuiteOptions, QueueFactoryContext } from "./context.js";
export { expectedStats } from "./expected-stats.js";

/** Registers the whole conformance suite for one backend. */
export function testJobQueue(options: JobQueueSuiteOptions): void {
  const open: JobQueue[] = [];
  /** How each queue was made, so `reopen` makes its twin. */
  const made = new WeakMap<
    JobQueue,
    { clock: Clock; visibilityTimeoutSeconds: number; options: CaseQueueOptions }
  >();
  const ctx: SuiteContext = {
    options,
    async make(opts = {}) {
      const clock = new ManualClock(Date.UTC(2030, 0, 1));
      const how = {
        clock: opts.clock ?? (clock as Clock),
        visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds ?? VT,
        options: { ...opts.options },
      };
      const queue = await options.create({ ...how, options: { ...how.options } });
      made.set(queue, how);
      open.push(queue);
      return { queue, clock };
    },
    async reopen(queue) {
      if (options.features?.sharedStorage === false) return null;
      const how = made.get(queue);
      if (!how) throw new Error("reopen: the queue was not made by ctx.make()");
      const twin = await options.create({
        ...how,
        options: { ...how.options },
        sameStorageAs: queue,
      });
      made.set(twin, how);
      open.push(twin);
      return twin;
    },
  };

  describe(`JobQueue conformance: ${options.name}`, () => {
    afterEach(async () => {
      const queues = open.splice(0);
      await Promise.all(queues.map((q) => q.close()));
      await options.cleanup?.();
    });
    describe("enqueue", () => enqueueCases(ctx));
    describe("reserve and FIFO", () => reserveCases(ctx));
    describe("retries and the dead letter queue", () => retryCases(ctx));
    describe("visibility timeout", () => visibilityCases(ctx));
    describe("fencing of late ack/fail", () => fencingCases(ctx));
    describe("dedupe", () => dedupeCases(ctx));
    describe("dead letter queue operations", () => dlqCases(ctx));
    describe("bad input", () => validationCases(ctx));
    describe("priorities", () => priorityCases(ctx));
    describe("getJob, listJobs and countByName", () => inspectionCases(ctx));
    describe("listJobs paging while the queue changes", () => pagingCases(ctx));
    describe("retention of completed and cancelled jobs", () => retentionCases(ctx));
    describe("progress", () => progressCases(ctx));
    describe("cancel and checkReservations", () => cancelCases(ctx));
    describe("pause and resume", () => pauseCases(ctx));
    describe("events", () => eventCases(ctx));
    describe("promote", () => promoteCases(ctx));
    describe("flow control: the queue's rate limit", () => flowRateCases(ctx));
    describe("flow control: groups, round-robin and group limits", () => flowGroupCases(ctx));
    describe("flow control: release and RateLimitError", () => flowReleaseCases(ctx));
    describe("trace context", () => traceContextCases(ctx));
    if (options.features?.blocking !== false) {
      describe("blocking reserve", () => blockingCases(ctx));
    }
  });
}
export { type JobQueueModelOptions, testJobQueueModel } from "./model.js";
