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
 * send such values as integers or strings. To canonicalise a received body, use
 * {@link canonicalJsonFromText}, which keeps its numbers as written.
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

/** Containers nested deeper than this are refused (Python's json stops near 1000 too). */
const MAX_DEPTH = 1000;

/**
 * The canonical form (see {@link canonicalJson}) of a JSON text, computed from the text
 * itself: what `json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))`
 * gives in Python for any body a Python sender writes, without going through JavaScript
 * numbers. Every number token is copied exactly as written, so `10.0`, `1e+16`,
 * `1.5e-07`, `-0.0` and `12345678901234567890` keep the bytes the sender signed.
 * Strings are decoded and re-escaped as Python's `ensure_ascii` does, and keys are sorted
 * by code point.
 *
 * The scanner is strict JSON (RFC 8259): one value, optionally surrounded by spaces,
 * tabs and line breaks. It refuses trailing text, `NaN` and `Infinity`, unescaped control
 * characters, containers nested over 1000 deep, invalid UTF-8 (for bytes), and a key
 * repeated in one object: `json.dumps` never writes one, and a body that holds two values
 * for a key reads differently to parsers that keep the first and those that keep the last.
 *
 * Number tokens are not normalised: a body whose numbers another serializer rewrote
 * (`1E5` for Python's `100000.0`) has a different canonical form than the one signed.
 *
 * @throws JobValidationError (`field` `"json"`) when the text is not JSON, saying what and where
 *
 * @example
 * ```ts
 * canonicalJsonFromText('{"z": 10.0, "a": 1e+16}'); // '{"a":1e+16,"z":10.0}'
 * ```
 */
export function canonicalJsonFromText(text: string | Uint8Array): string {
  return new Scanner(typeof text === "string" ? text : decodeUtf8(text)).document();
}

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new JobValidationError("json", "not JSON: the text is not valid UTF-8");
  }
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;
const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

class Scanner {
  private at = 0;

  constructor(private readonly text: string) {}

  document(): string {
    this.skipSpace();
    if (this.at >= this.text.length) this.fail("the JSON text is empty");
    const out = this.value(0);
    this.skipSpace();
    if (this.at < this.text.length) this.fail(`unexpected ${this.found()} after the JSON value`);
    return out;
  }

  private value(depth: number): string {
    const c = this.text[this.at];
    if (c === "{") return this.object(depth + 1);
    if (c === "[") return this.array(depth + 1);
    if (c === '"') return quote(this.string());
    if (c === "t") return this.literal("true");
    if (c === "f") return this.literal("false");
    if (c === "n") return this.literal("null");
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return this.number();
    if (c === "N" || c === "I") this.fail("NaN and Infinity are not JSON");
    return this.fail(`unexpected ${this.found()}, expected a JSON value`);
  }

  private object(depth: number): string {
    this.enter(depth);
    const members: [key: string, value: string][] = [];
    const keys = new Set<string>();
    this.skipSpace();
    if (this.text[this.at] === "}") {
      this.at++;
      return "{}";
    }
    for (;;) {
      if (this.text[this.at] !== '"') this.fail(`unexpected ${this.found()}, expected a key`);
      const keyAt = this.at;
      const key = this.string();
      if (keys.has(key)) {
        this.at = keyAt;
        this.fail(`the key ${preview(key)} appears twice in one object`);
      }
      keys.add(key);
      this.skipSpace();
      this.expect(":");
      this.skipSpace();
      members.push([key, this.value(depth)]);
      this.skipSpace();
      if (this.text[this.at] === "}") break;
      this.expect(",", "}");
      this.skipSpace();
    }
    this.at++;
    members.sort((a, b) => compareCodePoints(a[0], b[0]));
    return `{${members.map(([key, value]) => `${quote(key)}:${value}`).join(",")}}`;
  }

  private array(depth: number): string {
    this.enter(depth);
    const items: string[] = [];
    this.skipSpace();
    if (this.text[this.at] === "]") {
      this.at++;
      return "[]";
    }
    for (;;) {
      items.push(this.value(depth));
      this.skipSpace();
      if (this.text[this.at] === "]") break;
      this.expect(",", "]");
      this.skipSpace();
    }
    this.at++;
    return `[${items.join(",")}]`;
  }

  /** Reads a string token from its opening quote and returns its decoded value. */
  private string(): string {
    const text = this.text;
    let out = "";
    let start = ++this.at;
    for (;;) {
      const c = text.charCodeAt(this.at);
      if (Number.isNaN(c)) this.fail("unterminated string");
      if (c === 0x22) {
        out += text.slice(start, this.at++);
        return out;
      }
      if (c === 0x5c) {
        out += text.slice(start, this.at);
        const letter = text[this.at + 1];
        if (letter === "u") {
          HEX4.lastIndex = this.at + 2;
          if (!HEX4.test(text)) this.fail("invalid \\u escape, expected 4 hex digits");
          out += String.fromCharCode(Number.parseInt(text.slice(this.at + 2, this.at + 6), 16));
          this.at += 6;
        } else {
          const decoded = letter === undefined ? undefined : SIMPLE_ESCAPES[letter];
          if (decoded === undefined) this.fail(`invalid escape \\${letter ?? ""}`);
          out += decoded;
          this.at += 2;
        }
        start = this.at;
        continue;
      }
      if (c < 0x20) {
        this.fail(`control character U+${hex4(c)} in a string, which JSON requires escaped`);
      }
      this.at++;
    }
  }

  private number(): string {
    NUMBER.lastIndex = this.at;
    const match = NUMBER.exec(this.text);
    if (match === null) {
      if (this.text.startsWith("-Infinity", this.at)) this.fail("NaN and Infinity are not JSON");
      this.fail("invalid number");
    }
    this.at += match[0].length;
    return match[0];
  }

  private literal(word: "true" | "false" | "null"): string {
    if (!this.text.startsWith(word, this.at)) {
      this.fail(`unexpected ${this.found()}, expected a JSON value`);
    }
    this.at += word.length;
    return word;
  }

  private enter(depth: number): void {
    if (depth > MAX_DEPTH) this.fail(`objects and arrays nested over ${MAX_DEPTH} deep`);
    this.at++;
  }

  private expect(...chars: string[]): void {
    if (!chars.includes(this.text[this.at] ?? "")) {
      this.fail(
        `unexpected ${this.found()}, expected ${chars.map((c) => JSON.stringify(c)).join(" or ")}`,
      );
    }
    this.at++;
  }

  private skipSpace(): void {
    const text = this.text;
    for (;;) {
      const c = text.charCodeAt(this.at);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.at++;
    }
  }

  private found(): string {
    const c = this.text.codePointAt(this.at);
    if (c === undefined) return "end of text";
    if (c > 0x20 && c < 0x7f) return JSON.stringify(String.fromCharCode(c));
    return `U+${hex4(c)}`;
  }

  private fail(problem: string): never {
    throw new JobValidationError("json", `not JSON: ${problem} at position ${this.at}`);
  }
}

function hex4(c: number): string {
  return c.toString(16).toUpperCase().padStart(4, "0");
}

/** A key for an error message, shortened; keys come from the request, never secrets. */
function preview(key: string): string {
  return JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}...` : key);
}
