import { InMemoryJobQueue } from "@svc-jobs/core";
import { testJobQueue } from "@svc-jobs/core/testing";

testJobQueue({
  name: "InMemoryJobQueue",
  create: ({ clock, visibilityTimeoutSeconds, options }) =>
    new InMemoryJobQueue({ clock, visibilityTimeoutSeconds, ...options }),
  // The storage of an InMemoryJobQueue is the object: no second object can share it.
  features: { sharedStorage: false },
});
