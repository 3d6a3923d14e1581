/**
 * Remembers which keys were already handled, for a while, so a retried or duplicated
 * job can skip work it already did. The guide's idempotency pattern:
 *
 * @example
 * ```ts
 * if (!(await inbox.markIfNew(`email:${job.payload.order_id}`, 86_400))) return; // duplicate
 * await sendEmail(job.payload);
 * ```
 *
 * `markIfNew` before the work makes a crash lose the work; `isMarked` before and
 * `mark` after makes a crash repeat it. Pick the one your side effect tolerates.
 */
export interface InboxStore {
  /**
   * Marks `key` for `ttlSeconds` if it is not marked (or its mark expired). Atomic:
   * of many concurrent calls with one key exactly one returns `true`.
   */
  markIfNew(key: string, ttlSeconds: number): Promise<boolean>;
  /** True while `key` holds an unexpired mark. */
  isMarked(key: string): Promise<boolean>;
  /** Marks `key` for `ttlSeconds`, replacing an existing mark's expiry. @default ttlSeconds 86400 */
  mark(key: string, ttlSeconds?: number): Promise<void>;
  /** Removes a mark (for example to allow a deliberate re-delivery). */
  unmark(key: string): Promise<void>;
  /** Deletes expired marks; returns how many. Run it from a scheduler now and then. */
  purgeExpired(): Promise<number>;
}

/** Default lifetime of an inbox mark, in seconds (24 h). */
export const DEFAULT_INBOX_TTL_SECONDS = 24 * 60 * 60;
