/**
 * Base class of every error svc-jobs throws. `code` is stable across releases, so
 * callers can branch on it; the message says what was wrong and what to do.
 */
export class JobsError extends Error {
  /** Stable machine-readable code, e.g. `"ERR_JOB_VALIDATION"`. */
  readonly code: string;

  constructor(message: string, options?: { code?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options?.code ?? "ERR_JOBS";
  }
}

/** A job, its options or a queue option was invalid. Nothing was written. */
export class JobValidationError extends JobsError {
  /** The argument or field that was wrong, e.g. `"payload"` or `"opts.delaySeconds"`. */
  readonly field: string;

  constructor(field: string, message: string, options?: { code?: string; cause?: unknown }) {
    super(message, { code: options?.code ?? "ERR_JOB_VALIDATION", cause: options?.cause });
    this.field = field;
  }
}

/** A payload's JSON encoding exceeded the queue's `maxPayloadBytes`. */
export class PayloadTooLargeError extends JobValidationError {
  readonly sizeBytes: number;
  readonly limitBytes: number;

  constructor(sizeBytes: number, limitBytes: number) {
    super(
      "payload",
      `payload is ${sizeBytes} bytes as JSON, over the limit of ${limitBytes} bytes: store large data elsewhere (a database or object store) and enqueue a reference to it, or raise the queue's maxPayloadBytes option`,
      { code: "ERR_PAYLOAD_TOO_LARGE" },
    );
    this.sizeBytes = sizeBytes;
    this.limitBytes = limitBytes;
  }
}

/** A call was made on a queue after `close()`. */
export class QueueClosedError extends JobsError {
  constructor(what = "queue") {
    super(`${what} is closed: create a new one instead of reusing it after close()`, {
      code: "ERR_QUEUE_CLOSED",
    });
  }
}

/** A handler ran longer than its timeout. Its AbortSignal was fired. */
export class JobTimeoutError extends JobsError {
  readonly jobName: string;
  readonly timeoutSeconds: number;

  constructor(jobName: string, timeoutSeconds: number) {
    super(
      `job "${jobName}" timed out after ${timeoutSeconds}s: make the handler faster, split the work, or raise the timeout (timeoutSeconds or JOB_DEFAULT_TIMEOUT_SECONDS)`,
      { code: "ERR_JOB_TIMEOUT" },
    );
    this.jobName = jobName;
    this.timeoutSeconds = timeoutSeconds;
  }
}

/** The reason given to a handler's AbortSignal when its worker stops before it finishes. */
export class WorkerStoppedError extends JobsError {
  constructor(
    message = "worker stopped before the job finished; the job was handed back to the queue",
  ) {
    super(message, { code: "ERR_WORKER_STOPPED" });
  }
}

/** Configuration (options or environment variables) was invalid. */
export class ConfigError extends JobsError {
  constructor(message: string, options?: { code?: string; cause?: unknown }) {
    super(message, { code: options?.code ?? "ERR_CONFIG", cause: options?.cause });
  }
}

/** A backend (Redis, a database) answered in a way the library did not expect. */
export class BackendError extends JobsError {
  constructor(message: string, options?: { code?: string; cause?: unknown }) {
    super(message, { code: options?.code ?? "ERR_BACKEND", cause: options?.cause });
  }
}
