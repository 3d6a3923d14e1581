import { createHmac } from "node:crypto";
import { canonicalJson } from "./canonical-json.js";
import { assertSecret } from "./secret.js";

/**
 * Signs a payload the way svc-infra does: lowercase hex HMAC-SHA256, keyed with the
 * secret's UTF-8 bytes, over the payload's {@link canonicalJson} bytes. A string or
 * byte payload is signed as given (use that for a raw request body); to sign a JSON text
 * as svc-infra would, numbers exactly as written, pass `canonicalJsonFromText(text)`.
 *
 * @example
 * ```ts
 * const signature = sign("s3cret", { user_id: 1 }); // "9c1e…" (64 hex characters)
 * ```
 */
export function sign(secret: string, payload: unknown): string {
  assertSecret(secret, "secret");
  return createHmac("sha256", secret).update(signedBytes(payload)).digest("hex");
}

/** The bytes {@link sign} hashes: strings and bytes as given, anything else as canonical JSON. */
export function signedBytes(payload: unknown): Uint8Array {
  if (typeof payload === "string") return Buffer.from(payload, "utf8");
  if (payload instanceof Uint8Array) return payload;
  return Buffer.from(canonicalJson(payload), "utf8");
}
