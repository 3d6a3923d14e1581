import { type Clock, systemClock } from "@svc-jobs/core";
import { DEFAULT_INBOX_MARK_TTL_SECONDS, type InboxStore } from "./inbox-store.js";
import { checkOptionKeys, OPTION_KEYS } from "./option-keys.js";
import { inboxArgs } from "./store-validation.js";

/** Options of {@link InMemoryInboxStore}. */
export type InMemoryInboxStoreOptions = {
  /** Source of time. @default systemClock */
  clock?: Clock;
};

/**
 * An inbox in process memory, for tests and single-process development.
 *
 * @example
 * ```ts
 * const inbox = new InMemoryInboxStore();
 * if (await inbox.markIfNew("email:42", 3600)) await sendEmail();
 * ```
 */
export class InMemoryInboxStore implements InboxStore {
  #clock: Clock;
  #expiries = new Map<string, number>();

  constructor(options: InMemoryInboxStoreOptions = {}) {
    checkOptionKeys(options, OPTION_KEYS.inMemoryInboxStore, "options");
    this.#clock = options.clock ?? systemClock;
  }

  async markIfNew(key: string, ttlSeconds: number): Promise<boolean> {
    const args = inboxArgs(key, ttlSeconds);
    const now = this.#clock.now();
    const expiresAt = this.#expiries.get(args.key);
    if (expiresAt !== undefined && expiresAt > now) return false;
    this.#expiries.set(args.key, now + args.ttlMs);
    return true;
  }

  async isMarked(key: string): Promise<boolean> {
    const args = inboxArgs(key, 1);
    const expiresAt = this.#expiries.get(args.key);
    return expiresAt !== undefined && expiresAt > this.#clock.now();
  }

  async mark(key: string, ttlSeconds: number = DEFAULT_INBOX_MARK_TTL_SECONDS): Promise<void> {
    const args = inboxArgs(key, ttlSeconds);
    this.#expiries.set(args.key, this.#clock.now() + args.ttlMs);
  }

  async unmark(key: string): Promise<void> {
    this.#expiries.delete(inboxArgs(key, 1).key);
  }

  async purgeExpired(): Promise<number> {
    const now = this.#clock.now();
    let purged = 0;
    for (const [key, expiresAt] of this.#expiries) {
      if (expiresAt <= now) {
        this.#expiries.delete(key);
        purged++;
      }
    }
    return purged;
  }
}
