import { ensureBuilt } from "@svc-jobs/test-servers";

// The split-deployment test runs the built app and the built svc-jobs binary.
export function setup(): void {
  ensureBuilt("@svc-jobs/example-worker...");
}
