import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { JobHandler, QueueStats } from "@svc-jobs/core";
import { JobRegistry, type JobResult } from "@svc-jobs/registry";
import { CliError, EXIT_RUNTIME, EXIT_USAGE } from "./cli-error.js";

/** The environment variable `svc-jobs run` reads its handlers module from. */
export const JOBS_HANDLERS_ENV = "JOBS_HANDLERS";

/** The part of a `JobRegistry` the CLI needs; duck-typed so any copy of the package works. */
export interface RegistryLike {
  asHandler(): JobHandler;
  listHandlers(): string[];
  /** Reports a queue's stats as `{prefix}_queue_size{queue,state}` (JobRegistry has it). */
  trackQueue?(queue: { stats(): Promise<QueueStats> }, options?: { name?: string }): () => void;
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
 * Imports a handlers module for `svc-jobs run`. `./` and `../` paths (and absolute
 * ones) are relative to `cwd`; anything else is a package name resolved from `cwd`.
 * The module exports a `JobRegistry` or a handler function as its default export or
 * as `registry`, `handler` or `handlers` (a `{ jobName: fn }` map also works).
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
  const cwd = options.cwd ?? process.cwd();
  const url = resolveModule(spec, cwd);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (cause) {
    const hint = /ERR_UNKNOWN_FILE_EXTENSION/.test(String((cause as { code?: string }).code))
      ? ": Node cannot import TypeScript directly; build the module to JavaScript first, or run with node --import tsx"
      : "";
    throw new CliError(
      `handlers module ${JSON.stringify(spec)} failed to load: ${oneLine(cause)}${hint}`,
      { code: "ERR_HANDLERS_LOAD", exitCode: EXIT_RUNTIME, cause },
    );
  }
  const found = pick(mod) ?? pickInside(mod.default);
  if (!found) {
    const exported = Object.keys(mod);
    throw new CliError(
      `handlers module ${JSON.stringify(spec)} exports no handler (it exports ${exported.length ? exported.join(", ") : "nothing"}): ${HOW_TO_EXPORT}`,
      { code: "ERR_HANDLERS_EXPORT", exitCode: EXIT_USAGE },
    );
  }
  return { ...found, url };
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

function resolveModule(spec: string, cwd: string): string {
  if (spec.trim() === "") {
    throw new CliError("--handlers is empty: give a module path, e.g. --handlers ./dist/jobs.js", {
      code: "ERR_HANDLERS_MISSING",
      exitCode: EXIT_USAGE,
    });
  }
  if (spec.startsWith("file:")) return spec;
  if (spec.startsWith(".") || isAbsolute(spec)) {
    const file = resolve(cwd, spec);
    if (!existsSync(file)) {
      throw new CliError(
        `handlers module ${JSON.stringify(spec)} not found (looked for ${file}): check the path; ./ paths are relative to the current directory`,
        { code: "ERR_HANDLERS_NOT_FOUND", exitCode: EXIT_USAGE },
      );
    }
    return pathToFileURL(file).href;
  }
  const require = createRequire(join(cwd, "noop.js"));
  try {
    return pathToFileURL(require.resolve(spec)).href;
  } catch (cause) {
    // ESM-only packages export only an "import" condition, which require.resolve skips.
    const esmEntry = resolveEsmPackage(spec, cwd);
    if (esmEntry) return pathToFileURL(esmEntry).href;
    throw new CliError(
      `handlers module ${JSON.stringify(spec)} not found: it is not a ./path and no package of that name is installed under ${cwd} (${oneLine(cause)})`,
      { code: "ERR_HANDLERS_NOT_FOUND", exitCode: EXIT_USAGE, cause },
    );
  }
}

function resolveEsmPackage(spec: string, cwd: string): string | undefined {
  const parts = spec.split("/");
  const name = spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
  const subpath = parts.slice(spec.startsWith("@") ? 2 : 1).join("/");
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const pkgDir = join(dir, "node_modules", name ?? "");
    if (existsSync(join(pkgDir, "package.json"))) {
      const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as {
        exports?: unknown;
        main?: string;
      };
      const target = exportTarget(pkg.exports, subpath ? `./${subpath}` : ".");
      if (target) return join(pkgDir, target);
      if (!subpath) return join(pkgDir, pkg.main ?? "index.js");
      return join(pkgDir, subpath);
    }
    if (dirname(dir) === dir) return undefined;
  }
}

function exportTarget(exports: unknown, key: string): string | undefined {
  if (exports === undefined || exports === null) return undefined;
  if (typeof exports === "string") return key === "." ? exports : undefined;
  const map = exports as Record<string, unknown>;
  const entry = Object.keys(map).some((k) => k.startsWith("."))
    ? map[key]
    : key === "."
      ? map
      : undefined;
  return conditionTarget(entry);
}

function conditionTarget(entry: unknown): string | undefined {
  if (typeof entry === "string") return entry;
  if (entry === null || typeof entry !== "object") return undefined;
  const map = entry as Record<string, unknown>;
  for (const condition of ["node", "import", "default"]) {
    const target = conditionTarget(map[condition]);
    if (target) return target;
  }
  return undefined;
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0] ?? text;
}
