import type { JsonValue } from "./json.js";

// What a worker hands the queue from a handler's return value: the job's `result`
// (`ack(job, { result })`), which every backend stores as plain JSON, so the worker turns
// it into plain JSON here, the same way for the in-memory queue and Redis
// (docs/contract.md, "Seeing and controlling jobs", retention).

/**
 * A handler's return value as the JSON the queue keeps as the job's `result`:
 * `undefined` is `null`; a value JSON can carry is its JSON round trip (a `Date` becomes
 * its ISO string, `undefined` fields vanish, as `JSON.stringify` does); anything else is
 * `null`: a function, a `bigint`, a circular structure, a `toJSON` that throws, or an
 * object JSON would turn into `{}` without saying so (a `Map`, a `Set`, a `Promise`, a
 * class instance with no enumerable fields). Such objects nested in the value are
 * dropped like functions: left out of objects, `null` in arrays. Never throws.
 */
export function toJsonResult(value: unknown): JsonValue {
  switch (typeof value) {
    case "undefined":
      return null;
    case "string":
    case "boolean":
      return value as string | boolean;
    case "number":
      return Number.isFinite(value) ? (value as number) : null;
    case "object":
      if (value === null) return null;
      break;
    default:
      return null;
  }
  try {
    const text = JSON.stringify(value, dropOpaque);
    return text === undefined ? null : (JSON.parse(text) as JsonValue);
  } catch {
    return null;
  }
}

/**
 * The `JSON.stringify` replacer of {@link toJsonResult}: an object JSON would silently
 * write as `{}` (not a plain object, no `toJSON`, no enumerable fields: a `Map`, a
 * `Set`, a `Promise`) is dropped like a function.
 */
function dropOpaque(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) return value;
  if (value instanceof Number || value instanceof String || value instanceof Boolean) return value;
  return Object.keys(value).length > 0 ? value : undefined;
}
