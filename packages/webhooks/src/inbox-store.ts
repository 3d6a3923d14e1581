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
  /**
   * Marks `key` for `ttlSeconds`, replacing an existing mark's expiry.
   * @default ttlSeconds {@link DEFAULT_INBOX_MARK_TTL_SECONDS} (86400, 24 h)
   */
  mark(key: string, ttlSeconds?: number): Promise<void>;
  /** Removes a mark (for example to allow a deliberate re-delivery). */
  unmark(key: string): Promise<void>;
  /** Deletes expired marks; returns how many. Run it from a scheduler now and then. */
  purgeExpired(): Promise<number>;
}

/**
 * Default lifetime, in seconds, of a mark made by {@link InboxStore.mark} without a
 * `ttlSeconds`: 24 h. (`makeWebhookHandler` keeps its deliveries' marks longer, 7 days
 * by default: its `inboxTtlSeconds` option.)
 */
export const DEFAULT_INBOX_MARK_TTL_SECONDS = 24 * 60 * 60;

/**
 * The former name of {@link DEFAULT_INBOX_MARK_TTL_SECONDS} (24 h): the default of
 * `InboxStore.mark()` only, not of the webhook handler's inbox marks (7 days).
 * @deprecated Use `DEFAULT_INBOX_MARK_TTL_SECONDS`; this alias will be removed in a future major version.
 */
export const DEFAULT_INBOX_TTL_SECONDS = DEFAULT_INBOX_MARK_TTL_SECONDS;
