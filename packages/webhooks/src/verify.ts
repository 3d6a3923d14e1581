import { createHmac, timingSafeEqual } from "node:crypto";
import { canonicalJsonFromText } from "./canonical-json.js";
import { assertSecret, secretList } from "./secret.js";
import { signedBytes } from "./sign.js";

const HEX_SIGNATURE = /^[0-9a-fA-F]{64}$/;

/**
 * Checks an svc-infra signature (see {@link sign}) in constant time. Upper- or lowercase
 * hex is accepted; anything that is not 64 hex characters is simply `false`.
 *
 * A raw body (a string or bytes) verifies when its exact bytes were signed, or when its
 * canonical form is what was signed ({@link canonicalJsonFromText}, numbers kept as
 * written): svc-infra signs the canonical JSON of the payload and may post it with other
 * spacing, key order or escapes. A body that is not JSON verifies only byte for byte. Any
 * other payload is checked through {@link canonicalJson}.
 *
 * @example
 * ```ts
 * if (!verify(secret, rawBody, req.headers["x-signature"])) return res.writeHead(401).end();
 * ```
 */
export function verify(secret: string, payload: unknown, signature: unknown): boolean {
  assertSecret(secret, "secret");
  return verifyPayload([secret], payload, signature);
}

/**
 * Like {@link verify} with several secrets, for rotation: true when any of them made the
 * signature. Every secret is checked, so the time taken does not reveal which matched.
 */
export function verifyAny(
  secrets: readonly string[],
  payload: unknown,
  signature: unknown,
): boolean {
  return verifyPayload(secretList(secrets, "secrets"), payload, signature);
}

function verifyPayload(secrets: string[], payload: unknown, signature: unknown): boolean {
  const bytes = signedBytes(payload);
  if (signedByAny(secrets, bytes, signature)) return true;
  if (typeof payload !== "string" && !(payload instanceof Uint8Array)) return false;
  let canonical: string;
  try {
    canonical = canonicalJsonFromText(payload);
  } catch {
    return false;
  }
  return signedByAny(secrets, Buffer.from(canonical, "utf8"), signature);
}

/**
 * Internal: whether one of `secrets` made `signature` (hex HMAC-SHA256) over `bytes`.
 * Every secret is checked, so the time taken does not reveal which matched.
 */
export function signedByAny(secrets: string[], bytes: Uint8Array, signature: unknown): boolean {
  if (typeof signature !== "string" || !HEX_SIGNATURE.test(signature)) return false;
  const given = Buffer.from(signature.toLowerCase(), "hex");
  let ok = false;
  for (const secret of secrets) {
    const expected = createHmac("sha256", secret).update(bytes).digest();
    // timingSafeEqual runs first, so every secret is checked even after a match.
    ok = timingSafeEqual(expected, given) || ok;
  }
  return ok;
}
