import { describeValue } from "./describe-value.js";
import { JobValidationError } from "./errors.js";
import { MAX_JOB_NAME_LENGTH } from "./job.js";

// Checks of single arguments, shared by every backend and package so the same mistake
// gets the same error everywhere. Each returns the value it checked.

/**
 * Checks a job name: a string of 1 to {@link MAX_JOB_NAME_LENGTH} characters, not only
 * spaces. Returns it unchanged.
 */
export function validateJobName(name: unknown, field = "name"): string {
  if (isJobName(name)) return name;
  throw jobNameError(name, field);
}

/** Internal: true when {@link validateJobName} accepts `name`. */
export function isJobName(name: unknown): name is string {
  return typeof name === "string" && name.length <= MAX_JOB_NAME_LENGTH && name.trim() !== "";
}

/** Internal: the error {@link validateJobName} throws for `name`. */
export function jobNameError(name: unknown, field: string): JobValidationError {
  // Not blank, so too long.
  if (typeof name === "string" && name.trim() !== "") {
    return new JobValidationError(
      field,
      `job ${field} is ${name.length} characters, over the limit of ${MAX_JOB_NAME_LENGTH}: use a short kind name and put details in the payload`,
    );
  }
  return new JobValidationError(
    field,
    `job ${field} must be a non-empty string, got ${describeValue(name)}: pass the kind of work, e.g. "send_email"`,
  );
}

/** Checks `value` as a finite number of seconds >= `min` (fractions allowed); returns it. */
export function validateSeconds(field: string, value: unknown, min = 0): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    throw new JobValidationError(
      field,
      `${field} must be a finite number >= ${min} (seconds; fractions allowed), got ${describeValue(value)}`,
    );
  }
  return value;
}

/** Checks an integer >= `min`; returns it. */
export function validateInteger(field: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new JobValidationError(
      field,
      `${field} must be an integer >= ${min}, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** Checks a job id or a `Job` (anything with a string `id`) and returns the id. */
export function jobIdOf(job: unknown, field = "job"): string {
  if (typeof job === "string" && job.length > 0) return job;
  if (job !== null && typeof job === "object" && typeof (job as { id?: unknown }).id === "string") {
    return (job as { id: string }).id;
  }
  throw new JobValidationError(
    field,
    `${field} must be a Job or a job id string, got ${describeValue(job)}`,
  );
}
