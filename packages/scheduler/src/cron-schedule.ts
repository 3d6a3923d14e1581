import { describeValue } from "@svc-jobs/core/backend";
import { Cron } from "croner";
import { ScheduleConfigError } from "./schedule-config-error.js";

// croner knows these except @midnight, which Vixie cron and croniter accept.
const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

/** A parsed cron expression: the next fire time after a given instant. */
export interface CronSchedule {
  readonly expression: string;
  readonly timezone: string | undefined;
  /** Epoch ms of the first fire time strictly after `afterMs`; `Infinity` when there is none. */
  next(afterMs: number): number;
}

/**
 * Parses a five-field cron expression or an `@daily`-style macro, in `timezone`
 * (IANA name) or the process's local zone. DST follows croner: a time skipped by a
 * spring-forward fires at the same wall-clock offset after the jump, a repeated hour fires once.
 */
export function parseCron(
  expression: unknown,
  timezone: unknown,
  where: { cronField: string; timezoneField: string; index?: number | null; prefix: string },
): CronSchedule {
  const fail = (field: string, message: string, cause?: unknown) =>
    new ScheduleConfigError(field, `${where.prefix}${message}`, { index: where.index, cause });
  if (typeof expression !== "string" || expression.trim().length === 0) {
    throw fail(
      where.cronField,
      `${where.cronField} must be a cron expression string such as "*/5 * * * *" or "@daily", got ${describeValue(expression)}`,
    );
  }
  const trimmed = expression.trim();
  let pattern: string;
  if (trimmed.startsWith("@")) {
    const macro = MACROS[trimmed.toLowerCase()];
    if (!macro) {
      throw fail(
        where.cronField,
        `${where.cronField} ${JSON.stringify(expression)} is not a known macro: use one of ${Object.keys(MACROS).join(", ")}, or five fields`,
      );
    }
    pattern = macro;
  } else {
    const fields = trimmed.split(/\s+/);
    if (fields.length !== 5) {
      throw fail(
        where.cronField,
        `${where.cronField} ${JSON.stringify(expression)} has ${fields.length} fields; it needs exactly five: minute hour day-of-month month day-of-week (e.g. "30 2 * * 1")`,
      );
    }
    pattern = fields.join(" ");
  }
  if (timezone !== undefined) {
    if (typeof timezone !== "string" || !isTimeZone(timezone)) {
      throw fail(
        where.timezoneField,
        `${where.timezoneField} must be an IANA time zone name such as "Europe/Berlin" or "UTC", got ${describeValue(timezone)}`,
      );
    }
  }
  let cron: Cron;
  try {
    // paused and no function: croner only computes dates, it never starts a timer.
    cron = new Cron(pattern, { paused: true, timezone: timezone as string | undefined });
    cron.nextRun(new Date(0));
  } catch (error) {
    const reason =
      error instanceof Error ? error.message.replace(/^CronPattern: /, "") : String(error);
    throw fail(
      where.cronField,
      `${where.cronField} ${JSON.stringify(expression)} is invalid: ${reason}`,
      error,
    );
  }
  return {
    expression: trimmed,
    timezone: timezone as string | undefined,
    next(afterMs: number): number {
      const next = cron.nextRun(new Date(afterMs));
      return next ? next.getTime() : Number.POSITIVE_INFINITY;
    },
  };
}

function isTimeZone(name: string): boolean {
  if (name.length === 0) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
