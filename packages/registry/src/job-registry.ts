import {
  defaultTimeoutSeconds,
  type HandlerContext,
  type Job,
  type JobHandler,
  JobTimeoutError,
  JobValidationError,
  type JsonObject,
  type JsonPayload,
  type JsonValue,
} from "@svc-jobs/core";
import {
  type KnownKeys,
  rejectUnknownKeys,
  validateJobName,
  validateSeconds,
} from "@svc-jobs/core/backend";
import { DuplicateHandlerError } from "./duplicate-handler-error.js";
import { InvalidJobResultError } from "./invalid-job-result-error.js";
import { JobFailedError } from "./job-failed-error.js";
import { JobMetrics, type TrackQueueOptions } from "./job-metrics.js";
import type { JobResult } from "./job-result.js";
import type { MetricsRegistry } from "./metrics-registry.js";
import type { RegistryHandler } from "./registry-handler.js";
import type { StatsSource } from "./stats-source.js";
import { UnknownJobError } from "./unknown-job-error.js";

/**
 * The timeout of a direct {@link JobRegistry.dispatch} call when neither the option nor
 * `JOB_DEFAULT_TIMEOUT_SECONDS` sets one. A worker's jobs are timed by the worker instead.
 */
export const DEFAULT_DISPATCH_TIMEOUT_SECONDS = 300;

// setTimeout fires at once for delays above 2^31-1 ms; longer timeouts mean "no timer".
const MAX_TIMER_SECONDS = 2_147_483;
/** The timeout of a dispatch that runs no timer (the worker's rules). */
const NO_TIMER = Number.POSITIVE_INFINITY;

const TIMEOUT_HINTS = { timeout: "timeoutSeconds", timeoutMs: "timeoutSeconds (in seconds)" };

const REGISTRY_OPTIONS: KnownKeys = {
  keys: ["metricPrefix", "registry", "metrics", "timeoutSeconds", "durationBuckets"],
  hints: {
    ...TIMEOUT_HINTS,
    prefix: "metricPrefix",
    enabled: "metrics",
    metricsEnabled: "metrics",
    buckets: "durationBuckets",
  },
  noun: "JobRegistry option",
};
const REGISTER_OPTIONS: KnownKeys = {
  keys: ["replace"],
  hints: { override: "replace", overwrite: "replace", force: "replace" },
  noun: "register option",
};
const DISPATCH_OPTIONS: KnownKeys = {
  keys: ["timeoutSeconds", "signal"],
  hints: TIMEOUT_HINTS,
  noun: "dispatch option",
};
const AS_HANDLER_OPTIONS: KnownKeys = {
  keys: ["timeoutSeconds"],
  hints: TIMEOUT_HINTS,
  noun: "asHandler option",
};

/** Options of {@link JobRegistry}. */
export interface JobRegistryOptions {
  /**
   * Prefix of the metric names (`{prefix}_processed_total`, ...). Letters, digits,
   * `_` and `:`, not starting with a digit.
   * @default "jobs"
   */
  metricPrefix?: string;
  /**
   * The prom-client `Registry` to create the metrics in. Registries with the same
   * prefix and the same prom-client registry share one set of metrics.
   * @default prom-client's global `register`
   */
  registry?: MetricsRegistry;
  /** Set to `false` to record no metrics even when prom-client is installed. @default true */
  metrics?: boolean;
  /**
   * Default handler timeout of {@link JobRegistry.dispatch}, in seconds;
   * `Infinity` for none. When set, it is also the timeout {@link JobRegistry.asHandler}
   * asks a worker for (a worker's own `timeoutSeconds` wins over it).
   * @default for `dispatch`: `JOB_DEFAULT_TIMEOUT_SECONDS` when set, else 300; for `asHandler`: none (the worker's rules)
   */
  timeoutSeconds?: number;
  /** Buckets of the duration histogram, in seconds. @default DEFAULT_DURATION_BUCKETS_SECONDS */
  durationBuckets?: readonly number[];
}

/** Options of {@link JobRegistry.register}. */
export interface RegisterOptions {
  /** Replace a handler already registered under the name instead of throwing. @default false */
  replace?: boolean;
}

/** Options of {@link JobRegistry.dispatch}. */
export interface DispatchOptions {
  /**
   * Seconds the handler may run before its AbortSignal fires and dispatch rejects
   * with `JobTimeoutError`; `Infinity` for none.
   * @default the registry's `timeoutSeconds` (300 unless configured)
   */
  timeoutSeconds?: number;
  /**
   * An outer signal (e.g. the worker's); when it fires, the handler's signal fires
   * too. When its reason is a `JobTimeoutError` (the worker timed the job out),
   * dispatch rejects with that error at once and counts status `timeout`.
   */
  signal?: AbortSignal;
}

/** Options of {@link JobRegistry.asHandler}. */
export interface AsHandlerOptions {
  /**
   * The timeout, in seconds, the handler asks its worker for (`Infinity`: none). The
   * worker applies it when it is given no `timeoutSeconds` of its own, over
   * `JOB_DEFAULT_TIMEOUT_SECONDS`; the handler runs no timer itself.
   * @default the registry's `timeoutSeconds` option when set, else none (the worker's rules)
   */
  timeoutSeconds?: number;
}

/**
 * Routes jobs to handlers by job name, with structured results and (when prom-client
 * is installed) Prometheus metrics. Run by a worker (through {@link JobRegistry.asHandler}),
 * it is only a router: the worker owns the job's timeout and abort signal.
 *
 * Outcomes of {@link JobRegistry.dispatch} and their `status` label:
 * - the handler returns nothing or `{ success: true, ... }`: `success`, resolves with the result;
 * - it returns `{ success: false, ... }`: `failure`, resolves with the result;
 * - it runs past the timeout (dispatch's own, or the worker's, which fires the signal
 *   given to dispatch with a `JobTimeoutError`): `timeout`, its signal fires, rejects
 *   with `JobTimeoutError`;
 * - it throws (including its own timeout errors), returns something that is not a
 *   `JobResult`, or no handler is registered: `error`, rejects with that error
 *   (`UnknownJobError` for a missing handler).
 *
 * @example
 * ```ts
 * const registry = new JobRegistry({ metricPrefix: "myapp_jobs" });
 * registry.register("send_email", async (job, { signal }) => {
 *   await mailer.send(job.payload, { signal });
 *   return { success: true, message: `sent to ${job.payload.to}` };
 * });
 * registry.trackQueue(queue);
 * await new WorkerRunner(queue, registry.asHandler({ timeoutSeconds: 60 })).start();
 * ```
 */
export class JobRegistry {
  /** The prefix of this registry's metric names. */
  readonly metricPrefix: string;
  /**
   * The registry's metrics (see {@link JobMetrics}): what its `asHandler()` feeds
   * through the worker's `onJobSettled`, and what a direct `dispatch` records in. Pass
   * `jobMetrics.onJobSettled` to a worker running other handlers to count their jobs in
   * the same metrics; a job is counted once however many hooks report it.
   */
  readonly jobMetrics: JobMetrics;

  readonly #handlers = new Map<string, RegistryHandler>();
  /** Timeout of a direct `dispatch`: the option, else the environment, else 300 s. */
  readonly #timeoutSeconds: number;
  /** The `timeoutSeconds` option as given (what `asHandler()` asks a worker for), or undefined. */
  readonly #optionTimeoutSeconds: number | undefined;

  constructor(options: JobRegistryOptions = {}) {
    rejectUnknownKeys(options, REGISTRY_OPTIONS, "options");
    this.jobMetrics = new JobMetrics({
      ...(options.metricPrefix === undefined ? {} : { metricPrefix: options.metricPrefix }),
      ...(options.registry === undefined ? {} : { registry: options.registry }),
      ...(options.metrics === undefined ? {} : { enabled: options.metrics }),
      ...(options.durationBuckets === undefined
        ? {}
        : { durationBuckets: options.durationBuckets }),
    });
    this.metricPrefix = this.jobMetrics.metricPrefix;
    this.#optionTimeoutSeconds =
      options.timeoutSeconds === undefined
        ? undefined
        : checkTimeout("timeoutSeconds", options.timeoutSeconds);
    this.#timeoutSeconds =
      this.#optionTimeoutSeconds ?? defaultTimeoutSeconds() ?? DEFAULT_DISPATCH_TIMEOUT_SECONDS;
  }

  /**
   * Whether this registry records Prometheus metrics: prom-client is installed and
   * `metrics` was not set to `false`. Reading it creates the metrics.
   */
  get metricsEnabled(): boolean {
    return this.jobMetrics.enabled;
  }

  /**
   * Registers `handler` for jobs named `name`. Throws `DuplicateHandlerError` when
   * the name already has a handler, unless `{ replace: true }`. Any core `JobHandler`
   * can be registered (a webhook handler from `makeWebhookHandler`, say); `P` types
   * the payload the handler expects.
   *
   * @example
   * ```ts
   * interface ReportPayload { reportId: string }
   * registry.register<ReportPayload>("generate_report", async (job) => {
   *   await reports.generate(job.payload.reportId);
   * });
   * ```
   */
  register<P extends JsonPayload<P> = JsonObject>(
    name: string,
    handler: RegistryHandler<P>,
    options: RegisterOptions = {},
  ): this {
    validateJobName(name, "name");
    rejectUnknownKeys(options, REGISTER_OPTIONS, "options");
    if (typeof handler !== "function") {
      throw new JobValidationError(
        "handler",
        `the handler for job "${name}" must be a function (job, { signal }) => JobResult | void, got ${handler === null ? "null" : typeof handler}`,
      );
    }
    if (this.#handlers.has(name) && options.replace !== true) {
      throw new DuplicateHandlerError(name);
    }
    this.#handlers.set(name, handler as unknown as RegistryHandler);
    return this;
  }

  /**
   * The decorator-style form of {@link JobRegistry.register}: returns a function
   * that registers a handler under `name` and returns that handler unchanged. `P`
   * types the payload of the handler given to it (unless that handler is typed itself).
   *
   * @example
   * ```ts
   * export const sendEmail = registry.handler<EmailPayload>("send_email")(async (job) => {
   *   await mailer.send(job.payload.to);
   *   return { success: true, message: "sent" };
   * });
   * ```
   */
  handler<P extends JsonPayload<P> = JsonObject>(
    name: string,
    options: RegisterOptions = {},
  ): <Q extends JsonPayload<Q> = P>(handler: RegistryHandler<Q>) => RegistryHandler<Q> {
    validateJobName(name, "name");
    rejectUnknownKeys(options, REGISTER_OPTIONS, "options");
    return (handler) => {
      this.register(name, handler, options);
      return handler;
    };
  }

  /** Removes the handler for `name`; false when there was none. */
  unregister(name: string): boolean {
    return this.#handlers.delete(name);
  }

  /** Whether a handler is registered for `name`. */
  hasHandler(name: string): boolean {
    return this.#handlers.has(name);
  }

  /** The handler registered for `name`, or `undefined`. */
  getHandler(name: string): RegistryHandler | undefined {
    return this.#handlers.get(name);
  }

  /** The registered job names, in registration order. */
  listHandlers(): string[] {
    return [...this.#handlers.keys()];
  }

  /**
   * Runs the handler registered for `job.name` with a timeout and records metrics.
   * Resolves with the {@link JobResult} (`success: false` included); rejects with
   * `UnknownJobError`, `JobTimeoutError`, `InvalidJobResultError` or whatever the
   * handler threw. See the class description for the status of each outcome.
   *
   * Called directly, dispatch runs its own timer (`timeoutSeconds`, else the
   * registry's default). Jobs run by a worker go through {@link JobRegistry.asHandler},
   * which runs no timer: the worker's timeout rules.
   */
  async dispatch<P extends JsonPayload<P> = JsonObject>(
    job: Job<P>,
    options: DispatchOptions = {},
  ): Promise<JobResult> {
    rejectUnknownKeys(options, DISPATCH_OPTIONS, "options");
    const timeoutSeconds =
      options.timeoutSeconds === undefined
        ? this.#timeoutSeconds
        : checkTimeout("timeoutSeconds", options.timeoutSeconds);
    return this.#dispatch(job as Job, timeoutSeconds, options.signal, this.jobMetrics);
  }

  /**
   * A core `JobHandler` that dispatches through this registry, for `WorkerRunner`
   * and `processOne`. It throws `JobFailedError` (message: the result's message)
   * when a handler returns `success: false`, so the queue records the failure and
   * retries; unknown names, timeouts and errors fail the job the same way. The
   * worker's signal (fired on a timeout, a cancel or a stop) and `progress` are
   * forwarded to the registry handler.
   *
   * On success it resolves to the {@link JobResult} as plain JSON,
   * `{ success, message, details? }` (`details` as its JSON round trip, left out when it
   * has no JSON form), which the worker stores as the job's result when the queue keeps
   * completed jobs (`keepCompleted`).
   *
   * It runs no timer of its own: the worker owns the job's timeout and signal. Its
   * `timeoutSeconds` property (from `options.timeoutSeconds`, else the registry's
   * `timeoutSeconds` option) is what it asks the worker for; the worker uses it unless
   * it is given a `timeoutSeconds` of its own, and over `JOB_DEFAULT_TIMEOUT_SECONDS`.
   *
   * Its metrics come from the worker: its `onJobSettled` property (which `WorkerRunner`
   * and `processOne` call once per job) records each outcome in {@link JobRegistry.jobMetrics},
   * so a job the worker times out counts as status `timeout`. Called without a worker,
   * it records nothing.
   *
   * @example
   * ```ts
   * const runner = new WorkerRunner(queue, registry.asHandler(), { timeoutSeconds: 60 });
   * ```
   */
  asHandler(options: AsHandlerOptions = {}): JobHandler {
    rejectUnknownKeys(options, AS_HANDLER_OPTIONS, "options");
    const timeoutSeconds =
      options.timeoutSeconds === undefined
        ? this.#optionTimeoutSeconds
        : checkTimeout("timeoutSeconds", options.timeoutSeconds);
    const handler = async (job: Job, context: HandlerContext): Promise<JobResult> => {
      const result = await this.#dispatch(
        job,
        NO_TIMER,
        context?.signal,
        undefined,
        typeof context?.progress === "function" ? context.progress : undefined,
      );
      if (!result.success) throw new JobFailedError(job.name, result);
      return plainJobResult(result);
    };
    const { onJobSettled } = this.jobMetrics;
    return Object.assign(
      handler,
      timeoutSeconds === undefined ? { onJobSettled } : { onJobSettled, timeoutSeconds },
    );
  }

  /** Runs a job's handler; records in `jobMetrics` when given (a direct dispatch; a worker's hook records the rest). */
  async #dispatch(
    job: Job,
    timeoutSeconds: number,
    outer: AbortSignal | undefined,
    jobMetrics: JobMetrics | undefined,
    progress: HandlerContext["progress"] = noProgress,
  ): Promise<JobResult> {
    if (job === null || typeof job !== "object" || typeof job.name !== "string") {
      throw new JobValidationError(
        "job",
        `dispatch needs a Job with a string name, got ${job === null ? "null" : typeof job}: pass the job a queue's reserveNext() returned`,
      );
    }
    // Created before the handler runs, so a clashing metric fails the dispatch up front.
    const metrics = jobMetrics?.enabled ? jobMetrics : undefined;
    const handler = this.#handlers.get(job.name);
    if (!handler) {
      const error = new UnknownJobError(job.name, this.listHandlers());
      metrics?.record(job.name, "failed", 0, error);
      throw error;
    }

    const controller = new AbortController();
    // Only the error given to timeOut() means "timed out" (this timer's, or the
    // worker's through the outer signal); a TimeoutError the handler throws itself is
    // the handler's error.
    let timeoutError: unknown;
    let rejectTimedOut: ((error: unknown) => void) | undefined;
    const timeOut = (error: unknown) => {
      if (timeoutError !== undefined) return;
      timeoutError = error;
      controller.abort(error);
      rejectTimedOut?.(error);
    };
    const forwardAbort = () => {
      if (isJobTimeoutError(outer?.reason)) timeOut(outer?.reason);
      else controller.abort(outer?.reason);
    };
    const timed = timeoutSeconds <= MAX_TIMER_SECONDS;
    const timedOut =
      timed || outer !== undefined
        ? new Promise<never>((_, reject) => {
            rejectTimedOut = reject;
          })
        : undefined;
    if (outer?.aborted) forwardAbort();
    else outer?.addEventListener("abort", forwardAbort, { once: true });

    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    if (timed) {
      timer = setTimeout(
        () => timeOut(new JobTimeoutError(job.name, timeoutSeconds)),
        timeoutSeconds * 1000,
      );
    }
    const run = (async () => handler(job, { signal: controller.signal, progress }))();
    // A timeout that fired before the handler started has settled timedOut already.
    const outcome = timedOut ? Promise.race([run, timedOut]) : run;

    let result: JobResult;
    try {
      result = toJobResult(job.name, await outcome);
    } catch (error) {
      const seconds = (performance.now() - started) / 1000;
      const timedOutHere = timeoutError !== undefined && error === timeoutError;
      metrics?.record(job.name, timedOutHere ? "timeout" : "failed", seconds, error);
      throw error;
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener("abort", forwardAbort);
    }
    if (metrics) {
      const seconds = (performance.now() - started) / 1000;
      if (result.success) metrics.record(job.name, "completed", seconds);
      else metrics.record(job.name, "failed", seconds, new JobFailedError(job.name, result));
    }
    return result;
  }

  /**
   * Reports a queue's `stats()` as the gauge `{prefix}_queue_size{queue,state}`
   * (states ready, delayed, processing, dlq), read on every scrape. A queue whose
   * `stats()` fails is left out of that scrape. Does nothing without metrics.
   * Returns a function that stops tracking it.
   *
   * @example
   * ```ts
   * registry.trackQueue(queue); // jobs_queue_size{queue="default",state="dlq"}
   * registry.trackQueue(emailQueue, { name: "email" });
   * ```
   */
  trackQueue(queue: StatsSource, options: TrackQueueOptions = {}): () => void {
    return this.jobMetrics.trackQueue(queue, options);
  }
}

/**
 * Whether an abort reason is a job timeout: core's `JobTimeoutError`, also from another
 * copy of the package (a handlers module may bring its own).
 */
function isJobTimeoutError(reason: unknown): boolean {
  return (
    reason instanceof JobTimeoutError ||
    (reason instanceof Error &&
      reason.name === "JobTimeoutError" &&
      (reason as { code?: unknown }).code === "ERR_JOB_TIMEOUT")
  );
}

/** `ctx.progress` of a direct dispatch: there is no queue to report to. */
function noProgress(_value: JsonValue): Promise<void> {
  return Promise.resolve();
}

/**
 * A result as the plain JSON a queue stores: only `success`, `message` and `details`
 * (as its JSON round trip; left out when it has none, e.g. a cycle or a bigint).
 */
function plainJobResult(result: JobResult): JobResult {
  const plain: JobResult = { success: result.success, message: result.message };
  if (result.details !== undefined) {
    try {
      const text = JSON.stringify(result.details);
      if (text !== undefined) plain.details = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // No JSON form: the result is kept without its details.
    }
  }
  return plain;
}

function checkTimeout(field: string, value: unknown): number {
  if (value === Number.POSITIVE_INFINITY) return value;
  return validateSeconds(field, value, 0.001);
}

function toJobResult(jobName: string, value: unknown): JobResult {
  if (value === undefined || value === null) {
    return { success: true, message: `job "${jobName}" completed` };
  }
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidJobResultError(
      jobName,
      value,
      Array.isArray(value) ? "an array" : typeof value,
    );
  }
  const { success, message, details } = value as Partial<JobResult>;
  if (typeof success !== "boolean") {
    throw new InvalidJobResultError(jobName, value, `an object whose success is ${typeof success}`);
  }
  if (typeof message !== "string") {
    throw new InvalidJobResultError(jobName, value, `an object whose message is ${typeof message}`);
  }
  if (details !== undefined && (details === null || typeof details !== "object")) {
    throw new InvalidJobResultError(
      jobName,
      value,
      `an object whose details is ${details === null ? "null" : typeof details}`,
    );
  }
  return value as JobResult;
}
