import type { HandlerContext, Job, JsonObject } from "@svc-jobs/core";
import type { JobResult } from "./job-result.js";

/**
 * A handler registered in a {@link JobRegistry}. It receives the job and
 * `{ signal }` (fired on timeout or forced stop), like core's `JobHandler`, and
 * returns a {@link JobResult} or nothing (success). Throwing counts as status `error`.
 */
export type RegistryHandler<P extends JsonObject = JsonObject> = (
  job: Job<P>,
  context: HandlerContext,
  // biome-ignore lint/suspicious/noConfusingVoidType: an async handler that returns nothing is typed Promise<void>, which `undefined` would reject
) => JobResult | void | Promise<JobResult | void>;
