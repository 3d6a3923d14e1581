/**
 * Where the scheduler reports failed tasks, skipped overruns and leader trouble.
 * `console` fits; so do pino and winston loggers.
 */
export interface SchedulerLogger {
  error(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  info(message: string, details?: Record<string, unknown>): void;
}

/** Calls the logger without ever letting a logging failure escape into the scheduler loop. */
export function safeLog(
  logger: SchedulerLogger,
  level: keyof SchedulerLogger,
  message: string,
  details?: Record<string, unknown>,
): void {
  try {
    logger[level](message, details);
  } catch {
    // A broken logger must not stop periodic work; there is nowhere left to report to.
  }
}
