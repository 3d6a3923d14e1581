/**
 * A short description of a value for an error message: strings quoted (cut after 60
 * characters), numbers, booleans, `null` and `undefined` as they are, anything else by
 * its kind (`an array`, `a function`, `a Date`, `an object`).
 *
 * Messages that say what they got, and not only what they wanted, tell the reader which
 * value went wrong; every package builds them with this one function.
 *
 * @example
 * ```ts
 * throw new JobValidationError("limit", `limit must be an integer >= 1, got ${describeValue(limit)}`);
 * // limit must be an integer >= 1, got "10"
 * ```
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case "undefined":
      return "undefined";
    case "string":
      return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
    case "number":
    case "boolean":
      return String(value);
    case "bigint":
      return `${value}n (a BigInt)`;
    case "function":
      return "a function";
    case "symbol":
      return "a symbol";
  }
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const kind: unknown = (value as { constructor?: { name?: unknown } }).constructor?.name;
  if (typeof kind !== "string" || kind === "" || kind === "Object") return "an object";
  return `${/^[AEIOU]/.test(kind) ? "an" : "a"} ${kind}`;
}
