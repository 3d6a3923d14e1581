import { JobsError } from "@svc-jobs/core";

/** {@link JobRegistry.dispatch} got a job whose name has no registered handler. */
export class UnknownJobError extends JobsError {
  /** The job name that has no handler. */
  readonly jobName: string;

  constructor(jobName: string, registered: readonly string[] = []) {
    const known =
      registered.length === 0
        ? "no handlers are registered"
        : `registered: ${registered.slice(0, 20).join(", ")}${registered.length > 20 ? ", …" : ""}`;
    super(
      `no handler registered for job "${jobName}" (${known}): register one with registry.register(${JSON.stringify(jobName)}, handler), or check the name the producer enqueues`,
      { code: "ERR_UNKNOWN_JOB" },
    );
    this.jobName = jobName;
  }
}
