import {
  importModule,
  type JobHandler,
  type JobSettledEvent,
  ModuleLoadError,
  parseModuleExport,
  type QueueStats,
} from "@svc-jobs/core";
import { JobRegistry, type JobResult } from "@svc-jobs/registry";
import { CliError, EXIT_RUNTIME, EXIT_USAGE } from "./cli-error.js";
import { checkOptionKeys, OPTION_KEYS } from "./option-keys.js";

/** The environment variable `svc-jobs run` reads its handlers module from. */
export const JOBS_HANDLERS_ENV = "JOBS_HANDLERS";

/** The part of a `JobRegistry` the CLI needs; duck-typed so any copy of the package works. */
export interface RegistryLike {
  asHandler(): JobHandler;
  listHandlers(): string[];
  /** Reports a queue's stats as `{prefix}_queue_size{queue,state}` (JobRegistry has it). */
  trackQueue?(queue: { stats(): Promise<QueueStats> }, options?: { name?: string }): () => void;
  /** The registry's metrics, which the worker feeds (JobRegistry has them). */
  jobMetrics?: {
    onJobSettled(event: JobSettledEvent): void;
    trackQueue(queue: { stats(): Promise<QueueStats> }, options?: { name?: string }): () => void;
  };
}

/** A handlers module, loaded and checked. */
export interface LoadedHandler {
  /** The function the worker runs for every job. */
  handler: JobHandler;
  /** The registry, when the module exported one (or a map of handlers). */
  registry?: RegistryLike;
  /** Job names the module handles, when it says (a registry); `undefined` for a bare function. */
  jobNames?: string[];
  /** Which export was used, e.g. `"registry"` or `"default"`. */
  exportName: string;
  /** The file that was imported. */
  url: string;
}

/** Options of {@link loadHandler}. */
export interface LoadHandlerOptions {
  /** Where `./` paths and packages are resolved from. @default process.cwd() */
  cwd?: string;
}

const EXPORT_NAMES = ["default", "registry", "handlers", "handler"] as const;

const HOW_TO_EXPORT =
  "export a JobRegistry as `registry` (or default), a function (job, { signal }) => ... as `handler`, or an object { jobName: fn } as `handlers`";

/**
 * Imports a handlers module for `svc-jobs run`, with core's module loader (the one
 * `JOBS_SCHEDULE_JSON` targets use): `./` and `../` paths (and absolute ones) are
 * relative to `cwd`; anything else is a package found from `cwd`, its exports map
 * honoured. The module exports a `JobRegistry` or a handler function as its default
 * export or as `registry`, `handler` or `handlers` (a `{ jobName: fn }` map also
 * works); `module:export` picks one export by name.
 *
 * @example
 * ```ts
 * const { handler, jobNames } = await loadHandler("./dist/jobs.js");
 * const runner = new WorkerRunner(queue, handler);
 * ```
 */
export async function loadHandler(
  spec: string,
  options: LoadHandlerOptions = {},
): Promise<LoadedHandler> {
  checkOptionKeys(options, OPTION_KEYS.loadHandler, "loadHandler options");
  const cwd = options.cwd ?? process.cwd();
  if (spec.trim() === "") {
    throw new CliError("--handlers is empty: give a module path, e.g. --handlers ./dist/jobs.js", {
      code: "ERR_HANDLERS_MISSING",
      exitCode: EXIT_USAGE,
    });
  }
  const { module, exportName } = parseModuleExport(spec);
  let mod: Record<string, unknown>;
  let url: string;
  try {
    ({ namespace: mod, url } = await importModule(module, { cwd }));
  } catch (cause) {
    throw handlersError(cause);
  }
  if (exportName !== undefined) {
    const value = mod[exportName];
    const found = value === undefined || value === null ? undefined : asLoaded(value, exportName);
    if (!found) {
      throw new CliError(
        value === undefined
          ? `handlers module ${JSON.stringify(module)} has no export named "${exportName}" (it exports ${describeExports(mod)})`
          : `export "${exportName}" of handlers module ${JSON.stringify(module)} is not a handler: ${HOW_TO_EXPORT}`,
        { code: "ERR_HANDLERS_EXPORT", exitCode: EXIT_USAGE },
      );
    }
    return { ...found, url };
  }
  const found = pick(mod) ?? pickInside(mod.default);
  if (!found) {
    throw new CliError(
      `handlers module ${JSON.stringify(spec)} exports no handler (it exports ${describeExports(mod)}): ${HOW_TO_EXPORT}`,
      { code: "ERR_HANDLERS_EXPORT", exitCode: EXIT_USAGE },
    );
  }
  return { ...found, url };
}

/** The loader's error, as the CLI says it: a missing module is a usage error, one that throws a runtime one. */
function handlersError(cause: unknown): unknown {
  if (!(cause instanceof ModuleLoadError)) return cause;
  const notFound = cause.code === "ERR_MODULE_UNRESOLVED";
  return new CliError(`handlers ${cause.message}`, {
    code: notFound ? "ERR_HANDLERS_NOT_FOUND" : "ERR_HANDLERS_LOAD",
    exitCode: notFound ? EXIT_USAGE : EXIT_RUNTIME,
    cause: cause.cause ?? cause,
  });
}

function describeExports(mod: Record<string, unknown>): string {
  const names = Object.keys(mod);
  return names.length ? names.join(", ") : "nothing";
}

function pick(mod: Record<string, unknown>): Omit<LoadedHandler, "url"> | undefined {
  for (const name of EXPORT_NAMES) {
    const value = mod[name];
    if (value === undefined || value === null) continue;
    const loaded = asLoaded(value, name);
    if (loaded) return loaded;
  }
  return undefined;
}

// A CommonJS module arrives as `default` = module.exports: look for the names inside it.
function pickInside(value: unknown): Omit<LoadedHandler, "url"> | undefined {
  if (value === null || typeof value !== "object" || isRegistryLike(value)) return undefined;
  const inner = value as Record<string, unknown>;
  if (!EXPORT_NAMES.some((name) => name !== "default" && name in inner)) return undefined;
  const found = pick({ ...inner, default: undefined });
  return found && { ...found, exportName: `default.${found.exportName}` };
}

function asLoaded(value: unknown, exportName: string): Omit<LoadedHandler, "url"> | undefined {
  if (isRegistryLike(value)) {
    return {
      handler: value.asHandler(),
      registry: value,
      jobNames: value.listHandlers(),
      exportName,
    };
  }
  if (typeof value === "function") return { handler: value as JobHandler, exportName };
  if (
    typeof value === "object" &&
    value !== null &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length > 0 && entries.every(([, fn]) => typeof fn === "function")) {
      if (EXPORT_NAMES.some((name) => name in (value as object))) return undefined;
      const registry = new JobRegistry();
      for (const [name, fn] of entries) {
        // A bare function may return anything; only a JobResult-shaped value is a result.
        registry.register(name, async (job, context) => {
          const value = await (fn as JobHandler)(job, context);
          return isJobResult(value) ? value : undefined;
        });
      }
      return {
        handler: registry.asHandler(),
        registry,
        jobNames: registry.listHandlers(),
        exportName,
      };
    }
  }
  return undefined;
}

function isJobResult(value: unknown): value is JobResult {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as JobResult).success === "boolean" &&
    typeof (value as JobResult).message === "string"
  );
}

function isRegistryLike(value: unknown): value is RegistryLike {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as RegistryLike).asHandler === "function" &&
    typeof (value as RegistryLike).listHandlers === "function"
  );
}
