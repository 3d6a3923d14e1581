/**
 * Leader election across replicas, so periodic work runs in one place. The
 * scheduler asks `acquire()` before each tick and fires tasks only while it returns
 * true. `RedisLeader` in `@svc-jobs/redis` implements it with a lease.
 */
export interface Leader {
  /**
   * Becomes leader if nobody holds the lease, or renews the lease if this instance
   * already holds it. Resolves to whether this instance leads now.
   */
  acquire(): Promise<boolean>;
  /** Whether this instance held the lease at its last `acquire()` and the lease has not run out since. */
  isLeader(): boolean;
  /** Gives the lease up at once (on shutdown) so another replica can take over. */
  release(): Promise<void>;
}
