import type { Leader } from "@svc-jobs/core";
import type { SchedulerLogFields, SchedulerLogger } from "@svc-jobs/scheduler";

export interface LogRecord {
  level: "error" | "warn" | "info";
  message: string;
  details: SchedulerLogFields;
}

/** A logger that keeps what it was told, for assertions. */
export function recordingLogger(): SchedulerLogger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at = (level: LogRecord["level"]) => (details: SchedulerLogFields, message: string) =>
    records.push({ level, message, details });
  return { records, error: at("error"), warn: at("warn"), info: at("info") };
}

/** A leader whose answer the test sets; counts calls. */
export class SwitchLeader implements Leader {
  leading = true;
  fail: Error | undefined;
  acquireCalls = 0;
  releaseCalls = 0;

  async acquire(): Promise<boolean> {
    this.acquireCalls++;
    if (this.fail) throw this.fail;
    return this.leading;
  }

  isLeader(): boolean {
    return this.leading;
  }

  async release(): Promise<void> {
    this.releaseCalls++;
  }
}

/** A promise with its resolve function exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
