// The vitest settings every workspace package shares. Each package's vitest.config.ts is
// `export default vitestConfig({ ...only what differs })`; turbo still runs `vitest run`
// in each package.
import { defineConfig } from "vitest/config";

// Workspace packages resolve each other's src/ (the `@svc-jobs/source` export
// condition), so tests need no build.
const conditions = ["@svc-jobs/source"];

export function vitestConfig(overrides = {}) {
  const { test = {}, ...rest } = overrides;
  return defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions } },
    ...rest,
    test: {
      // With projects, each project names its own files: a root include would be added
      // to every project's (`extends: true` concatenates arrays).
      ...(test.projects ? {} : { include: ["test/**/*.test.ts"] }),
      testTimeout: 20_000,
      hookTimeout: 60_000,
      ...test,
    },
  });
}
