import { vitestConfig } from "@svc-jobs/test-servers/vitest-config";

export default vitestConfig({
  test: {
    // npm installs from the registry: minutes on a cold cache, seconds on a warm one.
    testTimeout: 300_000,
    hookTimeout: 600_000,
    fileParallelism: false,
  },
});
