import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["@svc-jobs/source"] },
  ssr: { resolve: { conditions: ["@svc-jobs/source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 90_000,
    hookTimeout: 120_000,
  },
});
