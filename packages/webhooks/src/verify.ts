import { createHmac, timingSafeEqual } from "node:crypto";
import { assertSecret, secretList } from "./secret.js";
import { signedBytes } from "./sign.js";

const HEX_SIGNATURE = /^[0-9a-fA-F]{64}$/;

/**
 * Checks an svc-infra signature (see {@link sign}) in constant time. Upper- or lowercase
 * hex is accepted; anything that is not 64 hex characters is simply `false`.
 *
 * @example
 * ```ts
 * if (!verify(secret, rawBody, req.headers["x-signature"])) return res.writeHead(401).end();
 * ```
 */
export function verify(secret: string, payload: unknown, signature: unknown): boolean {
  assertSecret(secret, "secret");
  return matches([secret], signedBytes(payload), signature);
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
  return matches(secretList(secrets, "secrets"), signedBytes(payload), signature);
}

function matches(secrets: string[], bytes: Uint8Array, signature: unknown): boolean {
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
