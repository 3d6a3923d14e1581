import { vitestConfig } from "@svc-jobs/test-servers/vitest-config";

export default vitestConfig({
  test: { globalSetup: ["test/global-setup.ts"], testTimeout: 90_000, hookTimeout: 120_000 },
});
