import { JobsError } from "@svc-jobs/core";

/** A registry handler returned something that is neither nothing nor a {@link JobResult}. */
export class InvalidJobResultError extends JobsError {
  /** The job's name. */
  readonly jobName: string;
  /** What the handler returned. */
  readonly value: unknown;

  constructor(jobName: string, value: unknown, problem: string) {
    super(
      `the handler for job "${jobName}" returned ${problem}: return a JobResult { success: boolean, message: string, details?: object } or nothing (nothing counts as success)`,
      { code: "ERR_INVALID_JOB_RESULT" },
    );
    this.jobName = jobName;
    this.value = value;
  }
}
