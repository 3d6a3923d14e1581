/**
 * The fields the scheduler logs with a message: `task` (the task's name) when one task
 * is concerned, and `err` (what was thrown) when something failed.
 */
export interface SchedulerLogFields {
  /** The task concerned, when there is one. */
  task?: string;
  /** The error thrown by the task, the leader or the queue. */
  err?: unknown;
  [key: string]: unknown;
}

/**
 * Where the scheduler reports failed tasks, skipped overruns and leadership changes.
 *
 * Calls are pino-style, fields first and the message second:
 * `logger.error({ task, err }, 'scheduler: task "x" failed; ...')`. A pino (or bunyan)
 * logger fits as it is, and pino's standard `err` serializer puts the error's type,
 * message and stack in the JSON line. `console` is adapted by
 * {@link consoleSchedulerLogger} (the default); wrap other loggers the same way.
 *
 * @example
 * ```ts
 * import { pino } from "pino";
 * const scheduler = new Scheduler({ logger: pino() });
 * ```
 */
export interface SchedulerLogger {
  error(fields: SchedulerLogFields, message: string): void;
  warn(fields: SchedulerLogFields, message: string): void;
  info(fields: SchedulerLogFields, message: string): void;
}

/** The part of `console` that {@link consoleSchedulerLogger} writes to. */
export type ConsoleLike = Pick<Console, "error" | "warn" | "info">;

/**
 * A {@link SchedulerLogger} that writes to `console` (or anything with its `error`, `warn`
 * and `info`): the message first, then the other fields only when there are any, then the
 * error, which `console` prints with its stack.
 *
 * @example
 * ```ts
 * const scheduler = new Scheduler({ logger: consoleSchedulerLogger() });
 * // scheduler: task "cleanup" failed; it runs again at its next due time { task: 'cleanup' } Error: boom
 * //     at ...
 * ```
 */
export function consoleSchedulerLogger(target: ConsoleLike = console): SchedulerLogger {
  const write =
    (level: keyof ConsoleLike) =>
    (fields: SchedulerLogFields | undefined, message: string): void => {
      const args: unknown[] = [message];
      if (fields !== null && typeof fields === "object") {
        const { err, ...rest } = fields;
        if (Object.keys(rest).length > 0) args.push(rest);
        if (err !== undefined) args.push(err);
      }
      target[level](...args);
    };
  return { error: write("error"), warn: write("warn"), info: write("info") };
}

/**
 * The logger a scheduler uses for its `logger` option: `console` itself (whose
 * `(message, ...values)` signature does not take fields first) and no logger at all get
 * the console adapter; anything else is used as it is. Internal.
 */
export function resolveSchedulerLogger(logger: SchedulerLogger | undefined): SchedulerLogger {
  if (logger === undefined || logger === (console as unknown))
    return consoleSchedulerLogger(console);
  return logger;
}

/** Calls the logger without ever letting a logging failure escape into the scheduler loop. */
export function safeLog(
  logger: SchedulerLogger,
  level: keyof SchedulerLogger,
  message: string,
  fields: SchedulerLogFields = {},
): void {
  try {
    logger[level](fields, message);
  } catch {
    // A broken logger must not stop periodic work; there is nowhere left to report to.
  }
}
