import { InMemoryJobQueue } from "@svc-jobs/core";
import { testJobQueueModel } from "@svc-jobs/core/testing";

testJobQueueModel({
  name: "InMemoryJobQueue",
  numRuns: 400,
  create: ({ clock, visibilityTimeoutSeconds, options }) =>
    new InMemoryJobQueue({ clock, visibilityTimeoutSeconds, ...options }),
});
