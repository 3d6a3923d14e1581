import type { QueueStats } from "@svc-jobs/core";

/** Anything with queue stats, e.g. any `JobQueue`; what {@link JobRegistry.trackQueue} reads. */
export interface StatsSource {
  stats(): Promise<QueueStats>;
}
