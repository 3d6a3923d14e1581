import { ensureBuilt } from "@svc-jobs/test-servers";

// The chaos and CLI tests run the built `svc-jobs` binary: build it (and what it
// imports) when running this package alone; the root `npm test` has built it already.
export function setup(): void {
  ensureBuilt("@svc-jobs/cli...");
}
