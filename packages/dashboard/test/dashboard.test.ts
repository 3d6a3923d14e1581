import { InMemoryJobQueue } from "@svc-jobs/core";
import { describe } from "vitest";
import { dashboardSuite } from "./dashboard-suite.js";

describe("dashboard on InMemoryJobQueue", () => {
  dashboardSuite(
    (options = {}) => new InMemoryJobQueue({ keepCancelled: options.keepCancelled ?? false }),
  );
});
