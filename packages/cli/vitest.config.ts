import { vitestConfig } from "@svc-jobs/test-servers/vitest-config";

export default vitestConfig({
  test: { globalSetup: ["test/global-setup.ts"], testTimeout: 30_000, hookTimeout: 120_000 },
});
