/** A value that survives `JSON.stringify` / `JSON.parse` unchanged. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** A JSON object: the shape of every job payload. */
export type JsonObject = { [key: string]: JsonValue };

type JsonPrimitive = string | number | boolean | null;

/**
 * `T` with every part that JSON cannot carry replaced by `never`, and `T` unchanged
 * when it has none: strings, finite numbers, booleans, `null`, arrays of those and
 * objects of those, declared as interfaces or type aliases. Functions, `undefined`,
 * `bigint`, symbols, `Date`s, `Map`s and other objects with methods become `never`.
 * A type `T` is JSON-compatible exactly when `T extends JsonCompatible<T>`.
 *
 * Optional fields are fine (an absent key is not written); a required field that may
 * be `undefined` is not (the key would silently vanish). Arrays must be mutable
 * (`string[]`, not `readonly string[]`), as in {@link JsonValue}.
 */
export type JsonCompatible<T> = T extends JsonPrimitive
  ? T
  : T extends readonly (infer U)[]
    ? JsonCompatible<U>[]
    : T extends undefined | bigint | symbol | ((...args: never[]) => unknown)
      ? never
      : T extends object
        ? { [K in keyof T]: K extends string | number ? JsonCompatible<T[K]> : never }
        : never;

/**
 * The constraint of a payload type `P`: `P extends JsonPayload<P>` holds for every
 * {@link JsonObject} and for every interface or type alias of an object whose fields
 * are JSON-compatible (see {@link JsonCompatible}), so
 *
 * ```ts
 * interface EmailPayload { to: string; subject: string; cc?: string[] }
 * await queue.enqueue<EmailPayload>("send_email", { to, subject });
 * ```
 *
 * compiles, while a payload type with a function, a `Date`, a `bigint`, a symbol or a
 * field that is only ever `undefined`, or one that is an array or a primitive, does not.
 * It only checks types: every backend still validates the payload itself at run time.
 */
export type JsonPayload<P> =
  | JsonObject
  | (object & {
      [K in keyof P]: P extends readonly unknown[]
        ? never
        : K extends string | number
          ? JsonCompatible<P[K]>
          : never;
    });
