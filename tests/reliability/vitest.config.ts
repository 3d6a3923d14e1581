import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["@svc-jobs/source"] },
  ssr: { resolve: { conditions: ["@svc-jobs/source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
