export type { Leader } from "@svc-jobs/core";
export {
  type AddCronOptions,
  type AddJobOptions,
  type AddTaskOptions,
  InMemoryScheduler,
  type InMemorySchedulerOptions,
  Scheduler,
  type SchedulerOptions,
  type TaskContext,
  type TaskFunction,
} from "./in-memory-scheduler.js";
export { ScheduleConfigError } from "./schedule-config-error.js";
export { type ScheduleFromEnvOptions, scheduleFromEnv } from "./schedule-from-env.js";
export {
  type ConsoleLike,
  consoleSchedulerLogger,
  type SchedulerLogFields,
  type SchedulerLogger,
} from "./scheduler-logger.js";
