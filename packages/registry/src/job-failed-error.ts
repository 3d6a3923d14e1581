import { JobsError } from "@svc-jobs/core";
import type { JobResult } from "./job-result.js";

/**
 * Thrown by the handler from {@link JobRegistry.asHandler} when a registry handler
 * returned `{ success: false }`, so the queue records the failure and retries. The
 * message is the result's message (it becomes the job's `lastError`).
 */
export class JobFailedError extends JobsError {
  /** The job's name. */
  readonly jobName: string;
  /** The result the handler returned. */
  readonly result: JobResult;

  constructor(jobName: string, result: JobResult) {
    super(result.message || `job "${jobName}" reported success: false`, {
      code: "ERR_JOB_FAILED",
    });
    this.jobName = jobName;
    this.result = result;
  }
}
