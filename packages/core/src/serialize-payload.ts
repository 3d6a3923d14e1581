import { describeValue } from "./describe-value.js";
import { JobValidationError, PayloadTooLargeError } from "./errors.js";
import { DEFAULT_MAX_PAYLOAD_BYTES } from "./job.js";

/**
 * Checks that `payload` is a plain JSON object that survives a JSON round trip
 * unchanged, and under `maxPayloadBytes` as UTF-8 JSON, and returns its JSON text.
 * Throws a `JobValidationError` naming the first value that would not survive
 * (`field` `payload.user.id`), or a `PayloadTooLargeError`.
 *
 * @example
 * ```ts
 * const json = serializePayload({ to: "user@example.com" }); // '{"to":"user@example.com"}'
 * serializePayload({ at: new Date() }); // throws: payload.at is a Date ... send date.toISOString()
 * ```
 */
export function serializePayload(
  payload: unknown,
  maxPayloadBytes: number = DEFAULT_MAX_PAYLOAD_BYTES,
  field = "payload",
): string {
  return serializePayloadAt(payload, maxPayloadBytes, field);
}

/**
 * Internal: {@link serializePayload} where `at` is the field name, or the index of the
 * `enqueueMany` item whose payload this is (`items[i].payload`), so that a batch builds
 * a field name only for an error.
 */
export function serializePayloadAt(
  payload: unknown,
  maxPayloadBytes: number,
  at: string | number,
): string {
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
    const field = fieldOf(at);
    throw new JobValidationError(
      field,
      `${field} must be a plain JSON object, got ${describeValue(payload)}: wrap the value, e.g. { value: ... }`,
    );
  }
  const fault = objectFault(payload, []);
  if (fault !== undefined) throw faultError(fault, fieldOf(at));
  const json = JSON.stringify(payload);
  // Cheap check first: a string's UTF-8 size is at most 3 bytes per UTF-16 unit.
  if (json.length * 3 > maxPayloadBytes) {
    const size = Buffer.byteLength(json, "utf8");
    if (size > maxPayloadBytes) throw new PayloadTooLargeError(size, maxPayloadBytes);
  }
  return json;
}

function fieldOf(at: string | number): string {
  return typeof at === "number" ? `items[${at}].payload` : at;
}

/**
 * What makes a value unfit for JSON, found by the walk below. The walk builds no path
 * strings and no messages while it looks, which keeps the common case (a valid payload)
 * as fast as a bare type check; a fault collects its path on the way back out.
 */
interface Fault {
  /** Keys and indexes from the faulty value up to the payload (innermost first). */
  readonly path: (string | number)[];
  /** The message, given the faulty value's full field name. */
  readonly message: (field: string) => string;
}

function fault(message: (field: string) => string): Fault {
  return { path: [], message };
}

function faultError(found: Fault, root: string): JobValidationError {
  let field = root;
  for (let i = found.path.length - 1; i >= 0; i--) {
    const step = found.path[i]!;
    field += typeof step === "number" ? `[${step}]` : `.${step}`;
  }
  return new JobValidationError(field, found.message(field));
}

/**
 * The first fault in an object or array, or `undefined` when JSON carries it unchanged.
 * `ancestors` holds the objects that contain it, to find cycles.
 */
function objectFault(value: object, ancestors: object[]): Fault | undefined {
  if (Array.isArray(value)) {
    ancestors.push(value);
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const found =
        item === undefined && !(i in value)
          ? fault(
              (field) =>
                `${field} is a hole in a sparse array, which JSON cannot carry: fill it with null`,
            )
          : valueFault(item, ancestors);
      if (found !== undefined) {
        found.path.push(i);
        return found;
      }
    }
    ancestors.pop();
    return undefined;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const kind = describeValue(value);
    const hint =
      value instanceof Date ? "send date.toISOString()" : "convert it to a plain object first";
    return fault((field) => `${field} is ${kind}, which JSON cannot carry unchanged: ${hint}`);
  }
  ancestors.push(value);
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const found = valueFault((value as Record<string, unknown>)[key], ancestors);
    if (found !== undefined) {
      found.path.push(key);
      return found;
    }
  }
  ancestors.pop();
  if (Object.getOwnPropertySymbols(value).length > 0) {
    return fault((field) => `${field} has symbol keys, which JSON cannot carry: use string keys`);
  }
  return undefined;
}

function valueFault(value: unknown, ancestors: object[]): Fault | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      if (Number.isFinite(value)) return undefined;
      return fault(
        (field) =>
          `${field} is ${value}, which JSON cannot carry (it would become null): send a finite number, a string, or null`,
      );
    case "object":
      if (value === null) return undefined;
      if (ancestors.includes(value)) {
        return fault(
          (field) =>
            `${field} refers back to an object that contains it (a cycle), which JSON cannot carry: send a tree of plain data`,
        );
      }
      return objectFault(value, ancestors);
    case "undefined":
      return fault(
        (field) =>
          `${field} is undefined, which JSON cannot carry (the key would silently vanish): omit the key or use null`,
      );
    case "bigint":
      return fault(
        (field) =>
          `${field} is a BigInt, which JSON cannot carry: send it as a string, e.g. value.toString()`,
      );
    default:
      return fault(
        (field) => `${field} is a ${typeof value}, which JSON cannot carry: send plain data only`,
      );
  }
}
