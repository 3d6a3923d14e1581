import { ConfigError } from "./errors.js";

/**
 * A module named in configuration (a handlers module, a schedule target) could not be
 * used. `code` says which step failed: `ERR_MODULE_UNRESOLVED` (no such file, package
 * or package export), `ERR_MODULE_IMPORT` (importing it threw) or `ERR_MODULE_EXPORT`
 * (it has no export of that name). The message names the specifier and what to do;
 * callers usually put it behind the option or entry that named the module.
 */
export class ModuleLoadError extends ConfigError {
  /** The module as written, e.g. `"./dist/jobs.js"` or `"@acme/tasks"`. */
  readonly specifier: string;

  constructor(
    specifier: string,
    message: string,
    options: {
      code: "ERR_MODULE_UNRESOLVED" | "ERR_MODULE_IMPORT" | "ERR_MODULE_EXPORT";
      cause?: unknown;
    },
  ) {
    super(message, options);
    this.specifier = specifier;
  }
}
