import { describeValue } from "./describe-value.js";
import { JobValidationError } from "./errors.js";
import { DEFAULT_MAX_PAYLOAD_BYTES } from "./job.js";
import type { EnqueueItem, EnqueueOptions } from "./job-queue.js";
import type { JsonObject } from "./json.js";
import { type KnownKeys, rejectUnknownKeys } from "./reject-unknown-keys.js";
import { serializePayloadAt } from "./serialize-payload.js";
import { isJobName, jobNameError } from "./validate.js";
import { type ResolvedEnqueueOptions, validateEnqueueOptions } from "./validate-enqueue-options.js";

/** An enqueue request after validation: what a backend stores. */
export interface PreparedEnqueue extends ResolvedEnqueueOptions {
  name: string;
  payload: JsonObject;
  /** The payload as JSON text, already checked against the size limit. */
  payloadJson: string;
}

/** Limits applied by {@link prepareEnqueue} and {@link prepareEnqueueMany}. */
export interface EnqueueLimits {
  /** @default 1 MiB */
  maxPayloadBytes?: number;
}

/**
 * Validates one enqueue request completely (name, payload, options) before a backend
 * writes anything, and fills in the option defaults. Every backend calls it, so every
 * backend rejects the same input with the same `JobValidationError`.
 *
 * @param fieldPrefix put before the field names of errors (`"job."` gives `job.payload`)
 *
 * @example
 * ```ts
 * async enqueue(name, payload, opts) {
 *   const prepared = prepareEnqueue(name, payload, opts, { maxPayloadBytes: this.#maxPayloadBytes });
 *   // store prepared.name, prepared.payloadJson, prepared.delaySeconds, ...
 * }
 * ```
 */
export function prepareEnqueue(
  name: unknown,
  payload: unknown,
  opts: EnqueueOptions | undefined,
  limits: EnqueueLimits = {},
  fieldPrefix = "",
): PreparedEnqueue {
  return prepare(
    name,
    payload,
    opts,
    limits.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
    fieldPrefix,
  );
}

/**
 * Validates every item of an `enqueueMany` call before anything is written; errors name
 * the item (`items[2].payload`).
 */
export function prepareEnqueueMany(items: unknown, limits: EnqueueLimits = {}): PreparedEnqueue[] {
  if (!Array.isArray(items)) {
    throw new JobValidationError(
      "items",
      `enqueueMany takes an array of { name, payload, opts? }, got ${describeValue(items)}`,
    );
  }
  const maxPayloadBytes = limits.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  return items.map((item: EnqueueItem, i) => {
    if (item === null || typeof item !== "object") {
      throw new JobValidationError(
        `items[${i}]`,
        `items[${i}] must be an object { name, payload, opts? }, got ${describeValue(item)}`,
      );
    }
    rejectUnknownKeys(item, ITEM_KEYS, `items[${i}]`);
    return prepare(item.name, item.payload, item.opts, maxPayloadBytes, i);
  });
}

/** The keys of an `enqueueMany` item. */
const ITEM_KEYS: KnownKeys = {
  keys: ["name", "payload", "opts"],
  hints: { options: "opts", data: "payload", jobName: "name" },
  noun: "item key",
};

/** The defaults, computed once by the function that owns them. */
const NO_OPTIONS: Readonly<ResolvedEnqueueOptions> = Object.freeze(
  validateEnqueueOptions(undefined),
);

/**
 * The checks of both, in this order: name, payload, options. `at` is the prefix of the
 * field names, or the index of an `enqueueMany` item (`items[i].`). Field names are built
 * for an error, or to check options that were given, so the usual enqueue (a short name,
 * a plain payload, no options) builds none.
 */
function prepare(
  name: unknown,
  payload: unknown,
  opts: EnqueueOptions | undefined,
  maxPayloadBytes: number,
  at: string | number,
): PreparedEnqueue {
  if (!isJobName(name)) throw jobNameError(name, fieldAt(at, "name"));
  const payloadJson = serializePayloadAt(
    payload,
    maxPayloadBytes,
    typeof at === "number" ? at : `${at}payload`,
  );
  const options =
    opts === undefined || opts === null
      ? NO_OPTIONS
      : validateEnqueueOptions(opts, fieldAt(at, "opts"));
  return {
    name,
    payload: payload as JsonObject,
    payloadJson,
    delaySeconds: options.delaySeconds,
    maxAttempts: options.maxAttempts,
    backoffSeconds: options.backoffSeconds,
    dedupeKey: options.dedupeKey,
    priority: options.priority,
    group: options.group,
    traceContext: options.traceContext,
  };
}

function fieldAt(at: string | number, name: string): string {
  return typeof at === "number" ? `items[${at}].${name}` : `${at}${name}`;
}
