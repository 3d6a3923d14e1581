import { InMemoryJobQueue } from "@svc-jobs/core";
import { testJobQueue } from "@svc-jobs/core/testing";

testJobQueue({
  name: "InMemoryJobQueue",
  create: ({ clock, visibilityTimeoutSeconds }) =>
    new InMemoryJobQueue({ clock, visibilityTimeoutSeconds }),
});
