import { ensureBuilt } from "@svc-jobs/test-servers";

// The tests run the real, built `svc-jobs` binary, so build it and what it imports
// first (the root `npm test` has done it already; this keeps
// `pnpm --filter @svc-jobs/cli test` honest on its own).
export function setup(): void {
  ensureBuilt("@svc-jobs/cli...");
}
