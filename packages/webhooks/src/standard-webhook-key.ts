import { JobValidationError } from "@svc-jobs/core";
import { assertSecret } from "./secret.js";

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Internal: the HMAC key of a Standard Webhooks secret. `whsec_<base64>` decodes the
 * base64 part (what every Standard Webhooks library does); any other string is used
 * as its UTF-8 bytes, the same key `X-Signature` uses.
 */
export function standardWebhookKey(secret: string, field: string): Buffer {
  assertSecret(secret, field);
  if (!secret.startsWith("whsec_")) return Buffer.from(secret, "utf8");
  const b64 = secret.slice("whsec_".length);
  if (b64.length === 0 || !BASE64.test(b64)) {
    throw new JobValidationError(
      field,
      `${field} starts with "whsec_" but the rest is not valid base64: use the secret exactly as your provider issued it (e.g. "whsec_" + base64 of 24-64 random bytes)`,
    );
  }
  return Buffer.from(b64, "base64");
}

/**
 * Headers as Node's `http` has them on either side (`IncomingHttpHeaders`,
 * `OutgoingHttpHeaders`), as fetch has them (`Headers`), or a plain record, such as
 * what `signStandardWebhook()` returns.
 */
export type HeaderSource =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | number | readonly string[] | undefined>>;

type HeaderRecord = Readonly<Record<string, string | number | readonly string[] | undefined>>;

/** Internal: one header's value, case-insensitively, repeated values joined with ", ". */
export function headerValue(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === "function") {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const record = headers as HeaderRecord;
  const lower = name.toLowerCase();
  let value = record[lower];
  if (value === undefined) {
    for (const key of Object.keys(record)) {
      if (key.toLowerCase() === lower) {
        value = record[key];
        break;
      }
    }
  }
  if (value === undefined) return undefined;
  if (typeof value === "number") return String(value);
  return typeof value === "string" ? value : value.join(", ");
}
