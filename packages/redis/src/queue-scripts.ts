import { randomUUID } from "node:crypto";
import {
  BackendError,
  DEDUPE_TTL_SECONDS,
  type QueueStats,
  type ReservationCheck,
  type RetryStrategy,
} from "@svc-jobs/core";
import { type resolveQueueOptions, visibilityExpiredMessage } from "@svc-jobs/core/backend";
import { isoUtc, type JobFields, type NewJobTable } from "./job-hash.js";
import type { QueueKeys } from "./queue-keys.js";
import { type DefinesCommands, defineQueueCommands, type QueueCommands } from "./scripts.js";

type ResolvedOptions = ReturnType<typeof resolveQueueOptions>;
/** A resolved `keepCompleted` / `keepCancelled`: limits, Infinity for none. */
type ResolvedRetention = NonNullable<ResolvedOptions["keepCompleted"]>;
/** A resolved `events` option. */
type ResolvedEvents = NonNullable<ResolvedOptions["events"]>;

/** Options of {@link QueueScripts}: what every call of a queue passes alike. */
export interface QueueScriptsOptions {
  /** Expired reservations and due delayed jobs handled per reserve or DLQ listing. */
  housekeepingBatch: number;
  /** The queue's retry strategy, for the fail script's backoff. */
  retry: RetryStrategy;
  /** Random numbers in [0, 1) for the retry jitter. */
  random: () => number;
  /** How long Redis remembers an enqueue's resend token, in ms; 0 sends none. */
  enqueueTokenTtlMs: number;
  /** Kept completed jobs (`keepCompleted`), `null` for none. */
  keepCompleted: ResolvedRetention | null;
  /** Kept cancelled jobs (`keepCancelled`), `null` for none. */
  keepCancelled: ResolvedRetention | null;
  /** The event stream (`events`), `null` for none. */
  events: ResolvedEvents | null;
  /** The queue's visibility timeout, in seconds: how long a cancelled reservation stays marked. */
  visibilityTimeoutSeconds: number;
  /** The queue runs on the system clock: rate windows get their real-time guard. */
  realTime: boolean;
}

/** How long a cancelled reservation's hash stays marked past the visibility timeout (docs/redis-layout.md). */
const CANCELLED_RESERVATION_GRACE_SECONDS = 60;

/** A retention as the scripts take it: [count, age seconds], 'inf' for no limit, ['', ''] for none kept. */
function retentionArgs(retention: ResolvedRetention | null): [string, string] {
  if (retention === null) return ["", ""];
  const text = (n: number) => (Number.isFinite(n) ? String(n) : "inf");
  return [text(retention.count), text(retention.ageSeconds)];
}

/** An enqueue's reply per job: the new job's id, or a dedupe hit's hash fields. */
export type EnqueueResult = string | JobFields;

// Lua builds last_error of an expiry from these halves, so the text stays core's.
const [EXPIRED_PRE, EXPIRED_POST] = (() => {
  const probe = 987654321;
  const text = visibilityExpiredMessage(probe);
  const at = text.indexOf(String(probe));
  return [text.slice(0, at), text.slice(at + String(probe).length)];
})();

const DEDUPE_TTL_MS_TEXT = String(DEDUPE_TTL_SECONDS * 1000);

/** Epoch ms (the queue's clock) as the epoch seconds the scripts and scores use (layout 2). */
function sec(ms: number): string {
  return String(ms / 1000);
}

/**
 * Internal: the queue's Lua scripts (src/lua/), one typed method each, bound to one
 * queue. The KEYS, the key prefix and the arguments that never change for the queue are
 * fixed here once; a call passes only what varies, as numbers and strings, and gets the
 * script's reply in a typed shape. Jobs travel by field name (see job-hash.ts).
 */
export class QueueScripts {
  readonly #client: QueueCommands;
  // Per script: its KEYS followed by the key prefix (ARGV[1]).
  readonly #enqueue: readonly string[];
  readonly #reserve: readonly string[];
  readonly #ack: readonly string[];
  readonly #fail: readonly string[];
  readonly #release: readonly string[];
  readonly #extendVisibility: readonly string[];
  readonly #stats: readonly string[];
  readonly #housekeep: readonly string[];
  readonly #dlqList: readonly string[];
  readonly #dlqRequeue: readonly string[];
  readonly #dlqPurge: readonly string[];
  readonly #upgrade: readonly string[];
  readonly #cancel: readonly string[];
  readonly #progress: readonly string[];
  readonly #checkReservations: readonly string[];
  readonly #pause: readonly string[];
  readonly #promote: readonly string[];
  /** '1' with the system clock (rate windows get their guard), '0' with an injected one. */
  readonly #realTime: string;
  readonly #limits: readonly string[];
  readonly #batch: string;
  /** The event stream's cap as the scripts take it, '' for no events. */
  readonly #maxLen: string;
  readonly #keepCompleted: readonly [string, string];
  readonly #keepCancelled: readonly [string, string];
  readonly #cancelledTtlMs: string;
  readonly #retryArgs: readonly string[];
  readonly #jitter: boolean;
  readonly #random: () => number;
  readonly #tokenTtlMs: number;
  readonly #tokenTtlText: string;

  constructor(client: DefinesCommands, keys: QueueKeys, options: QueueScriptsOptions) {
    this.#client = defineQueueCommands(client);
    const { ready, processing, processingVt: vt, delayed, seq, dlq, wake, layout } = keys;
    const p = keys.scriptPrefix;
    this.#enqueue = [ready, delayed, seq, wake, p];
    this.#reserve = [ready, processing, vt, delayed, dlq, wake, p];
    this.#ack = [processing, vt, p];
    this.#fail = [processing, vt, ready, delayed, dlq, wake, p];
    this.#release = [processing, vt, ready, wake, p];
    this.#extendVisibility = [vt, p];
    this.#stats = [ready, processing, vt, delayed, dlq, p];
    this.#housekeep = [ready, processing, vt, delayed, dlq, wake, p];
    this.#dlqList = [ready, processing, vt, delayed, dlq, p];
    this.#dlqRequeue = [dlq, ready, wake, p];
    this.#dlqPurge = [dlq, p];
    this.#upgrade = [layout, delayed, vt, dlq, p];
    this.#cancel = [ready, processing, vt, delayed, p];
    this.#progress = [vt, p];
    this.#checkReservations = [ready, processing, vt, delayed, dlq, wake, p];
    this.#pause = [wake, p];
    this.#promote = [ready, delayed, wake, p];
    this.#realTime = options.realTime ? "1" : "0";
    this.#limits = [wake, p];
    this.#batch = String(options.housekeepingBatch);
    this.#maxLen = options.events === null ? "" : String(options.events.maxLen);
    this.#keepCompleted = retentionArgs(options.keepCompleted);
    this.#keepCancelled = retentionArgs(options.keepCancelled);
    this.#cancelledTtlMs = String(
      Math.ceil((options.visibilityTimeoutSeconds + CANCELLED_RESERVATION_GRACE_SECONDS) * 1000),
    );
    const retry = options.retry;
    this.#jitter = retry.kind !== "linear";
    this.#retryArgs =
      retry.kind === "linear"
        ? ["linear", "1", "0", "0"]
        : [
            "exponential",
            String(retry.factor ?? 2),
            String(retry.maxSeconds ?? 3600),
            String(retry.jitter ?? 0.2),
          ];
    this.#random = options.random;
    this.#tokenTtlMs = options.enqueueTokenTtlMs;
    this.#tokenTtlText = String(options.enqueueTokenTtlMs);
  }

  /**
   * enqueue-4.lua: adds the jobs of `table` in order, each its own values over the
   * defaults. `nowIso` is `isoUtc(now)`, the default `available_at`. Resolves to one entry
   * per job.
   */
  async enqueue(now: number, nowIso: string, table: NewJobTable): Promise<EnqueueResult[]> {
    const { columns, rows } = table;
    const args = [
      ...this.#enqueue,
      sec(now),
      nowIso,
      this.#tokenTtlMs > 0 ? randomUUID() : "",
      this.#tokenTtlText,
      DEDUPE_TTL_MS_TEXT,
      this.#maxLen,
      String(columns.length),
      ...columns,
    ];
    for (const row of rows) for (const value of row) args.push(value);
    const reply = await this.#client.svcJobsEnqueue(...args);
    if (reply[0] === "r") {
      // Every job is new, with consecutive ids.
      const first = Number(reply[1]);
      if (!Number.isSafeInteger(first) || Number(reply[2]) !== rows.length) {
        throw unexpected("enqueue", reply);
      }
      return rows.map((_, i) => String(first + i));
    }
    if (reply.length !== rows.length) throw unexpected("enqueue", reply);
    for (const entry of reply) {
      if (typeof entry !== "string" && !Array.isArray(entry)) throw unexpected("enqueue", entry);
    }
    return reply;
  }

  /**
   * reserve-6.lua: reserves up to `count` due jobs until `deadline` (epoch ms), after
   * housekeeping. `nextDue` (epoch ms) is set only when none was due: when the next one
   * falls due.
   */
  async reserve(
    now: number,
    deadline: number,
    count: number,
  ): Promise<{ jobs: JobFields[]; nextDue: number | null }> {
    const [head, ...jobs] = await this.#client.svcJobsReserve(
      ...this.#reserve,
      sec(now),
      isoUtc(now),
      sec(deadline),
      String(count),
      this.#batch,
      EXPIRED_PRE,
      EXPIRED_POST,
      this.#maxLen,
      this.#realTime,
    );
    return {
      jobs,
      nextDue: typeof head === "string" && head !== "" ? Number(head) * 1000 : null,
    };
  }

  /**
   * ack-2.lua: true when the reservation (of attempt `attempts`, '' for any) was acked.
   * `resultJson` is the result's JSON text, '' for none.
   */
  async ack(id: string, attempts: string, now: number, resultJson: string): Promise<boolean> {
    const n = await this.#client.svcJobsAck(
      ...this.#ack,
      id,
      attempts,
      sec(now),
      resultJson,
      ...this.#keepCompleted,
      this.#maxLen,
    );
    return Number(n) > 0;
  }

  /** fail-6.lua: 0 when fenced off, 1 when scheduled for a retry, 2 when moved to the DLQ. */
  async fail(id: string, attempts: string, now: number, error: string): Promise<number> {
    return Number(
      await this.#client.svcJobsFail(
        ...this.#fail,
        id,
        attempts,
        sec(now),
        error,
        ...this.#retryArgs,
        String(this.#jitter ? this.#random() : 0),
        isoUtc(now),
        this.#maxLen,
      ),
    );
  }

  /**
   * release-4.lua: true when the job went back (to the front of its priority, or with
   * `delaySeconds`, delayed or with its group or the queue held).
   */
  async release(
    id: string,
    attempts: string,
    delaySeconds: number,
    scope: string,
    now: number,
  ): Promise<boolean> {
    const n = await this.#client.svcJobsRelease(
      ...this.#release,
      id,
      attempts,
      String(delaySeconds),
      scope,
      sec(now),
    );
    return Number(n) > 0;
  }

  /** promote-3.lua: true when the delayed job `id` is ready now. */
  async promote(id: string, now: number): Promise<boolean> {
    const n = await this.#client.svcJobsPromote(...this.#promote, id, isoUtc(now), sec(now));
    return Number(n) > 0;
  }

  /** limits-1.lua: sets the queue's rate limit (`max` '' removes it). */
  async setRateLimit(max: string, perSeconds: string): Promise<void> {
    await this.#client.svcJobsLimits(...this.#limits, "rate", max, perSeconds);
  }

  /** limits-1.lua: sets every group's limits (`group` '') or one group's ('' spec removes). */
  async setGroupLimits(group: string, spec: string): Promise<void> {
    await this.#client.svcJobsLimits(...this.#limits, "group", group, spec);
  }

  /** limits-1.lua: the stored flow control, as the script's header lists it. */
  async readLimits(): Promise<{
    rateMax: string;
    ratePer: string;
    group: string;
    holdUntil: string;
    overrides: string[];
  }> {
    const reply = (await this.#client.svcJobsLimits(...this.#limits, "read")) as unknown[];
    if (!Array.isArray(reply) || reply.length !== 5 || !Array.isArray(reply[4])) {
      throw unexpected("limits", reply);
    }
    const text = (v: unknown) => (v === null || v === undefined || v === false ? "" : String(v));
    return {
      rateMax: text(reply[0]),
      ratePer: text(reply[1]),
      group: text(reply[2]),
      holdUntil: text(reply[3]),
      overrides: (reply[4] as unknown[]).map(text),
    };
  }

  /** extendVisibility-1.lua: true when the reservation's deadline moved to `deadline` (epoch ms). */
  async extendVisibility(id: string, attempts: string, deadline: number): Promise<boolean> {
    const n = await this.#client.svcJobsExtendVisibility(
      ...this.#extendVisibility,
      id,
      attempts,
      sec(deadline),
    );
    return Number(n) > 0;
  }

  /** stats-5.lua: the counts by state, after housekeeping at most `batch` of each kind. */
  async stats(now: number, batch: number): Promise<QueueStats> {
    const reply = await this.#client.svcJobsStats(
      ...this.#stats,
      sec(now),
      String(batch),
      EXPIRED_PRE,
      EXPIRED_POST,
      isoUtc(now),
      this.#maxLen,
    );
    const [ready, delayed, processing, dlq, completed, cancelled, paused] = reply.map(Number);
    if (reply.length !== 7 || paused === undefined) throw unexpected("stats", reply);
    return {
      ready: ready as number,
      delayed: delayed as number,
      processing: processing as number,
      dlq: dlq as number,
      completed: completed as number,
      cancelled: cancelled as number,
      paused: paused === 1,
    };
  }

  /** housekeep-6.lua: requeues up to `batch` expired reservations and promotes up to `batch` due jobs. */
  async housekeep(now: number, batch: number): Promise<{ requeued: number; promoted: number }> {
    const [requeued, promoted] = await this.#client.svcJobsHousekeep(
      ...this.#housekeep,
      sec(now),
      String(batch),
      EXPIRED_PRE,
      EXPIRED_POST,
      isoUtc(now),
      this.#maxLen,
    );
    return { requeued: Number(requeued), promoted: Number(promoted) };
  }

  /** dlqList-5.lua: up to `limit` dead jobs from `offset`, and how many ids were read. */
  async dlqList(
    now: number,
    offset: number,
    limit: number,
  ): Promise<{ read: number; jobs: JobFields[] }> {
    const [read, ...jobs] = await this.#client.svcJobsDlqList(
      ...this.#dlqList,
      sec(now),
      this.#batch,
      EXPIRED_PRE,
      EXPIRED_POST,
      String(offset),
      String(limit),
      isoUtc(now),
      this.#maxLen,
    );
    return { read: Number(read), jobs };
  }

  /** dlqRequeue-3.lua: moves dead job `id` back to ready; false when it is not in the DLQ. */
  async dlqRequeueOne(now: number, id: string): Promise<boolean> {
    const n = await this.#client.svcJobsDlqRequeue(...this.#dlqRequeue, isoUtc(now), id, "0");
    return Number(n) > 0;
  }

  /** dlqRequeue-3.lua: moves the oldest `batch` dead jobs back to ready; how many moved. */
  async dlqRequeueOldest(now: number, batch: number): Promise<number> {
    return Number(
      await this.#client.svcJobsDlqRequeue(...this.#dlqRequeue, isoUtc(now), "", String(batch)),
    );
  }

  /**
   * upgrade-4.lua: converts up to `batch` entries of a version-1 queue to layout version 2;
   * true once the queue is at version 2.
   */
  async upgrade(batch: number): Promise<boolean> {
    return Number(await this.#client.svcJobsUpgrade(...this.#upgrade, String(batch))) === 1;
  }

  /**
   * cancel-4.lua: true when job `id` was ready, delayed or reserved and is now cancelled;
   * `reason` '' for none.
   */
  async cancel(id: string, now: number, reason: string): Promise<boolean> {
    const n = await this.#client.svcJobsCancel(
      ...this.#cancel,
      id,
      sec(now),
      reason,
      ...this.#keepCancelled,
      this.#cancelledTtlMs,
      this.#maxLen,
    );
    return Number(n) > 0;
  }

  /** progress-1.lua: true when the reservation's progress was recorded (`valueJson`: JSON text). */
  async progress(id: string, attempts: string, now: number, valueJson: string): Promise<boolean> {
    const n = await this.#client.svcJobsProgress(
      ...this.#progress,
      id,
      attempts,
      sec(now),
      valueJson,
      this.#maxLen,
    );
    return Number(n) > 0;
  }

  /**
   * checkReservations-6.lua: the reservations of `held` (id and attempt number, '' for any)
   * that are no longer held, and why, after housekeeping at `now`.
   */
  async checkReservations(
    now: number,
    held: readonly (readonly [string, string])[],
  ): Promise<ReservationCheck[]> {
    const args: string[] = [
      ...this.#checkReservations,
      sec(now),
      isoUtc(now),
      this.#batch,
      EXPIRED_PRE,
      EXPIRED_POST,
      this.#maxLen,
    ];
    for (const [id, attempts] of held) args.push(id, attempts);
    const reply = await this.#client.svcJobsCheckReservations(...args);
    const out: ReservationCheck[] = [];
    if (reply.length % 3 !== 0) throw unexpected("checkReservations", reply);
    for (let i = 0; i + 2 < reply.length; i += 3) {
      const status = reply[i + 1];
      if (status !== "cancelled" && status !== "lost") throw unexpected("checkReservations", reply);
      const reason = reply[i + 2];
      out.push(
        status === "cancelled"
          ? {
              id: String(reply[i]),
              status,
              reason: typeof reason === "string" && reason !== "" ? reason : null,
            }
          : { id: String(reply[i]), status },
      );
    }
    return out;
  }

  /** pause-1.lua: pauses, resumes or reads; true when the queue is paused afterwards. */
  async pause(op: "pause" | "resume" | "read"): Promise<boolean> {
    return Number(await this.#client.svcJobsPause(...this.#pause, op)) === 1;
  }

  /** dlqPurge-1.lua: deletes the oldest `batch` dead jobs; how many went. */
  async dlqPurge(batch: number): Promise<number> {
    return Number(await this.#client.svcJobsDlqPurge(...this.#dlqPurge, String(batch)));
  }
}

function unexpected(script: string, reply: unknown): BackendError {
  return new BackendError(
    `Redis ${script} returned an unexpected reply: ${JSON.stringify(reply)}; check that the server is Redis (or a compatible server with Lua scripting)`,
  );
}
