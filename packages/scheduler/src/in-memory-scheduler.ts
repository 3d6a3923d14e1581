import {
  BackendError,
  type Clock,
  type EnqueueOptions,
  type JobQueue,
  JobsError,
  type JsonObject,
  type Leader,
  systemClock,
} from "@svc-jobs/core";
import {
  describeValue,
  type KnownKeys,
  rejectUnknownKeys,
  serializePayload,
  validateEnqueueOptions,
  validateJobName,
} from "@svc-jobs/core/backend";
import { type CronSchedule, parseCron } from "./cron-schedule.js";
import { ScheduleConfigError } from "./schedule-config-error.js";
import { resolveSchedulerLogger, type SchedulerLogger, safeLog } from "./scheduler-logger.js";

/** What a task function receives on each run. */
export interface TaskContext {
  /** The task's name. */
  name: string;
  /** The due time this run fires for (the tick may come a little later). */
  scheduledAt: Date;
  /** Fires when the scheduler is stopped, so long tasks can wind down early. */
  signal: AbortSignal;
}

/** A scheduled function, sync or async. Its return value is ignored; a throw is logged. */
export type TaskFunction = (context: TaskContext) => unknown;

/** Options of {@link Scheduler.addTask}. */
export interface AddTaskOptions {
  /**
   * Fall due at whole multiples of the interval since the Unix epoch (every 300 s:
   * at :00, :05, :10 past the hour, UTC) instead of one interval after adding. Replicas
   * sharing a leader then agree on due times however far apart they started, so a
   * takeover keeps the rhythm.
   * @default false
   */
  aligned?: boolean;
}

/** Options of {@link Scheduler.addCron}. */
export interface AddCronOptions {
  /** IANA time zone the expression is read in. @default the process's local zone */
  timezone?: string;
}

/** Options of {@link Scheduler.addJob}: one of `intervalSeconds` or `cron`. */
export interface AddJobOptions {
  /** Enqueue every this many seconds (fractions allowed); the first one interval after adding. */
  intervalSeconds?: number;
  /** With `intervalSeconds`: see {@link AddTaskOptions.aligned}. @default false */
  aligned?: boolean;
  /** Enqueue on this five-field cron expression or `@daily`-style macro. */
  cron?: string;
  /** Time zone of `cron`. @default the process's local zone */
  timezone?: string;
  /** The queue to enqueue into. */
  queue: Pick<JobQueue, "enqueue">;
  /** Name of the job to enqueue (what a worker's registry dispatches on). */
  jobName: string;
  /** The payload of every job (copied per run). @default {} */
  payload?: JsonObject;
  /** Builds the payload at each run instead of `payload` (e.g. to carry the run's date). */
  payloadFactory?: (context: TaskContext) => JsonObject | Promise<JsonObject>;
  /** Options passed to `enqueue` (`delaySeconds`, `maxAttempts`, ...). */
  enqueueOptions?: EnqueueOptions;
}

/** Options of {@link Scheduler}. */
export interface SchedulerOptions {
  /**
   * The longest `run()` sleeps between checks, in seconds. `run()` wakes at each
   * task's due time anyway, so tasks normally fire within milliseconds; this bounds
   * how late a task can be when the clock jumps (a suspended VM, a clock step).
   * @default 60
   */
  tickIntervalSeconds?: number;
  /** Source of time for due times. `run()` still sleeps in real time. @default `Date.now()` */
  clock?: Clock;
  /**
   * Elects one replica to fire tasks (for example `RedisLeader` from `@svc-jobs/redis`).
   * Every tick calls `acquire()` and fires due tasks only when it resolves to true.
   * When the leader has a numeric `leaseSeconds`, `run()` ticks at least every third
   * of it so the lease is renewed in time.
   * @default none: every replica fires every task
   */
  leader?: Leader;
  /**
   * Where failures, skipped overruns and leadership changes are reported, pino-style
   * (`logger.error({ task, err }, message)`): a pino logger fits as it is; `console` is
   * adapted (see `consoleSchedulerLogger`).
   * @default console, through `consoleSchedulerLogger`
   */
  logger?: SchedulerLogger;
}

interface Task {
  name: string;
  fn: TaskFunction;
  intervalMs: number | undefined;
  cron: CronSchedule | undefined;
  /** Epoch ms (by the scheduler's clock) of the next due time. */
  nextRunAt: number;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
const RELEASE_TIMEOUT_MS = 5_000;
const SCHEDULER_OPTIONS: KnownKeys = {
  keys: ["tickIntervalSeconds", "clock", "leader", "logger"],
  hints: {
    tick: "tickIntervalSeconds",
    tickInterval: "tickIntervalSeconds",
    tickSeconds: "tickIntervalSeconds",
    tickIntervalMs: "tickIntervalSeconds (in seconds)",
    log: "logger",
  },
  noun: "Scheduler option",
};
const TASK_OPTIONS: KnownKeys = {
  keys: ["aligned"],
  hints: { align: "aligned" },
  noun: "addTask option",
};
const CRON_OPTIONS: KnownKeys = {
  keys: ["timezone"],
  // timeZone and time_zone need none: case and "_" are ignored.
  hints: { tz: "timezone", zone: "timezone" },
  noun: "addCron option",
};
const JOB_OPTIONS: KnownKeys = {
  keys: [
    "intervalSeconds",
    "aligned",
    "cron",
    "timezone",
    "queue",
    "jobName",
    "payload",
    "payloadFactory",
    "enqueueOptions",
  ],
  // interval_seconds, job_name, payload_factory need none: case and "_" are ignored.
  hints: {
    interval: "intervalSeconds",
    name: "jobName",
    tz: "timezone",
    delaySeconds: "enqueueOptions: { delaySeconds }",
    delay_seconds: "enqueueOptions: { delaySeconds }",
  },
};

/**
 * Runs periodic work: interval tasks, cron tasks, and tasks that enqueue a job. Each
 * process keeps its own schedule; with a `leader` (for example `RedisLeader`) many
 * replicas share the work and only the leader fires. Time comes from the injectable
 * clock: `tick()` fires every task whose due time has come, and `run()` calls it in a
 * loop until `stop()`.
 *
 * - A task that throws is logged and runs again at its next time; it never stops the
 *   loop nor keeps other due tasks from firing.
 * - One run of a task at a time: if a run is still going when the task falls due
 *   again, that occurrence is skipped (logged), not queued up.
 * - Missed occurrences (a long pause, a late tick) are coalesced into one run; an
 *   interval task keeps its grid (added at t, it is due at t + k * interval).
 * - With a `leader`, only the replica whose `acquire()` succeeds fires tasks. The
 *   others advance their schedules without firing, so a replica that takes over does
 *   not fire a burst of missed runs: occurrences that fell due while nobody led (the
 *   old leader died and its lease had not yet run out) are skipped, not replayed.
 *
 * @example
 * ```ts
 * const scheduler = new Scheduler();
 * await scheduler.addTask("cleanup_sessions", 300, () => db.deleteExpiredSessions());
 * await scheduler.addCron("daily_digest", "0 8 * * *", sendDigest, { timezone: "Europe/Berlin" });
 * await scheduler.addJob("outbox", { intervalSeconds: 5, queue, jobName: "outbox.tick" });
 * process.on("SIGTERM", () => scheduler.stop());
 * await scheduler.run(); // settles after stop(), once running tasks have finished
 * ```
 */
export class Scheduler {
  /** The longest sleep of `run()` between ticks, in seconds. */
  readonly tickIntervalSeconds: number;

  readonly #clock: Clock;
  readonly #leader: Leader | undefined;
  readonly #logger: SchedulerLogger;
  readonly #renewMs: number | undefined;
  /** Waiting longer than the lease for a release is pointless: it has run out by then. */
  readonly #releaseTimeoutMs: number = RELEASE_TIMEOUT_MS;
  readonly #tasks = new Map<string, Task>();
  /** In-flight runs by task name: the guard against overlapping runs. */
  readonly #running = new Map<string, Promise<void>>();
  #loop: Promise<void> | undefined;
  #stopping = false;
  #stopController = new AbortController();
  #wake: (() => void) | undefined;
  #leading: boolean | undefined;

  constructor(options: SchedulerOptions = {}) {
    rejectOptionKeys(options, SCHEDULER_OPTIONS, "Scheduler: options");
    const tick = options.tickIntervalSeconds ?? 60;
    if (typeof tick !== "number" || !Number.isFinite(tick) || tick <= 0) {
      throw new ScheduleConfigError(
        "tickIntervalSeconds",
        `Scheduler: tickIntervalSeconds must be a finite number of seconds > 0, got ${describeValue(tick)}`,
      );
    }
    const leader = options.leader;
    if (
      leader !== undefined &&
      (leader === null ||
        typeof leader.acquire !== "function" ||
        typeof leader.release !== "function" ||
        typeof leader.isLeader !== "function")
    ) {
      throw new ScheduleConfigError(
        "leader",
        "Scheduler: leader must implement Leader (acquire, isLeader, release), e.g. new RedisLeader(redis)",
      );
    }
    this.tickIntervalSeconds = tick;
    this.#clock = options.clock ?? systemClock;
    this.#leader = leader;
    this.#logger = resolveSchedulerLogger(options.logger);
    const lease = (leader as { leaseSeconds?: unknown } | undefined)?.leaseSeconds;
    if (typeof lease === "number" && Number.isFinite(lease) && lease > 0) {
      this.#renewMs = (lease * 1000) / 3;
      this.#releaseTimeoutMs = Math.min(RELEASE_TIMEOUT_MS, lease * 1000);
    }
  }

  /** Names of the registered tasks, in the order they were first added. */
  get taskNames(): string[] {
    return [...this.#tasks.keys()];
  }

  /** True between `run()` and the end of its loop. */
  get isRunning(): boolean {
    return this.#loop !== undefined && !this.#stopping;
  }

  /**
   * Runs `fn` every `intervalSeconds` (fractions allowed), the first time one interval
   * from now (or at the next multiple of the interval with `aligned`). Adding a name
   * again replaces that task and its schedule.
   */
  async addTask(
    name: string,
    intervalSeconds: number,
    fn: TaskFunction,
    options: AddTaskOptions = {},
  ): Promise<void> {
    const prefix = "addTask: ";
    checkName(name, prefix);
    rejectOptionKeys(options, TASK_OPTIONS, `${prefix}options`);
    const intervalMs = checkInterval(intervalSeconds, "intervalSeconds", prefix);
    checkFunction(fn, "fn", prefix);
    const aligned = checkAligned(options?.aligned, prefix);
    this.#put({
      name,
      fn,
      intervalMs,
      cron: undefined,
      nextRunAt: this.#firstIntervalRun(intervalMs, aligned),
    });
  }

  /**
   * Runs `fn` on a five-field cron expression (`"*\/15 9-17 * * 1-5"`) or a macro
   * (`@yearly`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`), read in
   * `timezone`. Days of month and week combine with OR when both are set, as in Vixie cron.
   */
  async addCron(
    name: string,
    expression: string,
    fn: TaskFunction,
    options: AddCronOptions = {},
  ): Promise<void> {
    const prefix = "addCron: ";
    checkName(name, prefix);
    checkFunction(fn, "fn", prefix);
    if (options === null || typeof options !== "object") {
      throw new ScheduleConfigError(
        "options",
        `${prefix}options must be an object such as { timezone: "UTC" }, got ${describeValue(options)}`,
      );
    }
    rejectOptionKeys(options, CRON_OPTIONS, `${prefix}options`);
    const cron = parseCron(expression, options.timezone, {
      cronField: "expression",
      timezoneField: "timezone",
      prefix,
    });
    this.#put({
      name,
      fn,
      intervalMs: undefined,
      cron,
      nextRunAt: cron.next(this.#clock.now()),
    });
  }

  /**
   * Enqueues a job on a schedule instead of calling a function, so the work runs on
   * the workers (with their retries) and the scheduler stays light.
   */
  async addJob(name: string, options: AddJobOptions): Promise<void> {
    const prefix = "addJob: ";
    checkName(name, prefix);
    if (options === null || typeof options !== "object" || Array.isArray(options)) {
      throw new ScheduleConfigError(
        "options",
        `${prefix}options must be an object { intervalSeconds | cron, queue, jobName, payload? }, got ${describeValue(options)}`,
      );
    }
    rejectOptionKeys(options, JOB_OPTIONS, `${prefix}options`);
    const hasInterval = options.intervalSeconds !== undefined;
    const hasCron = options.cron !== undefined;
    if (hasInterval === hasCron) {
      throw new ScheduleConfigError(
        hasInterval ? "cron" : "intervalSeconds",
        `${prefix}give exactly one of intervalSeconds or cron, got ${hasInterval ? "both" : "neither"}`,
      );
    }
    if (hasCron && options.aligned !== undefined) {
      throw new ScheduleConfigError(
        "aligned",
        `${prefix}aligned only applies to intervalSeconds; cron schedules are aligned already`,
      );
    }
    const aligned = checkAligned(options.aligned, prefix);
    if (hasInterval && options.timezone !== undefined) {
      throw new ScheduleConfigError(
        "timezone",
        `${prefix}timezone only applies to cron schedules; remove it or use cron`,
      );
    }
    const queue = options.queue;
    if (queue === null || typeof queue !== "object" || typeof queue.enqueue !== "function") {
      throw new ScheduleConfigError(
        "queue",
        `${prefix}queue must be a JobQueue (something with enqueue()), got ${describeValue(queue)}`,
      );
    }
    const jobName = convert("jobName", prefix, () => validateJobName(options.jobName, "jobName"));
    if (options.payload !== undefined && options.payloadFactory !== undefined) {
      throw new ScheduleConfigError(
        "payloadFactory",
        `${prefix}give payload or payloadFactory, not both`,
      );
    }
    const payloadJson =
      options.payload === undefined
        ? "{}"
        : convert("payload", prefix, () => serializePayload(options.payload, undefined, "payload"));
    const factory = options.payloadFactory;
    if (factory !== undefined) checkFunction(factory, "payloadFactory", prefix);
    const enqueueOptions = options.enqueueOptions;
    convert("enqueueOptions", prefix, () =>
      validateEnqueueOptions(enqueueOptions, "enqueueOptions"),
    );

    const fn: TaskFunction = async (context) => {
      const payload = factory ? await factory(context) : (JSON.parse(payloadJson) as JsonObject);
      await queue.enqueue(jobName, payload, enqueueOptions);
    };
    if (hasInterval) {
      const intervalMs = checkInterval(options.intervalSeconds, "intervalSeconds", prefix);
      this.#put({
        name,
        fn,
        intervalMs,
        cron: undefined,
        nextRunAt: this.#firstIntervalRun(intervalMs, aligned),
      });
    } else {
      const cron = parseCron(options.cron, options.timezone, {
        cronField: "cron",
        timezoneField: "timezone",
        prefix,
      });
      this.#put({ name, fn, intervalMs: undefined, cron, nextRunAt: cron.next(this.#clock.now()) });
    }
  }

  /** Removes a task; a run in flight finishes. Resolves to whether the name was registered. */
  async removeTask(name: string): Promise<boolean> {
    return this.#tasks.delete(name);
  }

  /** The next due time of a task, or `undefined` for an unknown name (`null` when a cron never fires again). */
  async nextRunAt(name: string): Promise<Date | null | undefined> {
    const task = this.#tasks.get(name);
    if (!task) return undefined;
    return Number.isFinite(task.nextRunAt) ? new Date(task.nextRunAt) : null;
  }

  /**
   * Fires every task whose due time is at or before `clock.now()` and waits for the
   * runs it started. With a leader, asks `acquire()` first and fires nothing unless it
   * is true (schedules still advance). Resolves to the names of the tasks it fired.
   */
  async tick(): Promise<string[]> {
    // A stop() of an earlier run must not hand manual ticks an already-fired signal.
    if (!this.#loop && this.#stopController.signal.aborted) {
      this.#stopController = new AbortController();
    }
    const started = await this.#dispatch(false);
    await Promise.all(started.map(([, run]) => run));
    return started.map(([name]) => name);
  }

  /**
   * Ticks until `stop()`: sleeps until the next due time (at most
   * `tickIntervalSeconds`, and at most a third of the leader's lease), fires what is
   * due without waiting for it, and repeats. Settles after `stop()`, once runs in
   * flight have finished and the leader lease has been released.
   */
  run(): Promise<void> {
    if (!this.#loop) {
      if (this.#stopController.signal.aborted) this.#stopController = new AbortController();
      this.#stopping = false;
      this.#loop = this.#runLoop().finally(() => {
        this.#loop = undefined;
      });
    }
    return this.#loop;
  }

  /**
   * Stops `run()`: ends its wait at once, fires the AbortSignal tasks received, and
   * resolves once `run()` has settled (running tasks finished, lease released).
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#stopController.abort(
      new JobsError("scheduler stopped: stop() was called, so running tasks should wind down", {
        code: "ERR_SCHEDULER_STOPPED",
      }),
    );
    this.#wake?.();
    await this.#loop;
  }

  #firstIntervalRun(intervalMs: number, aligned: boolean): number {
    const now = this.#clock.now();
    return aligned ? (Math.floor(now / intervalMs) + 1) * intervalMs : now + intervalMs;
  }

  #put(task: Task): void {
    this.#tasks.set(task.name, task);
    // A sleeping run() may be waiting past this task's first due time.
    this.#wake?.();
  }

  async #runLoop(): Promise<void> {
    try {
      while (!this.#stopping) {
        await this.#dispatch(true);
        if (this.#stopping) break;
        await this.#sleep(this.#waitMs());
      }
    } finally {
      while (this.#running.size > 0) {
        await Promise.all(this.#running.values());
      }
      if (this.#leader) {
        try {
          // Best effort: an unreachable Redis must not hold shutdown hostage; the lease
          // then simply runs out.
          await withTimeout(this.#leader.release(), this.#releaseTimeoutMs);
        } catch (error) {
          safeLog(this.#logger, "warn", "scheduler: releasing the leader lease failed", {
            err: error,
          });
        }
        this.#leading = undefined;
      }
    }
  }

  async #dispatch(fromLoop: boolean): Promise<[string, Promise<void>][]> {
    let leading = true;
    if (this.#leader) {
      try {
        const acquiring = this.#leader.acquire();
        // A stop() must not wait for a Redis that hangs (ioredis queues commands while offline).
        leading =
          (fromLoop
            ? await untilAborted(acquiring, this.#stopController.signal)
            : await acquiring) === true;
      } catch (error) {
        leading = false;
        safeLog(
          this.#logger,
          "warn",
          "scheduler: leader.acquire() failed; no tasks fire until it succeeds",
          { err: error },
        );
      }
      if (leading !== this.#leading) {
        if (leading || this.#leading !== undefined) {
          safeLog(
            this.#logger,
            "info",
            leading ? "scheduler: became leader" : "scheduler: lost leadership",
          );
        }
        this.#leading = leading;
      }
    }
    if (fromLoop && this.#stopping) return [];
    const now = this.#clock.now();
    const started: [string, Promise<void>][] = [];
    for (const task of [...this.#tasks.values()]) {
      if (task.nextRunAt > now) continue;
      const scheduledAt = task.nextRunAt;
      task.nextRunAt = following(task, now);
      if (!leading) continue;
      if (this.#running.has(task.name)) {
        safeLog(
          this.#logger,
          "warn",
          `scheduler: task "${task.name}" is still running from an earlier run; skipping the run due at ${new Date(scheduledAt).toISOString()}`,
          { task: task.name },
        );
        continue;
      }
      started.push([task.name, this.#start(task, scheduledAt)]);
    }
    return started;
  }

  #start(task: Task, scheduledAt: number): Promise<void> {
    const context: TaskContext = {
      name: task.name,
      scheduledAt: new Date(scheduledAt),
      signal: this.#stopController.signal,
    };
    const run = (async () => {
      try {
        await task.fn(context);
      } catch (error) {
        safeLog(
          this.#logger,
          "error",
          `scheduler: task "${task.name}" failed; it runs again at its next due time`,
          { task: task.name, err: error },
        );
      }
    })();
    const entry: Promise<void> = run.finally(() => {
      if (this.#running.get(task.name) === entry) this.#running.delete(task.name);
    });
    this.#running.set(task.name, entry);
    return entry;
  }

  #waitMs(): number {
    const now = this.#clock.now();
    let wait = this.tickIntervalSeconds * 1000;
    if (this.#renewMs !== undefined) wait = Math.min(wait, this.#renewMs);
    for (const task of this.#tasks.values()) wait = Math.min(wait, task.nextRunAt - now);
    return Math.min(Math.max(wait, 0), MAX_TIMER_MS);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }
}

/**
 * The former name of {@link Scheduler}, from when it had no leader: the same class.
 * @deprecated Use `Scheduler`; this alias will be removed in a future major version.
 */
export const InMemoryScheduler = Scheduler;
/**
 * The former name of {@link Scheduler}.
 * @deprecated Use `Scheduler`; this alias will be removed in a future major version.
 */
export type InMemoryScheduler = Scheduler;

/**
 * The former name of {@link SchedulerOptions}.
 * @deprecated Use `SchedulerOptions`; this alias will be removed in a future major version.
 */
export type InMemorySchedulerOptions = SchedulerOptions;

/** Resolves like `promise`, or to `undefined` as soon as `signal` fires. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {});
      resolve(undefined);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** Rejects when `promise` has not settled within `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      promise.catch(() => {});
      reject(new BackendError(`no answer within ${ms} ms`));
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** The first due time after `now`, skipping (coalescing) occurrences already missed. */
function following(task: Task, now: number): number {
  if (task.cron) return task.cron.next(now);
  const interval = task.intervalMs!;
  let next = task.nextRunAt + interval;
  if (next <= now) next += (Math.floor((now - next) / interval) + 1) * interval;
  return next;
}

function checkName(name: unknown, prefix: string): void {
  if (typeof name !== "string" || name.trim().length === 0) {
    throw new ScheduleConfigError(
      "name",
      `${prefix}name must be a non-empty string naming the task, got ${describeValue(name)}`,
    );
  }
}

function checkInterval(value: unknown, field: string, prefix: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new ScheduleConfigError(
      field,
      `${prefix}${field} must be a finite number of seconds > 0 (fractions allowed), got ${describeValue(value)}`,
    );
  }
  return value * 1000;
}

function checkAligned(value: unknown, prefix: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") {
    throw new ScheduleConfigError(
      "aligned",
      `${prefix}aligned must be true or false, got ${describeValue(value)}`,
    );
  }
  return value;
}

function checkFunction(value: unknown, field: string, prefix: string): void {
  if (typeof value !== "function") {
    throw new ScheduleConfigError(
      field,
      `${prefix}${field} must be a function (sync or async), got ${describeValue(value)}`,
    );
  }
}

/** Runs a core validator and reports its error as a ScheduleConfigError on `field`. */
function convert<T>(field: string, prefix: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const inner = (error as { field?: unknown } | null)?.field;
    throw new ScheduleConfigError(
      typeof inner === "string" ? inner : field,
      `${prefix}${message}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Throws a `ScheduleConfigError` on the key when an options object has a key `known`
 * does not list; anything that is not an object is left to the caller's own checks.
 */
function rejectOptionKeys(options: unknown, known: KnownKeys, where: string): void {
  if (options === null || typeof options !== "object") return;
  rejectUnknownKeys(options, known, where, (key, message) => new ScheduleConfigError(key, message));
}
