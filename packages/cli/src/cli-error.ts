import { JobsError } from "@svc-jobs/core";

/** Exit code of a usage error: bad arguments, options, JSON or configuration. */
export const EXIT_USAGE = 2;
/** Exit code of a runtime failure: Redis unreachable, a handler module that throws on load, ... */
export const EXIT_RUNTIME = 1;

/**
 * An error the `svc-jobs` command reports as one line on stderr before exiting with
 * `exitCode` (2 for usage errors, 1 for runtime failures).
 *
 * @example
 * ```ts
 * throw new CliError("--limit must be a positive integer, got \"x\"", { exitCode: 2 });
 * ```
 */
export class CliError extends JobsError {
  /** The process exit code the command ends with. */
  readonly exitCode: number;

  constructor(message: string, options?: { code?: string; exitCode?: number; cause?: unknown }) {
    super(message, { code: options?.code ?? "ERR_CLI", cause: options?.cause });
    this.exitCode = options?.exitCode ?? EXIT_RUNTIME;
  }
}
