import type { JobsError } from "./errors.js";
import { JobValidationError } from "./errors.js";

/** The keys an options object may have, for {@link rejectUnknownKeys}. */
export interface KnownKeys {
  /** Every key allowed, in the order the error message lists them. */
  readonly keys: readonly string[];
  /**
   * Likely mistakes and what was meant, for what no spelling rule finds: `{ delay:
   * "delaySeconds", jobId: "dedupeKey" }`. A value that is one of `keys` is quoted in the
   * message; any other value is printed as it is (`"enqueueOptions: { delaySeconds }"`).
   * Case, `_` and `-` differences (`max_attempts` for `maxAttempts`) and small typos
   * (`maxAtempts`) need no entry.
   */
  readonly hints?: Readonly<Record<string, string>>;
  /** What one key is called in the message. @default "option" */
  readonly noun?: string;
}

/**
 * Throws when `value` has an own key that `known` does not list, naming the key, what
 * was probably meant, and every key allowed:
 *
 * `opts has an unknown enqueue option "delay": did you mean "delaySeconds"? (known: ...)`
 *
 * A misspelt option would otherwise be ignored without a word (a job enqueued without
 * its delay, a schedule without its time zone), so every options object that has a
 * closed set of keys goes through here. The error is a `JobValidationError` on field
 * `` `${where}.${key}` `` unless `toError` makes another `JobsError` (a `ConfigError`
 * for constructor options, say) from the key and the message.
 *
 * @param where what `value` is, as the message should name it: `"opts"`, `"items[2].opts"`
 *
 * @example
 * ```ts
 * const OPTIONS: KnownKeys = { keys: ["limit", "offset"], hints: { skip: "offset" } };
 * rejectUnknownKeys(opts, OPTIONS, "opts");
 * ```
 */
export function rejectUnknownKeys(
  value: object,
  known: KnownKeys,
  where: string,
  toError: (key: string, message: string) => JobsError = (key, message) =>
    new JobValidationError(`${where}.${key}`, message),
): void {
  for (const key of Object.keys(value)) {
    if (!known.keys.includes(key)) throw toError(key, unknownKeyMessage(key, known, where));
  }
}

/** The message of {@link rejectUnknownKeys} for `key`. */
export function unknownKeyMessage(key: string, known: KnownKeys, where: string): string {
  const meant = suggestKey(key, known);
  const hint =
    meant === undefined
      ? ""
      : `: did you mean ${known.keys.includes(meant) ? JSON.stringify(meant) : meant}?`;
  return `${where} has an unknown ${known.noun ?? "option"} ${JSON.stringify(key)}${hint} (known: ${known.keys.join(", ")})`;
}

/** Most edits (insert, delete, replace a letter) between a key and the key it suggests. */
const MAX_EDITS = 2;

/**
 * What `key` probably meant: its hint, else the known key it matches ignoring case, `_`
 * and `-`, else the one known key at most two edits away; `undefined` when none (or
 * more than one) fits.
 */
export function suggestKey(key: string, known: KnownKeys): string | undefined {
  if (known.hints && Object.hasOwn(known.hints, key)) return known.hints[key];
  const wanted = normalize(key);
  let best: string | undefined;
  let bestDistance = MAX_EDITS + 1;
  let tied = false;
  for (const candidate of known.keys) {
    const distance = editDistance(wanted, normalize(candidate), MAX_EDITS + 1);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
      tied = false;
    } else if (distance === bestDistance) {
      tied = true;
    }
  }
  if (best === undefined || tied) return undefined;
  // Two edits turn any two-letter key into any other: no guess for keys that short.
  if (bestDistance > 0 && wanted.length <= bestDistance + 1) return undefined;
  return best;
}

function normalize(key: string): string {
  return key.replace(/[_-]/g, "").toLowerCase();
}

/** Levenshtein distance of `a` and `b`, or `limit` once it is certain to be at least that. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      current.push(d);
      if (d < rowMin) rowMin = d;
    }
    if (rowMin >= limit) return limit;
    previous = current;
  }
  return Math.min(previous[b.length]!, limit);
}
