import path from "node:path";
import { pathToFileURL } from "node:url";
import {
  importModule,
  isPathLike,
  type JobQueue,
  type JsonObject,
  parseModuleExport,
} from "@svc-jobs/core";
import {
  describeValue,
  type KnownKeys,
  rejectUnknownKeys,
  serializePayload,
  validateJobName,
} from "@svc-jobs/core/backend";
import { parseCron } from "./cron-schedule.js";
import type { Scheduler, TaskFunction } from "./in-memory-scheduler.js";
import { ScheduleConfigError } from "./schedule-config-error.js";

/** Options of {@link scheduleFromEnv}. */
export interface ScheduleFromEnvOptions {
  /** The queue that `job_name` entries enqueue into. Required when any entry has `job_name`. */
  queue?: Pick<JobQueue, "enqueue">;
  /** The environment variable holding the JSON array. @default "JOBS_SCHEDULE_JSON" */
  envVar?: string;
  /** Where variables are read from. @default process.env */
  env?: Record<string, string | undefined>;
  /** Directory that `./` and `../` targets are relative to. @default process.cwd() */
  cwd?: string;
  /**
   * Loads a target's module. It receives a `file:` URL for path targets and the bare
   * specifier for packages. The default is core's `importModule` (the loader
   * `svc-jobs run --handlers` uses too): paths relative to `cwd`, packages found from
   * `cwd` the way an `import()` in a file there finds them, exports maps honoured.
   * @default core's importModule from `cwd`
   */
  importModule?: (specifier: string) => Promise<Record<string, unknown>>;
}

type Schedule = { intervalSeconds: number } | { cron: string; timezone: string | undefined };

interface TargetEntry {
  kind: "target";
  index: number;
  name: string;
  schedule: Schedule;
  target: string;
  /** The module as written. */
  module: string;
  /** What `importModule` gets: a `file:` URL for paths, the package as written. */
  specifier: string;
  exportName: string;
}

interface JobEntry {
  kind: "job";
  index: number;
  name: string;
  schedule: Schedule;
  jobName: string;
  payload: JsonObject;
  delaySeconds: number | undefined;
}

const OPTIONS: KnownKeys = {
  keys: ["queue", "envVar", "env", "cwd", "importModule"],
  hints: {
    envName: "envVar",
    variable: "envVar",
    dir: "cwd",
    baseDir: "cwd",
    import: "importModule",
  },
  noun: "scheduleFromEnv option",
};
const ENTRY_FIELDS: KnownKeys = {
  keys: [
    "name",
    "interval_seconds",
    "cron",
    "timezone",
    "target",
    "job_name",
    "payload",
    "delay_seconds",
  ],
  // intervalSeconds, jobName, timeZone, delaySeconds need none: case and "_" are ignored.
  hints: {
    interval: "interval_seconds",
    seconds: "interval_seconds",
    job: "job_name",
    tz: "timezone",
    delay: "delay_seconds",
    func: "target",
    function: "target",
    handler: "target",
    module: "target",
    schedule: "cron",
  },
  noun: "field",
};
const EXPORT_NAME = /^[A-Za-z_$][\w$]*$/;

/**
 * Registers the tasks described by a JSON array in an environment variable
 * (`JOBS_SCHEDULE_JSON` by default). Each entry either calls a function:
 *
 * `{ "name", "interval_seconds" | "cron", "timezone"?, "target": "module:export" }`
 *
 * or enqueues a job into `options.queue`:
 *
 * `{ "name", "interval_seconds" | "cron", "timezone"?, "job_name", "payload"?, "delay_seconds"? }`
 *
 * A target's module is a path relative to the working directory when it starts with
 * `./` or `../` (or an absolute path), and a package otherwise; `module#export` works
 * too. Every entry is checked, and every target imported, before any is registered:
 * on a bad config this throws a {@link ScheduleConfigError} naming the entry index and
 * field, and nothing is scheduled. An unset or empty variable schedules nothing.
 * Resolves to the names registered.
 *
 * @example
 * ```ts
 * // JOBS_SCHEDULE_JSON='[{"name":"cleanup","interval_seconds":300,"target":"./dist/tasks.js:cleanup"},
 * //                      {"name":"digest","cron":"0 8 * * *","timezone":"UTC","job_name":"send_digest"}]'
 * const scheduler = new Scheduler();
 * await scheduleFromEnv(scheduler, { queue });
 * await scheduler.run();
 * ```
 */
export async function scheduleFromEnv(
  scheduler: Pick<Scheduler, "addTask" | "addCron" | "addJob">,
  options: ScheduleFromEnvOptions = {},
): Promise<string[]> {
  if (options !== null && typeof options === "object") {
    rejectUnknownKeys(
      options,
      OPTIONS,
      "scheduleFromEnv: options",
      (key, message) => new ScheduleConfigError(key, message),
    );
  }
  const envVar = options.envVar ?? "JOBS_SCHEDULE_JSON";
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const raw = env[envVar];
  if (raw === undefined || raw.trim().length === 0) return [];

  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new ScheduleConfigError(
      envVar,
      `${envVar} is not valid JSON (${error instanceof Error ? error.message : String(error)}): it must be a JSON array such as [{"name":"cleanup","interval_seconds":300,"target":"./tasks.js:cleanup"}]`,
      { cause: error },
    );
  }
  if (!Array.isArray(parsed)) {
    throw new ScheduleConfigError(
      envVar,
      `${envVar} must be a JSON array of schedule entries, got ${describeValue(parsed)}: wrap a single entry in [ ]`,
    );
  }

  const entries = parsed.map((item, index) => checkEntry(item, index, envVar, cwd, options));
  const seen = new Map<string, number>();
  for (const entry of entries) {
    const first = seen.get(entry.name);
    if (first !== undefined) {
      throw new ScheduleConfigError(
        "name",
        `${envVar}[${entry.index}].name ${JSON.stringify(entry.name)} is also the name of entry ${first}: names must be unique (a second one would replace the first)`,
        { index: entry.index },
      );
    }
    seen.set(entry.name, entry.index);
  }

  // Import every target before registering anything, so a bad one starts nothing.
  const custom = options.importModule;
  const load = custom
    ? (entry: TargetEntry) => custom(entry.specifier)
    : async (entry: TargetEntry) => (await importModule(entry.module, { cwd })).namespace;
  const modules = new Map<string, Promise<Record<string, unknown>>>();
  const functions = new Map<number, TaskFunction>();
  for (const entry of entries) {
    if (entry.kind !== "target") continue;
    let loading = modules.get(entry.specifier);
    if (!loading) {
      loading = Promise.resolve().then(() => load(entry));
      modules.set(entry.specifier, loading);
    }
    const where = `${envVar}[${entry.index}].target ${JSON.stringify(entry.target)}`;
    let mod: Record<string, unknown>;
    try {
      mod = await loading;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ScheduleConfigError(
        "target",
        `${where}: cannot import ${JSON.stringify(entry.specifier)} (${reason}); paths starting with ./ are relative to ${cwd}, anything else must be an installed package`,
        { index: entry.index, cause: error },
      );
    }
    const value = mod?.[entry.exportName];
    if (value === undefined) {
      const names = mod ? Object.keys(mod).slice(0, 20) : [];
      throw new ScheduleConfigError(
        "target",
        `${where}: the module has no export named "${entry.exportName}" (it exports: ${names.length > 0 ? names.join(", ") : "nothing"})`,
        { index: entry.index },
      );
    }
    if (typeof value !== "function") {
      throw new ScheduleConfigError(
        "target",
        `${where}: export "${entry.exportName}" is ${describeValue(value)}, not a function`,
        { index: entry.index },
      );
    }
    functions.set(entry.index, value as TaskFunction);
  }

  for (const entry of entries) {
    if (entry.kind === "target") {
      const fn = functions.get(entry.index)!;
      if ("intervalSeconds" in entry.schedule) {
        await scheduler.addTask(entry.name, entry.schedule.intervalSeconds, fn);
      } else {
        await scheduler.addCron(entry.name, entry.schedule.cron, fn, {
          timezone: entry.schedule.timezone,
        });
      }
    } else {
      await scheduler.addJob(entry.name, {
        ...entry.schedule,
        queue: options.queue!,
        jobName: entry.jobName,
        payload: entry.payload,
        enqueueOptions:
          entry.delaySeconds === undefined ? undefined : { delaySeconds: entry.delaySeconds },
      });
    }
  }
  return entries.map((entry) => entry.name);
}

function checkEntry(
  item: unknown,
  index: number,
  envVar: string,
  cwd: string,
  options: ScheduleFromEnvOptions,
): TargetEntry | JobEntry {
  const at = (field: string) => `${envVar}[${index}].${field}`;
  const fail = (field: string, message: string, cause?: unknown) =>
    new ScheduleConfigError(field, message, { index, cause });

  if (item === null || typeof item !== "object" || Array.isArray(item)) {
    throw fail(
      "entry",
      `${envVar}[${index}] must be an object such as {"name":"cleanup","interval_seconds":300,"target":"./tasks.js:cleanup"}, got ${describeValue(item)}`,
    );
  }
  const entry = item as Record<string, unknown>;
  rejectUnknownKeys(entry, ENTRY_FIELDS, `${envVar}[${index}]`, (key, message) =>
    fail(key, message),
  );

  const name = entry.name;
  if (typeof name !== "string" || name.trim().length === 0) {
    throw fail("name", `${at("name")} must be a non-empty string, got ${describeValue(name)}`);
  }

  const hasInterval = entry.interval_seconds !== undefined;
  const hasCron = entry.cron !== undefined;
  if (hasInterval && hasCron) {
    throw fail(
      "cron",
      `${envVar}[${index}] has both interval_seconds and cron: keep exactly one of them`,
    );
  }
  if (!hasInterval && !hasCron) {
    throw fail(
      "interval_seconds",
      `${envVar}[${index}] needs interval_seconds (a number of seconds) or cron (e.g. "0 8 * * *")`,
    );
  }
  let schedule: Schedule;
  if (hasInterval) {
    const seconds = entry.interval_seconds;
    if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds <= 0) {
      throw fail(
        "interval_seconds",
        `${at("interval_seconds")} must be a number of seconds > 0, got ${describeValue(seconds)}`,
      );
    }
    if (entry.timezone !== undefined) {
      throw fail(
        "timezone",
        `${at("timezone")} only applies to cron entries: remove it or use cron`,
      );
    }
    schedule = { intervalSeconds: seconds };
  } else {
    const cron = parseCron(entry.cron, entry.timezone, {
      cronField: "cron",
      timezoneField: "timezone",
      index,
      prefix: `${envVar}[${index}].`,
    });
    schedule = { cron: cron.expression, timezone: cron.timezone };
  }

  const hasTarget = entry.target !== undefined;
  const hasJob = entry.job_name !== undefined;
  if (hasTarget && hasJob) {
    throw fail(
      "job_name",
      `${envVar}[${index}] has both target and job_name: a target calls a function here, job_name enqueues a job; keep one`,
    );
  }
  if (!hasTarget && !hasJob) {
    throw fail(
      "target",
      `${envVar}[${index}] needs target ("module:export") to call a function, or job_name to enqueue a job`,
    );
  }

  if (hasTarget) {
    for (const field of ["payload", "delay_seconds"]) {
      if (entry[field] !== undefined) {
        throw fail(field, `${at(field)} only applies to job_name entries, not to target entries`);
      }
    }
    const target = entry.target;
    if (typeof target !== "string") {
      throw fail(
        "target",
        `${at("target")} must be a string "module:export", got ${describeValue(target)}`,
      );
    }
    const { module, exportName } = parseModuleExport(target);
    if (module.length === 0 || exportName === undefined || !EXPORT_NAME.test(exportName)) {
      throw fail(
        "target",
        `${at("target")} ${JSON.stringify(target)} must look like "module:export" (e.g. "./dist/tasks.js:cleanup" or "my-package:cleanup"; "module#export" also works)`,
      );
    }
    return {
      kind: "target",
      index,
      name,
      schedule,
      target,
      module,
      specifier: resolveSpecifier(module, cwd),
      exportName,
    };
  }

  let jobName: string;
  try {
    jobName = validateJobName(entry.job_name, "job_name");
  } catch (error) {
    throw fail(
      "job_name",
      `${at("job_name")}: ${error instanceof Error ? error.message : String(error)}`,
      error,
    );
  }
  if (!options.queue || typeof options.queue.enqueue !== "function") {
    throw fail(
      "job_name",
      `${envVar}[${index}] enqueues job "${jobName}" but no queue was given: call scheduleFromEnv(scheduler, { queue })`,
    );
  }
  const payload = entry.payload ?? {};
  try {
    serializePayload(payload, undefined, "payload");
  } catch (error) {
    throw fail(
      "payload",
      `${at("payload")} must be a JSON object: ${error instanceof Error ? error.message : String(error)}`,
      error,
    );
  }
  const delay = entry.delay_seconds;
  if (delay !== undefined && (typeof delay !== "number" || !Number.isFinite(delay) || delay < 0)) {
    throw fail(
      "delay_seconds",
      `${at("delay_seconds")} must be a number of seconds >= 0, got ${describeValue(delay)}`,
    );
  }
  return {
    kind: "job",
    index,
    name,
    schedule,
    jobName,
    payload: payload as JsonObject,
    delaySeconds: delay as number | undefined,
  };
}

function resolveSpecifier(module: string, cwd: string): string {
  if (isPathLike(module)) return pathToFileURL(path.resolve(cwd, module)).href;
  return module;
}
