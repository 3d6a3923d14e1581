import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { DashboardAuth } from "./dashboard-options.js";

/** The cookie a browser holds after logging in with the token. */
export const SESSION_COOKIE = "svc_jobs_dashboard";

/** Compares two strings in constant time (for their length's worth of work). */
export function safeEqual(a: string, b: string): boolean {
  // Hash both first: timingSafeEqual needs equal lengths, and the digest hides the length.
  const da = createHash("sha256").update(a, "utf8").digest();
  const db = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(da, db);
}

/** Who made a request, as far as the dashboard cares: the subject CSRF tokens are bound to. */
export type Principal = { subject: string } | null;

/**
 * Checks credentials and makes the tokens that depend on them. Nothing secret leaves
 * it: the session cookie and the CSRF token are HMACs, never the token or password.
 */
export class Security {
  readonly #auth: DashboardAuth;
  readonly #key: Buffer;

  constructor(auth: DashboardAuth, secret: string | undefined) {
    this.#auth = auth;
    this.#key = secret === undefined ? randomBytes(32) : Buffer.from(secret, "utf8");
  }

  /** `"token"`, `"basic"` or `"none"`. */
  get mode(): "token" | "basic" | "none" {
    if (this.#auth === false) return "none";
    return "token" in this.#auth ? "token" : "basic";
  }

  /** Who sent these headers, or `null` when they do not authenticate. */
  authenticate(authorization: string | undefined, session: string | undefined): Principal {
    const auth = this.#auth;
    if (auth === false) return { subject: "anonymous" };
    if ("token" in auth) {
      const bearer = /^Bearer\s+(.+)$/i.exec(authorization ?? "")?.[1]?.trim();
      if (bearer !== undefined) return safeEqual(bearer, auth.token) ? { subject: "token" } : null;
      const basic = parseBasic(authorization);
      // `curl -u :TOKEN`: any user name, the token as the password.
      if (basic) return safeEqual(basic.password, auth.token) ? { subject: "token" } : null;
      if (session !== undefined && safeEqual(session, this.sessionValue())) {
        return { subject: "token" };
      }
      return null;
    }
    const basic = parseBasic(authorization);
    if (!basic) return null;
    // Evaluate both comparisons every time: no early exit on the user name.
    const userOk = safeEqual(basic.username, auth.username);
    const passwordOk = safeEqual(basic.password, auth.password);
    return userOk && passwordOk ? { subject: `basic:${auth.username}` } : null;
  }

  /** Whether `token` is the configured token (the login form). */
  checkToken(token: string): boolean {
    const auth = this.#auth;
    return auth !== false && "token" in auth && safeEqual(token, auth.token);
  }

  /**
   * The session cookie's value: an HMAC of the token's hash, so a new token (or a new
   * secret) ends every session, and the cookie never holds the token itself.
   */
  sessionValue(): string {
    const auth = this.#auth;
    const token = auth !== false && "token" in auth ? auth.token : "";
    const tokenHash = createHash("sha256").update(token, "utf8").digest("hex");
    return this.#hmac(`session\0${tokenHash}`);
  }

  /** The CSRF token of a principal: pages embed it, every action must send it back. */
  csrfToken(principal: NonNullable<Principal>): string {
    return this.#hmac(`csrf\0${principal.subject}`);
  }

  /** Whether `token` is the principal's CSRF token. */
  checkCsrf(principal: NonNullable<Principal>, token: string | undefined): boolean {
    if (token === undefined || token === "") return false;
    return safeEqual(token, this.csrfToken(principal));
  }

  #hmac(value: string): string {
    return createHmac("sha256", this.#key).update(value, "utf8").digest("base64url");
  }
}

function parseBasic(header: string | undefined): { username: string; password: string } | null {
  const encoded = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "")?.[1];
  if (encoded === undefined) return null;
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
