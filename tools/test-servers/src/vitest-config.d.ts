import type { ViteUserConfig } from "vitest/config";

/**
 * The workspace's vitest config: the `@svc-jobs/source` resolve condition (client and
 * SSR), `include: ["test/**\/*.test.ts"]` (left out when `test.projects` is given: each
 * project names its files), `testTimeout` 20 s and `hookTimeout` 60 s. `overrides.test`
 * is spread over those test settings; other top-level keys replace the shared ones.
 */
export function vitestConfig(overrides?: ViteUserConfig): ViteUserConfig;
