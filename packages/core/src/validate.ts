import { JobValidationError, PayloadTooLargeError } from "./errors.js";
import {
  DEFAULT_BACKOFF_SECONDS,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_PAYLOAD_BYTES,
  MAX_JOB_NAME_LENGTH,
} from "./job.js";
import type { EnqueueItem, EnqueueOptions } from "./job-queue.js";
import type { JsonObject } from "./json.js";

/** An enqueue request after validation: what a backend stores. */
export interface PreparedEnqueue {
  name: string;
  payload: JsonObject;
  /** The payload as JSON text, already checked against the size limit. */
  payloadJson: string;
  delaySeconds: number;
  maxAttempts: number;
  backoffSeconds: number;
  dedupeKey: string | null;
}

/** Limits applied by {@link prepareEnqueue}. */
export interface EnqueueLimits {
  /** @default 1 MiB */
  maxPayloadBytes?: number;
}

const OPTION_KEYS = new Set(["delaySeconds", "maxAttempts", "backoffSeconds", "dedupeKey"]);
const OPTION_HINTS: Record<string, string> = {
  delay: "delaySeconds",
  delay_seconds: "delaySeconds",
  delayMs: "delaySeconds (in seconds)",
  attempts: "maxAttempts",
  max_attempts: "maxAttempts",
  backoff: "backoffSeconds",
  backoff_seconds: "backoffSeconds",
  dedupe: "dedupeKey",
  dedupe_key: "dedupeKey",
  jobId: "dedupeKey",
};

/** Checks a job name; returns it unchanged. */
export function validateJobName(name: unknown, field = "name"): string {
  if (typeof name !== "string") {
    throw new JobValidationError(
      field,
      `job ${field} must be a non-empty string, got ${describe(name)}: pass the kind of work, e.g. "send_email"`,
    );
  }
  if (name.trim().length === 0) {
    throw new JobValidationError(
      field,
      `job ${field} must be a non-empty string, got ${JSON.stringify(name)}: pass the kind of work, e.g. "send_email"`,
    );
  }
  if (name.length > MAX_JOB_NAME_LENGTH) {
    throw new JobValidationError(
      field,
      `job ${field} is ${name.length} characters, over the limit of ${MAX_JOB_NAME_LENGTH}: use a short kind name and put details in the payload`,
    );
  }
  return name;
}

/**
 * Checks that `payload` is a plain JSON object that survives a JSON round trip
 * unchanged, and returns its JSON text.
 */
export function serializePayload(
  payload: unknown,
  maxPayloadBytes: number = DEFAULT_MAX_PAYLOAD_BYTES,
  field = "payload",
): string {
  return serialize(payload, maxPayloadBytes, -1, field);
}

/**
 * `serializePayload` with the field name built only when there is an error: `item` is the
 * index in an `enqueueMany` call (-1 for none), so a batch builds no path strings.
 */
function serialize(
  payload: unknown,
  maxPayloadBytes: number,
  item: number,
  field?: string,
): string {
  if (
    payload === null ||
    typeof payload !== "object" ||
    Array.isArray(payload) ||
    !isPlainJson(payload, 0)
  ) {
    // The exact error (or, rarely, a valid payload the quick check gave up on).
    const name = field ?? fieldName(item, "payload");
    if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
      throw new JobValidationError(
        name,
        `${name} must be a plain JSON object, got ${describe(payload)}: wrap the value, e.g. { value: ... }`,
      );
    }
    checkJsonValue(payload, name, new Set());
  }
  const json = JSON.stringify(payload);
  // Cheap check first: a string's UTF-8 size is at most 3 bytes per UTF-16 unit.
  if (json.length * 3 > maxPayloadBytes) {
    const size = Buffer.byteLength(json, "utf8");
    if (size > maxPayloadBytes) throw new PayloadTooLargeError(size, maxPayloadBytes);
  }
  return json;
}

// Past this depth the quick check hands over to checkJsonValue, which finds cycles.
const QUICK_DEPTH = 64;

/**
 * The quick check: true when `value` is plain JSON data that checkJsonValue accepts,
 * without building paths or tracking ancestors. False means "not sure": checkJsonValue
 * then runs and throws the precise error. It accepts nothing that checkJsonValue rejects.
 */
function isPlainJson(value: object, depth: number): boolean {
  if (depth > QUICK_DEPTH) return false;
  if (Array.isArray(value)) {
    // A hole reads as undefined, which fails below.
    for (let i = 0; i < value.length; i++) {
      if (!isPlainJsonValue(value[i], depth)) return false;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    if (!isPlainJsonValue((value as Record<string, unknown>)[keys[i] as string], depth)) {
      return false;
    }
  }
  return Object.getOwnPropertySymbols(value).length === 0;
}

function isPlainJsonValue(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(v);
    case "object":
      return v === null || isPlainJson(v, depth + 1);
    default:
      return false;
  }
}

function fieldName(item: number, name: string): string {
  return item < 0 ? name : `items[${item}].${name}`;
}

function checkJsonValue(value: unknown, path: string, seen: Set<object>): void {
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) {
        throw new JobValidationError(
          path,
          `${path} is ${value}, which JSON cannot carry (it would become null): send a finite number, a string, or null`,
        );
      }
      return;
    case "undefined":
      throw new JobValidationError(
        path,
        `${path} is undefined, which JSON cannot carry (the key would silently vanish): omit the key or use null`,
      );
    case "bigint":
      throw new JobValidationError(
        path,
        `${path} is a BigInt, which JSON cannot carry: send it as a string, e.g. value.toString()`,
      );
    case "function":
    case "symbol":
      throw new JobValidationError(
        path,
        `${path} is a ${typeof value}, which JSON cannot carry: send plain data only`,
      );
    case "object": {
      if (value === null) return;
      if (seen.has(value)) {
        throw new JobValidationError(
          path,
          `${path} refers back to an object that contains it (a cycle), which JSON cannot carry: send a tree of plain data`,
        );
      }
      if (Array.isArray(value)) {
        seen.add(value);
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) {
            throw new JobValidationError(
              `${path}[${i}]`,
              `${path}[${i}] is a hole in a sparse array, which JSON cannot carry: fill it with null`,
            );
          }
          checkJsonValue(value[i], `${path}[${i}]`, seen);
        }
        seen.delete(value);
        return;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        const kind = (value as object).constructor?.name ?? "object";
        const hint =
          value instanceof Date ? "send date.toISOString()" : "convert it to a plain object first";
        throw new JobValidationError(
          path,
          `${path} is a ${kind}, which JSON cannot carry unchanged: ${hint}`,
        );
      }
      seen.add(value);
      for (const key of Object.keys(value)) {
        checkJsonValue((value as Record<string, unknown>)[key], `${path}.${key}`, seen);
      }
      if (Object.getOwnPropertySymbols(value).length > 0) {
        throw new JobValidationError(
          path,
          `${path} has symbol keys, which JSON cannot carry: use string keys`,
        );
      }
      seen.delete(value);
      return;
    }
  }
}

function finiteAtLeast(field: string, value: unknown, min: number, unitHint: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    throw new JobValidationError(
      field,
      `${field} must be a finite number >= ${min}${unitHint}, got ${describe(value)}`,
    );
  }
  return value;
}

/** Checks `seconds` as a finite number >= `min`; returns it. */
export function validateSeconds(field: string, value: unknown, min = 0): number {
  return finiteAtLeast(field, value, min, " (seconds; fractions allowed)");
}

/** Checks an integer >= `min`; returns it. */
export function validateInteger(field: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new JobValidationError(
      field,
      `${field} must be an integer >= ${min}, got ${describe(value)}`,
    );
  }
  return value;
}

/** Checks a job id or a Job and returns the id. */
export function jobIdOf(job: unknown, field = "job"): string {
  if (typeof job === "string" && job.length > 0) return job;
  if (job !== null && typeof job === "object" && typeof (job as { id?: unknown }).id === "string") {
    return (job as { id: string }).id;
  }
  throw new JobValidationError(
    field,
    `${field} must be a Job or a job id string, got ${describe(job)}`,
  );
}

/** Checks an enqueue options object and fills in the defaults. */
export function validateEnqueueOptions(
  opts: EnqueueOptions | undefined,
  field = "opts",
): Omit<PreparedEnqueue, "name" | "payload" | "payloadJson"> {
  if (opts === undefined || opts === null) {
    return {
      delaySeconds: 0,
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      backoffSeconds: DEFAULT_BACKOFF_SECONDS,
      dedupeKey: null,
    };
  }
  if (typeof opts !== "object" || Array.isArray(opts)) {
    throw new JobValidationError(field, `${field} must be an object, got ${describe(opts)}`);
  }
  for (const key of Object.keys(opts)) {
    if (!OPTION_KEYS.has(key)) {
      const hint = OPTION_HINTS[key];
      throw new JobValidationError(
        `${field}.${key}`,
        `unknown enqueue option "${key}"${hint ? `: did you mean ${hint}?` : ""} (known: delaySeconds, maxAttempts, backoffSeconds, dedupeKey)`,
      );
    }
  }
  const delaySeconds =
    opts.delaySeconds === undefined
      ? 0
      : validateSeconds(`${field}.delaySeconds`, opts.delaySeconds);
  const maxAttempts =
    opts.maxAttempts === undefined
      ? DEFAULT_MAX_ATTEMPTS
      : validateInteger(`${field}.maxAttempts`, opts.maxAttempts, 1);
  const backoffSeconds =
    opts.backoffSeconds === undefined
      ? DEFAULT_BACKOFF_SECONDS
      : validateSeconds(`${field}.backoffSeconds`, opts.backoffSeconds);
  let dedupeKey: string | null = null;
  if (opts.dedupeKey !== undefined && opts.dedupeKey !== null) {
    if (
      typeof opts.dedupeKey !== "string" ||
      opts.dedupeKey.length === 0 ||
      opts.dedupeKey.length > 1024
    ) {
      throw new JobValidationError(
        `${field}.dedupeKey`,
        `${field}.dedupeKey must be a non-empty string of at most 1024 characters, got ${describe(opts.dedupeKey)}`,
      );
    }
    dedupeKey = opts.dedupeKey;
  }
  return { delaySeconds, maxAttempts, backoffSeconds, dedupeKey };
}

/**
 * Validates one enqueue request completely (name, payload, options) before a
 * backend writes anything. Backends call it so every backend rejects the same input
 * with the same error.
 */
export function prepareEnqueue(
  name: unknown,
  payload: unknown,
  opts: EnqueueOptions | undefined,
  limits: EnqueueLimits = {},
  fieldPrefix = "",
): PreparedEnqueue {
  if (fieldPrefix === "") {
    return prepareItem(
      name,
      payload,
      opts,
      limits.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
      -1,
    );
  }
  const validName = validateJobName(name, `${fieldPrefix}name`);
  const payloadJson = serializePayload(
    payload,
    limits.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
    `${fieldPrefix}payload`,
  );
  const rest = validateEnqueueOptions(opts, `${fieldPrefix}opts`);
  return { name: validName, payload: payload as JsonObject, payloadJson, ...rest };
}

/**
 * `prepareEnqueue` for item `item` of a batch (-1 for none), with the same checks in the
 * same order; field names are built only for an error, and the usual case (a short name,
 * no options) takes no detours.
 */
function prepareItem(
  name: unknown,
  payload: unknown,
  opts: EnqueueOptions | undefined,
  maxPayloadBytes: number,
  item: number,
): PreparedEnqueue {
  const validName =
    typeof name === "string" && name.length <= MAX_JOB_NAME_LENGTH && name.trim().length > 0
      ? name
      : validateJobName(name, fieldName(item, "name"));
  const payloadJson = serialize(payload, maxPayloadBytes, item);
  if (opts === undefined || opts === null) {
    return {
      name: validName,
      payload: payload as JsonObject,
      payloadJson,
      delaySeconds: 0,
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      backoffSeconds: DEFAULT_BACKOFF_SECONDS,
      dedupeKey: null,
    };
  }
  const rest = validateEnqueueOptions(opts, fieldName(item, "opts"));
  return { name: validName, payload: payload as JsonObject, payloadJson, ...rest };
}

/** Validates every item of an `enqueueMany` call before anything is written. */
export function prepareEnqueueMany(items: unknown, limits: EnqueueLimits = {}): PreparedEnqueue[] {
  if (!Array.isArray(items)) {
    throw new JobValidationError(
      "items",
      `enqueueMany takes an array of { name, payload, opts? }, got ${describe(items)}`,
    );
  }
  const maxPayloadBytes = limits.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  return items.map((item: EnqueueItem, i) => {
    if (item === null || typeof item !== "object") {
      throw new JobValidationError(
        `items[${i}]`,
        `items[${i}] must be an object { name, payload, opts? }, got ${describe(item)}`,
      );
    }
    return prepareItem(item.name, item.payload, item.opts, maxPayloadBytes, i);
  });
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "string")
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "bigint") return `${value}n (a BigInt)`;
  if (Array.isArray(value)) return "an array";
  if (typeof value === "function") return "a function";
  if (typeof value === "symbol") return "a symbol";
  return `a ${(value as object).constructor?.name ?? "object"}`;
}
