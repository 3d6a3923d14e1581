import { JobsError } from "@svc-jobs/core";

/** A handler was registered for a job name that already has one, without `{ replace: true }`. */
export class DuplicateHandlerError extends JobsError {
  /** The job name registered twice. */
  readonly jobName: string;

  constructor(jobName: string) {
    super(
      `a handler for job "${jobName}" is already registered: pass { replace: true } to register() to replace it on purpose, or use another job name`,
      { code: "ERR_DUPLICATE_HANDLER" },
    );
    this.jobName = jobName;
  }
}
