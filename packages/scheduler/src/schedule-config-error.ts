import { ConfigError } from "@svc-jobs/core";

/**
 * A schedule was invalid: a bad argument to `addTask`/`addCron`/`addJob`, or a bad
 * `JOBS_SCHEDULE_JSON` entry. Nothing was registered.
 *
 * @example
 * ```ts
 * try {
 *   await scheduleFromEnv(scheduler);
 * } catch (error) {
 *   if (error instanceof ScheduleConfigError) console.error(error.index, error.field, error.message);
 *   throw error;
 * }
 * ```
 */
export class ScheduleConfigError extends ConfigError {
  /** Position of the bad entry in the schedule JSON array; `null` for errors not tied to one entry. */
  readonly index: number | null;
  /** The field that was wrong, e.g. `"cron"`, `"target"`, or the variable name for malformed JSON. */
  readonly field: string;

  constructor(
    field: string,
    message: string,
    options?: { index?: number | null; code?: string; cause?: unknown },
  ) {
    super(message, { code: options?.code ?? "ERR_SCHEDULE_CONFIG", cause: options?.cause });
    this.field = field;
    this.index = options?.index ?? null;
  }
}
