import { InMemoryJobQueue } from "@svc-jobs/core";
import { testJobQueueModel } from "@svc-jobs/core/testing";

testJobQueueModel({
  name: "InMemoryJobQueue",
  numRuns: 400,
  create: ({ clock, visibilityTimeoutSeconds }) =>
    new InMemoryJobQueue({ clock, visibilityTimeoutSeconds }),
});
