import type { JobHandler, JsonObject, JsonPayload } from "@svc-jobs/core";

/**
 * A handler registered in a {@link JobRegistry}: any core `JobHandler`. It receives
 * the job and `{ signal, progress }` (the signal fires on a timeout, a cancel or a
 * forced stop; `progress(value)` reports progress to the worker's queue, and does
 * nothing under a direct `dispatch`) and returns a
 * {@link JobResult}, or nothing (success). Any other value makes `dispatch` reject
 * with `InvalidJobResultError`; throwing counts as status `error`.
 *
 * `P` is the payload type the handler expects (see core's `JsonPayload`).
 *
 * @example
 * ```ts
 * interface EmailPayload { to: string; subject: string }
 * const sendEmail: RegistryHandler<EmailPayload> = async (job, { signal }) => {
 *   await mailer.send(job.payload, { signal });
 *   return { success: true, message: `sent to ${job.payload.to}` };
 * };
 * ```
 */
export type RegistryHandler<P extends JsonPayload<P> = JsonObject> = JobHandler<P>;
