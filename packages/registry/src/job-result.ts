/**
 * What a registry handler reports. Returning nothing from a handler counts as
 * `{ success: true }`; `success: false` is counted as a failure and makes
 * {@link JobRegistry.asHandler} fail the job so the queue retries it.
 *
 * @example
 * ```ts
 * registry.register("charge", async (job): Promise<JobResult> => {
 *   const ok = await payments.charge(job.payload.paymentId);
 *   return ok
 *     ? { success: true, message: "charged" }
 *     : { success: false, message: "card declined", details: { paymentId: job.payload.paymentId } };
 * });
 * ```
 */
export interface JobResult {
  /** Whether the job completed successfully. */
  success: boolean;
  /** Human-readable outcome; on failure it becomes the job's `lastError` via `asHandler()`. */
  message: string;
  /** Optional extra data for logs. */
  details?: Record<string, unknown>;
}
