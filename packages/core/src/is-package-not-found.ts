/**
 * Whether `error`, thrown by `require(packageName)` or `import(packageName)`, says that
 * the package itself is not installed, as opposed to an installed copy that failed to
 * load (a missing dependency of the package names it in its require stack too, and that
 * is a broken install to report as such). For optional peer dependencies.
 *
 * @example
 * ```ts
 * try {
 *   prom = createRequire(import.meta.url)("prom-client");
 * } catch (error) {
 *   if (!isPackageNotFound(error, "prom-client")) throw error;
 * }
 * ```
 */
export function isPackageNotFound(error: unknown, packageName: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = (error as { message?: unknown } | null)?.message;
  return (
    (code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND") &&
    typeof message === "string" &&
    (message.includes(`Cannot find module '${packageName}'`) ||
      message.includes(`Cannot find package '${packageName}'`))
  );
}
