import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

// The tests run the real, built `svc-jobs` binary, so build it and what it imports
// first (turbo's test task builds too; this keeps `pnpm --filter @svc-jobs/cli test`
// honest on its own).
export function setup(): void {
  const root = fileURLToPath(new URL("../../..", import.meta.url));
  let lastError: unknown;
  // Another engineer's install may be rewriting node_modules for a moment: retry once.
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      execFileSync("pnpm", ["--filter", "@svc-jobs/cli...", "run", "build"], {
        cwd: root,
        stdio: "pipe",
        encoding: "utf8",
      });
      return;
    } catch (error) {
      lastError = error;
    }
  }
  const e = lastError as { stdout?: string; stderr?: string };
  throw new Error(
    `building @svc-jobs/cli and its dependencies failed:\n${e.stdout ?? ""}\n${e.stderr ?? ""}`,
  );
}
