import { vitestConfig } from "@svc-jobs/test-servers/vitest-config";

export default vitestConfig({
  test: {
    globalSetup: ["test/global-setup.ts"],
    // The chaos runs take up to a few minutes each; they stop themselves earlier.
    testTimeout: 240_000,
    // Chaos runs spawn three workers and a Redis each: one file at a time keeps the
    // 2-core CI machine from starving their heartbeats.
    fileParallelism: false,
  },
});
