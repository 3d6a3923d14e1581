import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["@svc-jobs/source"] },
  ssr: { resolve: { conditions: ["@svc-jobs/source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    // The chaos runs take up to a few minutes each; they stop themselves earlier.
    testTimeout: 240_000,
    hookTimeout: 60_000,
    // Chaos runs spawn three workers and a Redis each: one file at a time keeps the
    // 2-core CI machine from starving their heartbeats.
    fileParallelism: false,
  },
});
