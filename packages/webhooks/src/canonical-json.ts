import { JobValidationError } from "@svc-jobs/core";

/**
 * Serializes a JSON value exactly as Python's
 * `json.dumps(value, sort_keys=True, separators=(",", ":"))` does (with its default
 * `ensure_ascii=True`), which is what svc-infra signs: keys sorted by code point, no
 * spaces, every character outside printable ASCII escaped as lowercase `\uXXXX`
 * (astral characters as surrogate pairs).
 *
 * Numbers: integral values print as integers, others in Python's `repr` style
 * (`1e-05`, `0.0001`), so the bytes match a Python receiver for every value a JS
 * number can carry. A Python float with an integral value (`1.0`) is an integer here:
 * send such values as integers or strings.
 *
 * @throws JobValidationError for values JSON cannot carry (undefined, NaN, functions, cycles, ...)
 *
 * @example
 * ```ts
 * canonicalJson({ z: 1, a: 2, m: 3 }); // '{"a":2,"m":3,"z":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  return write(value, "payload", new Set());
}

function write(value: unknown, path: string, seen: Set<object>): string {
  switch (typeof value) {
    case "string":
      return quote(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      return number(value, path);
    case "object": {
      if (value === null) return "null";
      if (seen.has(value)) {
        throw new JobValidationError(
          path,
          `${path} refers back to an object that contains it (a cycle), which JSON cannot carry: send a tree of plain data`,
        );
      }
      seen.add(value);
      let out: string;
      if (Array.isArray(value)) {
        const parts: string[] = [];
        for (let i = 0; i < value.length; i++) parts.push(write(value[i], `${path}[${i}]`, seen));
        out = `[${parts.join(",")}]`;
      } else {
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          throw new JobValidationError(
            path,
            `${path} is a ${(value as object).constructor?.name ?? "object"}, which has no canonical JSON form: convert it to a plain object (dates with toISOString())`,
          );
        }
        const record = value as Record<string, unknown>;
        const keys = Object.keys(record).sort(compareCodePoints);
        const parts: string[] = [];
        for (const key of keys) {
          parts.push(`${quote(key)}:${write(record[key], `${path}.${key}`, seen)}`);
        }
        out = `{${parts.join(",")}}`;
      }
      seen.delete(value);
      return out;
    }
    default:
      throw new JobValidationError(
        path,
        `${path} is ${typeof value === "undefined" ? "undefined" : `a ${typeof value}`}, which JSON cannot carry: use null, a string or plain data`,
      );
  }
}

/** Python sorts str keys by code point; JS's default sort compares UTF-16 units. */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca - cb;
    if (ca > 0xffff) i++;
  }
  return a.length - b.length;
}

const SHORT_ESCAPES: Record<number, string> = {
  34: '\\"',
  92: "\\\\",
  10: "\\n",
  13: "\\r",
  9: "\\t",
  8: "\\b",
  12: "\\f",
};

function quote(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(start, i);
    out += SHORT_ESCAPES[c] ?? `\\u${c.toString(16).padStart(4, "0")}`;
    start = i + 1;
  }
  return `${out}${s.slice(start)}"`;
}

function number(n: number, path: string): string {
  if (!Number.isFinite(n)) {
    throw new JobValidationError(
      path,
      `${path} is ${n}, which JSON cannot carry: send a finite number, a string, or null`,
    );
  }
  if (Number.isInteger(n)) {
    if (Object.is(n, -0)) return "0";
    return Math.abs(n) < 1e21 ? String(n) : BigInt(n).toString();
  }
  // Python's float repr: shortest round-trip digits, exponent form when the decimal
  // exponent is < -4 or >= 16 (JS switches at -7 and 21).
  const [mantissa, expText] = n.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const sign = exp < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return String(n);
}
