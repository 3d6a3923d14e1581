import { InMemoryJobQueue } from "@svc-jobs/core";
import { InMemoryScheduler } from "@svc-jobs/scheduler";
import type { MemoryEasyJobs } from "./easy-jobs.js";
import type { JobsDriverDefinition } from "./jobs-driver.js";

/** The `memory` driver: an in-process queue, for development and tests. */
export const memoryDriver: JobsDriverDefinition<MemoryEasyJobs> = {
  summary: "one process, for development",
  open(_options, { visibilityTimeoutSeconds, schedulerOptions }) {
    const queue = new InMemoryJobQueue(
      visibilityTimeoutSeconds === undefined ? {} : { visibilityTimeoutSeconds },
    );
    const scheduler = new InMemoryScheduler(schedulerOptions);
    return {
      driver: "memory",
      prefix: "memory",
      queue,
      scheduler,
      async close() {
        await scheduler.stop();
        await queue.close();
      },
    };
  },
  describe: (jobs) => ({ prefix: jobs.prefix }),
  workerWarning:
    "memory driver: the queue lives inside this process, so other processes (your API, svc-jobs enqueue) cannot add jobs to it; set JOBS_DRIVER=redis, postgres or sqlite to share a queue",
  isReachable: () => true,
  notShared: "jobs live inside one process, so a new process always sees an empty queue",
};
