import { vitestConfig } from "@svc-jobs/test-servers/vitest-config";

export default vitestConfig();
