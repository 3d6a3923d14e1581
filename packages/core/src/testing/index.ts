/**
 * The backend conformance suite. Any `JobQueue` implementation runs it with one call
 * in a vitest file:
 *
 * ```ts
 * import { testJobQueue } from "@svc-jobs/core/testing";
 * testJobQueue({ name: "memory", create: ({ clock, visibilityTimeoutSeconds }) =>
 *   new InMemoryJobQueue({ clock, visibilityTimeoutSeconds }) });
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
import { type JobQueueSuiteOptions, type SuiteContext, VT } from "./context.js";
import { dedupeCases } from "./dedupe-cases.js";
import { dlqCases } from "./dlq-cases.js";
import { enqueueCases } from "./enqueue-cases.js";
import { fencingCases } from "./fencing-cases.js";
import { reserveCases } from "./reserve-cases.js";
import { retryCases } from "./retry-cases.js";
import { validationCases } from "./validation-cases.js";
import { visibilityCases } from "./visibility-cases.js";

export type { JobQueueSuiteOptions, QueueFactoryContext } from "./context.js";

/** Registers the whole conformance suite for one backend. */
export function testJobQueue(options: JobQueueSuiteOptions): void {
  const open: JobQueue[] = [];
  const ctx: SuiteContext = {
    options,
    async make(opts = {}) {
      const clock = new ManualClock(Date.UTC(2030, 0, 1));
      const queue = await options.create({
        clock: opts.clock ?? (clock as Clock),
        visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds ?? VT,
      });
      open.push(queue);
      return { queue, clock };
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
    if (options.features?.blocking !== false) {
      describe("blocking reserve", () => blockingCases(ctx));
    }
  });
}
export { type JobQueueModelOptions, testJobQueueModel } from "./model.js";
