import { existsSync, readFileSync } from "node:fs";
import { createRequire, isBuiltin } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ModuleLoadError } from "./module-load-error.js";
import { type KnownKeys, rejectUnknownKeys } from "./reject-unknown-keys.js";

const RESOLVE_OPTIONS: KnownKeys = {
  keys: ["cwd"],
  hints: { dir: "cwd", baseDir: "cwd", root: "cwd" },
  noun: "module option",
};

/** Options of {@link resolveModuleUrl} and the module loaders built on it. */
export interface ModuleResolveOptions {
  /** Where `./` paths and package names are resolved from. @default process.cwd() */
  cwd?: string;
}

// The conditions `import()` matches in a package's exports map, in Node's order of
// preference (the map's own key order decides among them).
const IMPORT_CONDITIONS = new Set(["node", "import", "module-sync", "default"]);

/**
 * Resolves a module specifier the way an `import()` written in a file inside `cwd`
 * would, and returns the URL to import:
 *
 * - `./x.js`, `../x.js`, `.`, `..` and absolute paths: files relative to `cwd` (they must exist);
 * - `file:` URLs as they are; `node:` and built-in names as `node:` URLs;
 * - anything else is a package (`name`, `@scope/name`, `name/subpath`) found in the
 *   `node_modules` folders from `cwd` up, through its `exports` map with the `import`
 *   conditions (`node`, `import`, `default`; subpath patterns and `null` exclusions
 *   included), else its `main`.
 *
 * Throws {@link ModuleLoadError} (`ERR_MODULE_UNRESOLVED`) naming what it looked for.
 *
 * @example
 * ```ts
 * resolveModuleUrl("./dist/jobs.js", { cwd: "/srv/app" }); // "file:///srv/app/dist/jobs.js"
 * resolveModuleUrl("@acme/tasks/nightly", { cwd: "/srv/app" }); // its exports["./nightly"] target
 * ```
 */
export function resolveModuleUrl(specifier: string, options: ModuleResolveOptions = {}): string {
  if (options !== null && typeof options === "object") {
    rejectUnknownKeys(options, RESOLVE_OPTIONS, "options");
  }
  const cwd = path.resolve(options.cwd ?? process.cwd());
  if (typeof specifier !== "string" || specifier.trim() === "") {
    throw new ModuleLoadError(
      String(specifier),
      "the module specifier is empty: give a ./path or a package name",
      {
        code: "ERR_MODULE_UNRESOLVED",
      },
    );
  }
  if (specifier.startsWith("file:")) return specifier;
  if (specifier.startsWith("node:")) return specifier;
  if (isPathLike(specifier)) {
    const file = path.resolve(cwd, specifier);
    if (!existsSync(file)) {
      throw new ModuleLoadError(
        specifier,
        `module ${JSON.stringify(specifier)} not found (looked for ${file}): ./ and ../ paths are relative to ${cwd}`,
        { code: "ERR_MODULE_UNRESOLVED" },
      );
    }
    return pathToFileURL(file).href;
  }
  if (isBuiltin(specifier)) return `node:${specifier}`;
  return resolvePackage(specifier, cwd);
}

/** Whether a module specifier is a file path (relative or absolute) rather than a package. */
export function isPathLike(specifier: string): boolean {
  return (
    specifier === "." ||
    specifier === ".." ||
    specifier.startsWith("./") ||
    specifier.startsWith("../") ||
    // Windows users write .\ too.
    specifier.startsWith(".\\") ||
    specifier.startsWith("..\\") ||
    path.isAbsolute(specifier)
  );
}

function resolvePackage(specifier: string, cwd: string): string {
  const scoped = specifier.startsWith("@");
  const parts = specifier.split("/");
  const name = parts.slice(0, scoped ? 2 : 1).join("/");
  const subpath = parts.slice(scoped ? 2 : 1).join("/");
  if (!/^(@[^/\\%]+\/)?[^./\\%][^/\\%]*$/.test(name) || (scoped && parts.length < 2)) {
    throw new ModuleLoadError(
      specifier,
      `module ${JSON.stringify(specifier)} is neither a ./path nor a valid package name`,
      { code: "ERR_MODULE_UNRESOLVED" },
    );
  }
  const packageDir = findPackageDir(name, cwd);
  if (packageDir !== undefined) {
    const manifest = readManifest(packageDir);
    if (manifest.exports !== undefined && manifest.exports !== null) {
      const key = subpath === "" ? "." : `./${subpath}`;
      const target = exportsTarget(manifest.exports, key);
      if (target === undefined) {
        throw new ModuleLoadError(
          specifier,
          `module ${JSON.stringify(specifier)} not found: package ${name} (${packageDir}) does not export ${JSON.stringify(key)} for import; its exports map lists ${listExportKeys(manifest.exports)}`,
          { code: "ERR_MODULE_UNRESOLVED" },
        );
      }
      return pathToFileURL(path.join(packageDir, target)).href;
    }
  }
  // No exports map (or no node_modules folder holding it): Node's legacy lookup, which
  // also finds main, index.js and extensionless subpaths.
  try {
    return pathToFileURL(createRequire(path.join(cwd, "noop.js")).resolve(specifier)).href;
  } catch (cause) {
    throw new ModuleLoadError(
      specifier,
      `module ${JSON.stringify(specifier)} not found: it is not a ./path and no package ${name} is installed in ${cwd} or a folder above it (${firstLine(cause)})`,
      { code: "ERR_MODULE_UNRESOLVED", cause },
    );
  }
}

function findPackageDir(name: string, cwd: string): string | undefined {
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (existsSync(path.join(candidate, "package.json"))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

function readManifest(packageDir: string): { exports?: unknown } {
  try {
    return JSON.parse(readFileSync(path.join(packageDir, "package.json"), "utf8")) as {
      exports?: unknown;
    };
  } catch (cause) {
    throw new ModuleLoadError(
      packageDir,
      `${path.join(packageDir, "package.json")} is not readable JSON (${firstLine(cause)}): reinstall the package`,
      { code: "ERR_MODULE_UNRESOLVED", cause },
    );
  }
}

/**
 * The file an exports map gives `key` (`.` or `./sub`) under the import conditions,
 * relative to the package; `undefined` when it does not export it.
 */
function exportsTarget(exports: unknown, key: string): string | undefined {
  const isSubpathMap =
    typeof exports === "object" &&
    exports !== null &&
    !Array.isArray(exports) &&
    Object.keys(exports).some((k) => k.startsWith("."));
  if (!isSubpathMap) {
    return key === "." ? (conditionalTarget(exports, undefined) ?? undefined) : undefined;
  }
  const map = exports as Record<string, unknown>;
  if (Object.hasOwn(map, key) && !key.includes("*")) {
    return conditionalTarget(map[key], undefined) ?? undefined;
  }
  // Subpath patterns ("./tasks/*"): the longest prefix before the "*" wins.
  let best: { pattern: string; prefix: string; match: string } | undefined;
  for (const pattern of Object.keys(map)) {
    const star = pattern.indexOf("*");
    if (star < 0 || pattern.indexOf("*", star + 1) >= 0) continue;
    const prefix = pattern.slice(0, star);
    const suffix = pattern.slice(star + 1);
    if (
      key.length >= pattern.length &&
      key.startsWith(prefix) &&
      key.endsWith(suffix) &&
      (best === undefined || prefix.length > best.prefix.length)
    ) {
      best = { pattern, prefix, match: key.slice(prefix.length, key.length - suffix.length) };
    }
  }
  return best && (conditionalTarget(map[best.pattern], best.match) ?? undefined);
}

/**
 * Resolves one exports target: a path, an array of fallbacks, or a map of conditions.
 * `undefined`: nothing applies, try the next; `null`: excluded on purpose (Node stops there).
 */
function conditionalTarget(target: unknown, match: string | undefined): string | null | undefined {
  if (target === null) return null;
  if (typeof target === "string") {
    // Exports targets are files inside the package.
    if (!target.startsWith("./")) return undefined;
    return match === undefined ? target : target.replaceAll("*", match);
  }
  if (Array.isArray(target)) {
    for (const item of target) {
      const found = conditionalTarget(item, match);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof target !== "object") return undefined;
  // Conditions are tried in the map's own order; the first one that applies decides.
  for (const [condition, value] of Object.entries(target)) {
    if (!IMPORT_CONDITIONS.has(condition)) continue;
    const found = conditionalTarget(value, match);
    if (found !== undefined) return found;
  }
  return undefined;
}

function listExportKeys(exports: unknown): string {
  if (typeof exports !== "object" || exports === null || Array.isArray(exports)) return '"."';
  const keys = Object.keys(exports).filter((k) => k.startsWith("."));
  return keys.length === 0
    ? '"."'
    : keys
        .slice(0, 10)
        .map((k) => JSON.stringify(k))
        .join(", ");
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0] ?? text;
}
