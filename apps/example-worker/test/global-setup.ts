import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

// The split-deployment test runs the built app and the built svc-jobs binary.
export function setup(): void {
  const root = fileURLToPath(new URL("../../..", import.meta.url));
  let lastError: unknown;
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      execFileSync("pnpm", ["--filter", "@svc-jobs/example-worker...", "run", "build"], {
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
  throw new Error(`building the example app failed:\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
}
