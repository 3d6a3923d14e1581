import { ConfigError } from "@svc-jobs/core";

/**
 * Internal: every key name of one queue, computed once per queue. The layout (key names,
 * types, hash fields) is described in docs/redis-layout.md; runbooks read these keys with
 * redis-cli, so they never change.
 */
export interface QueueKeys {
  /** The prefix of every key: the `prefix` option, wrapped as `{prefix}` on a cluster. */
  readonly prefix: string;
  /**
   * What Lua builds the keys it makes up itself from (`job:<id>`, `dedupe:<key>`,
   * `token:<uuid>`): the client's own `keyPrefix` followed by {@link prefix}, since
   * ioredis adds `keyPrefix` to KEYS only.
   */
  readonly scriptPrefix: string;
  /** LIST of ready ids: enqueue LPUSHes, reserve RPOPs. */
  readonly ready: string;
  /** LIST of ids svc-infra reserved (svc-jobs's own reservations are in `processingVt` only). */
  readonly processing: string;
  /** ZSET of reserved id -> visibility deadline (epoch seconds), every side's reservations. */
  readonly processingVt: string;
  /** ZSET of delayed or retrying id -> due time (epoch seconds). */
  readonly delayed: string;
  /** STRING: the id counter. Every queue that ever took a job has one. */
  readonly seq: string;
  /** LIST of dead ids, LPUSHed: the oldest at the right end. */
  readonly dlq: string;
  /** LIST of wake-up tokens for blocked reservers. */
  readonly wake: string;
  /** STRING: the layout version, `"2"` (absent on a version-1 or svc-infra queue). */
  readonly layout: string;
  // svc-jobs's own keys (docs/redis-layout.md, "Seeing and controlling jobs"): svc-infra
  // ignores them. The scripts build them from the prefix, as they build job keys.
  /** STRING `"1"` while the queue is paused. */
  readonly paused: string;
  /** ZSET of the non-zero priorities that have waiting jobs (member and score: the priority). */
  readonly priorities: string;
  /** What a priority level's LIST is named after: `${priorityPrefix}${n}`, `{prefix}:prio:{n}`. */
  readonly priorityPrefix: string;
  /** ZSET of kept completed id -> finished time (epoch seconds). */
  readonly completed: string;
  /** ZSET of kept cancelled id -> finished time (epoch seconds). */
  readonly cancelled: string;
  /** STREAM of the queue's events. */
  readonly events: string;
}

/** Where a {@link queueKeys} layout lives. */
export interface QueueKeysTarget {
  /** True for an ioredis `Cluster`: every key of the queue must then share one slot. */
  cluster: boolean;
  /** The client's own `keyPrefix` option, `""` when it has none. */
  clientKeyPrefix: string;
}

/** The suffix of the id counter, the one key every queue that ever took a job has. */
export const SEQ_SUFFIX = ":seq";

/**
 * Internal: the keys of the queue named `prefix`. On a cluster a prefix without a
 * `{hash tag}` is wrapped as `{prefix}`, so the whole queue lives in one slot (a Lua
 * script may only touch keys of one slot).
 */
export function queueKeys(prefix: unknown, target: QueueKeysTarget): QueueKeys {
  if (typeof prefix !== "string" || prefix.length === 0) {
    throw new ConfigError(
      `prefix must be a non-empty string, got ${JSON.stringify(prefix)}: e.g. "jobs"`,
    );
  }
  const p = target.cluster && !hasHashTag(prefix) ? `{${prefix}}` : prefix;
  return {
    prefix: p,
    scriptPrefix: target.clientKeyPrefix + p,
    ready: `${p}:ready`,
    processing: `${p}:processing`,
    processingVt: `${p}:processing_vt`,
    delayed: `${p}:delayed`,
    seq: `${p}${SEQ_SUFFIX}`,
    dlq: `${p}:dlq`,
    wake: `${p}:wake`,
    layout: `${p}:layout`,
    paused: `${p}:paused`,
    priorities: `${p}:priorities`,
    priorityPrefix: `${p}:prio:`,
    completed: `${p}:completed`,
    cancelled: `${p}:cancelled`,
    events: `${p}:events`,
  };
}

/**
 * Internal: the `prefix` option that opens the queue whose id counter is `seqKey` (a
 * key without the client's `keyPrefix`), the inverse of {@link queueKeys}: on a cluster
 * `{emails}:seq` gives `"emails"`, which {@link queueKeys} wraps back to `{emails}`.
 * Elsewhere the prefix is kept as it is.
 */
export function queuePrefixOfSeqKey(seqKey: string, cluster: boolean): string {
  const prefix = seqKey.slice(0, -SEQ_SUFFIX.length);
  if (cluster && prefix.startsWith("{") && prefix.endsWith("}")) {
    const inner = prefix.slice(1, -1);
    if (inner.length > 0 && !hasHashTag(inner) && !inner.includes("}")) return inner;
  }
  return prefix;
}

/** Redis Cluster's hash tag rule: a `{` followed later by a `}` with something between. */
function hasHashTag(key: string): boolean {
  const open = key.indexOf("{");
  if (open < 0) return false;
  const close = key.indexOf("}", open + 1);
  return close > open + 1;
}
