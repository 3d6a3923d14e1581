import type { QueueStats } from "@svc-jobs/core";

/**
 * Anything with queue stats, e.g. any `JobQueue`; what {@link JobRegistry.trackQueue}
 * reads. Only the counts of ready, delayed, processing and dead jobs are read, so a
 * source written before queues reported kept jobs and pauses still fits.
 */
export interface StatsSource {
  stats(): Promise<Pick<QueueStats, "ready" | "delayed" | "processing" | "dlq">>;
}
