import { ModuleLoadError } from "./module-load-error.js";
import { type ModuleResolveOptions, resolveModuleUrl } from "./resolve-module-url.js";

/** A `"module:export"` (or `"module#export"`) string, split. */
export interface ModuleExportSpecifier {
  /** The module: a `./path`, an absolute path, a `file:` URL or a package (with a subpath). */
  module: string;
  /** The export's name; `undefined` when the string names no export. */
  exportName: string | undefined;
}

/** A module imported by {@link importModule}. */
export interface ImportedModule {
  /** The module namespace: its exports by name. */
  namespace: Record<string, unknown>;
  /** The URL that was imported. */
  url: string;
}

/** What {@link loadModuleExport} returns. */
export interface LoadedModuleExport extends ImportedModule {
  /** The export's value. */
  value: unknown;
  /** The export's name. */
  exportName: string;
}

const EXPORT_NAME = /^[A-Za-z_$][\w$]*$/;

/**
 * Splits `"module:export"` or `"module#export"`: the last separator wins, so
 * `"node:os:freemem"` and `"C:\\app\\tasks.js:run"` split right. A string without a
 * separator, or whose part after it is no JavaScript name (`"file:///x.js"`), names no
 * export; nor does `"node:os"` (a module), or a drive letter.
 *
 * @example
 * ```ts
 * parseModuleExport("./dist/tasks.js:cleanup"); // { module: "./dist/tasks.js", exportName: "cleanup" }
 * parseModuleExport("@acme/jobs"); // { module: "@acme/jobs", exportName: undefined }
 * ```
 */
export function parseModuleExport(target: string): ModuleExportSpecifier {
  const text = target.trim();
  const hash = text.lastIndexOf("#");
  const at = hash >= 0 ? hash : text.lastIndexOf(":");
  if (at < 0) return { module: text, exportName: undefined };
  const module = text.slice(0, at).trim();
  const exportName = text.slice(at + 1).trim();
  const schemeOnly =
    hash < 0 && (module === "node" || module === "file" || /^[A-Za-z]$/.test(module));
  if (hash < 0 && (!EXPORT_NAME.test(exportName) || schemeOnly)) {
    return { module: text, exportName: undefined };
  }
  return { module, exportName };
}

/**
 * Imports a module the way an `import()` written in a file inside `cwd` would
 * (see {@link resolveModuleUrl}): `./` paths relative to `cwd`, packages found from
 * `cwd` through their exports maps. Throws {@link ModuleLoadError}:
 * `ERR_MODULE_UNRESOLVED` when there is no such file or package export,
 * `ERR_MODULE_IMPORT` when importing it throws (the error is the `cause`).
 *
 * @example
 * ```ts
 * const { namespace } = await importModule("./dist/jobs.js", { cwd: process.cwd() });
 * ```
 */
export async function importModule(
  specifier: string,
  options: ModuleResolveOptions = {},
): Promise<ImportedModule> {
  const url = resolveModuleUrl(specifier, options);
  try {
    const namespace = (await import(/* @vite-ignore */ url)) as Record<string, unknown>;
    return { namespace, url };
  } catch (cause) {
    const code = (cause as { code?: unknown } | null)?.code;
    const hint =
      code === "ERR_UNKNOWN_FILE_EXTENSION"
        ? ": Node cannot import TypeScript directly; build the module to JavaScript first, or run node with --import tsx"
        : "";
    throw new ModuleLoadError(
      specifier,
      `module ${JSON.stringify(specifier)} failed to load: ${firstLine(cause)}${hint}`,
      { code: "ERR_MODULE_IMPORT", cause },
    );
  }
}

/**
 * Loads one export named by `"module:export"` (or `"module#export"`): the module is
 * imported with {@link importModule} (so `./` paths are relative to `cwd` and packages
 * are found from `cwd`, exports maps honoured). Throws {@link ModuleLoadError}:
 * `ERR_MODULE_EXPORT` when the string names no export or the module lacks it, besides
 * the errors of `importModule`.
 *
 * @example
 * ```ts
 * const { value: cleanup } = await loadModuleExport("./dist/tasks.js:cleanup");
 * const { value: ping } = await loadModuleExport("@acme/ops/tasks:ping", { cwd: "/srv/app" });
 * ```
 */
export async function loadModuleExport(
  target: string,
  options: ModuleResolveOptions = {},
): Promise<LoadedModuleExport> {
  const { module, exportName } = parseModuleExport(target);
  if (exportName === undefined || module === "" || !EXPORT_NAME.test(exportName)) {
    throw new ModuleLoadError(
      target,
      `${JSON.stringify(target)} must look like "module:export" (e.g. "./dist/tasks.js:cleanup" or "my-package:cleanup"; "module#export" also works)`,
      { code: "ERR_MODULE_EXPORT" },
    );
  }
  const imported = await importModule(module, options);
  if (!(exportName in imported.namespace) || imported.namespace[exportName] === undefined) {
    const names = Object.keys(imported.namespace).slice(0, 20);
    throw new ModuleLoadError(
      target,
      `module ${JSON.stringify(module)} has no export named "${exportName}" (it exports: ${names.length > 0 ? names.join(", ") : "nothing"})`,
      { code: "ERR_MODULE_EXPORT" },
    );
  }
  return { ...imported, value: imported.namespace[exportName], exportName };
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n").find((line) => line.trim() !== "") ?? text;
}
