import {
  BackendError,
  JOB_STATES,
  type JobInfo,
  type JobPage,
  type JobState,
  JobValidationError,
  type JsonValue,
  type ListJobsOptions,
  MAX_GROUP_LENGTH,
} from "@svc-jobs/core";
import {
  describeValue,
  jobIdOf,
  MAX_LIST_LIMIT,
  validateJobState,
  validateListJobsOptions,
} from "@svc-jobs/core/backend";
import { type JobFields, jobFromHash, parseAvailableAt } from "./job-hash.js";
import type { QueueKeys } from "./queue-keys.js";
import { type DefinesCommands, defineQueueCommands, type QueueCommands } from "./scripts.js";

// Seeing jobs on Redis: getJob, listJobs and countByName read the layout of
// docs/redis-layout.md ("Seeing jobs") with one script, src/lua/inspect-8.lua; the
// semantics are docs/contract.md, "Seeing and controlling jobs".

/** The keys of the inspection layout that {@link QueueKeys} may not name yet. */
export interface InspectionKeys {
  /** ZSET of the non-zero priorities in use (member and score n); `{p}:prio:{n}` are LISTs. */
  readonly priorities: string;
  /** ZSET of kept completed ids -> finished time (epoch seconds). */
  readonly completed: string;
  /** ZSET of kept cancelled ids -> finished time (epoch seconds). */
  readonly cancelled: string;
  /** STREAM of the queue's events. */
  readonly events: string;
}

/** Internal: the inspection keys of a queue, from its prefix (as queue-keys.ts builds names). */
export function inspectionKeys(keys: Pick<QueueKeys, "prefix">): InspectionKeys {
  const p = keys.prefix;
  return {
    priorities: `${p}:priorities`,
    completed: `${p}:completed`,
    cancelled: `${p}:cancelled`,
    events: `${p}:events`,
  };
}

/** Ids one listing call looks at, at most: with `name`, a page may come back short. */
export const SCAN_BUDGET = 2000;
/** Ids per countByName script call. */
export const COUNT_BATCH = 1000;

/** Options of {@link JobInspection}. */
export interface JobInspectionOptions {
  /**
   * Runs each script call (`RedisJobQueue` passes its own wrapper: the layout check, and
   * errors as `BackendError`). By default a failed call becomes a `BackendError`.
   */
  call?: <T>(what: string, run: () => Promise<T>) => Promise<T>;
  /**
   * Runs before `getJob` and before each listing or counting call: the queue's
   * housekeeping, so a due delayed job reads as ready and an expired reservation as
   * requeued or dead, as `stats()` sees them.
   */
  housekeep?: () => Promise<unknown>;
  /** Ids a listing call looks at, at most. @default 2000 */
  scanBudget?: number;
}

/**
 * What a cursor holds (opaque to callers: base64url JSON). A ready cursor names the priority
 * level `l` being walked and, in a group's lists, the group `g` (absent for the jobs without
 * a group, which come first); `k` is the ids looked at last, each with its fingerprint.
 */
type Cursor =
  | { s: "ready"; g?: string; l: string; k: string[] }
  | { s: "dead"; k: string[] }
  | { s: "delayed" | "completed" | "cancelled"; sc: string; m: string }
  | { s: "processing"; id: string }
  // countByName's own (never handed out): processing_vt in its own order.
  | { s: "processing-count"; sc: string; m: string };

/** The next reservation ids of a processing page, when there are too many to sort at once. */
interface Candidates {
  /** Ascending. */
  ids: string[];
  /** True when these are every id above the floor, not only the smallest. */
  complete: boolean;
}

/** Reservation ids read per call while collecting {@link Candidates}. */
const IDS_CHUNK = 2500;

type PageReply = [number | string, string, string, string[], unknown[]];

/**
 * Internal: getJob, listJobs and countByName of one Redis queue. Stateless: every call
 * is one script call (countByName several), reading the queue's keys.
 */
export class JobInspection {
  readonly #client: QueueCommands;
  readonly #args: readonly string[];
  readonly #call: <T>(what: string, run: () => Promise<T>) => Promise<T>;
  readonly #housekeep: (() => Promise<unknown>) | undefined;
  readonly #budget: number;

  constructor(client: DefinesCommands, keys: QueueKeys, options: JobInspectionOptions = {}) {
    this.#client = defineQueueCommands(client);
    const more = inspectionKeys(keys);
    this.#args = [
      keys.ready,
      keys.processing,
      keys.processingVt,
      keys.delayed,
      keys.dlq,
      more.priorities,
      more.completed,
      more.cancelled,
      keys.scriptPrefix,
    ];
    this.#call = options.call ?? ((what, run) => defaultCall(keys.prefix, what, run));
    this.#housekeep = options.housekeep;
    this.#budget = Math.max(MAX_LIST_LIMIT, options.scanBudget ?? SCAN_BUDGET);
  }

  /** One job with its state, or `null` when its hash is gone. */
  async getJob(id: string): Promise<JobInfo | null> {
    const jobId = jobIdOf(id, "id");
    await this.#housekeep?.();
    const reply = (await this.#call("getJob", () =>
      this.#client.svcJobsInspect(...this.#args, "job", jobId),
    )) as unknown[];
    if (!Array.isArray(reply) || reply.length === 0) return null;
    const [state, fields] = reply;
    if (!isState(state) || !Array.isArray(fields)) throw unexpected("getJob", reply);
    if (fields.length === 0) return null;
    return jobInfo(state, fields);
  }

  /** A page of the jobs in `opts.state` (docs/contract.md, "Listing"). */
  async listJobs(opts: ListJobsOptions): Promise<JobPage> {
    // The checks every backend shares; the cursor's contents are this backend's own.
    const { state, name: nameOrNull, limit, cursor: cursorText } = validateListJobsOptions(opts);
    const name = nameOrNull ?? "";
    const cursor = cursorText === null ? null : decodeCursor(cursorText, state);
    await this.#housekeep?.();
    let page = await this.#page("listJobs", "jobs", state, name, limit, this.#budget, cursor);
    if (page.tooMany) {
      // Too many reservations to sort in one script: collect the smallest ids above the
      // cursor a chunk at a time, then read the page of those.
      const floor = cursor?.s === "processing" ? cursor.id : "";
      const candidates = await this.#collect(floor, name ? this.#budget : limit + 1);
      page = await this.#page(
        "listJobs",
        "jobs",
        state,
        name,
        limit,
        this.#budget,
        cursor,
        candidates,
      );
    }
    const jobs = page.entries.map((fields) => {
      if (!Array.isArray(fields)) throw unexpected("listJobs", fields);
      return jobInfo(state, fields);
    });
    return { jobs, cursor: page.cursor === null ? null : encodeCursor(page.cursor) };
  }

  /** How many jobs of each name are in `state`, read in batches of {@link COUNT_BATCH}. */
  async countByName(state: JobState): Promise<Record<string, number>> {
    const s = validateJobState(state, "state");
    await this.#housekeep?.();
    const counts: Record<string, number> = Object.create(null);
    let cursor: Cursor | null = null;
    do {
      const page = await this.#page(
        "countByName",
        "names",
        s,
        "",
        COUNT_BATCH,
        COUNT_BATCH,
        cursor,
      );
      for (const name of page.entries) {
        if (typeof name !== "string") throw unexpected("countByName", name);
        counts[name] = (counts[name] ?? 0) + 1;
      }
      cursor = page.cursor;
    } while (cursor !== null);
    // A plain object (sorted by name) for callers that print or compare it.
    const out: Record<string, number> = {};
    for (const name of Object.keys(counts).sort()) out[name] = counts[name] as number;
    return out;
  }

  async #page(
    what: string,
    mode: "jobs" | "names",
    state: JobState,
    name: string,
    limit: number,
    budget: number,
    cursor: Cursor | null,
    candidates?: Candidates,
  ): Promise<{ entries: unknown[]; cursor: Cursor | null; tooMany: boolean }> {
    const args = [...this.#args, mode, state, name, String(limit), String(budget)];
    args.push(...cursorArgs(cursor, candidates));
    const reply = (await this.#call(what, () => this.#client.svcJobsInspect(...args))) as PageReply;
    if (!Array.isArray(reply) || reply.length !== 5 || !Array.isArray(reply[4])) {
      throw unexpected(what, reply);
    }
    const [more, a, b, kept, entries] = reply;
    if (Number(more) === 2) return { entries: [], cursor: null, tooMany: true };
    if (Number(more) !== 1) return { entries, cursor: null, tooMany: false };
    const k = Array.isArray(kept) ? kept.map(String) : [];
    let next: Cursor;
    switch (state) {
      case "ready":
        // b: the group whose lists the page ended in, '' for the jobs without a group.
        next =
          String(b ?? "") === ""
            ? { s: "ready", l: String(a), k }
            : { s: "ready", g: String(b), l: String(a), k };
        break;
      case "dead":
        next = { s: "dead", k };
        break;
      case "processing":
        next =
          mode === "names"
            ? { s: "processing-count", sc: String(a), m: String(b) }
            : { s: "processing", id: String(a) };
        break;
      default:
        next = { s: state, sc: String(a), m: String(b) };
    }
    return { entries, cursor: next, tooMany: false };
  }

  /**
   * The `want` smallest reservation ids above `floor` ('' for none), reading
   * processing_vt {@link IDS_CHUNK} at a time (each call atomic; a reservation that stays
   * keeps its id, so the pages stay stable), and whether they are all there are.
   */
  async #collect(floor: string, want: number): Promise<Candidates> {
    let ids: string[] = [];
    let complete = true;
    let from: [string, string] | null = null;
    for (let calls = 0; ; calls++) {
      if (calls > 100_000) throw unexpected("listJobs", "processing_vt never ended");
      const args = [...this.#args, "ids", floor, String(want), String(IDS_CHUNK)];
      args.push(from ? "1" : "", from?.[0] ?? "", from?.[1] ?? "");
      const reply = (await this.#call("listJobs", () =>
        this.#client.svcJobsInspect(...args),
      )) as PageReply;
      if (!Array.isArray(reply) || reply.length !== 5 || !Array.isArray(reply[3])) {
        throw unexpected("listJobs", reply);
      }
      const [more, score, member, chunk, [count]] = reply as [
        unknown,
        unknown,
        unknown,
        unknown[],
        unknown[],
      ];
      if (Number(count) > chunk.length) complete = false;
      ids = [...new Set([...ids, ...chunk.map(String)])].sort(byNumericId);
      if (ids.length > want) {
        ids = ids.slice(0, want);
        complete = false;
      }
      if (Number(more) !== 1) return { ids, complete };
      from = [String(score), String(member)];
    }
  }
}

/** Decimal ids in numeric order (any length). */
function byNumericId(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** ARGV[7..] of inspect-8.lua for a cursor (and a processing page's candidate ids). */
function cursorArgs(cursor: Cursor | null, candidates?: Candidates): string[] {
  if (candidates) {
    const floor = cursor?.s === "processing" ? ["1", cursor.id] : ["", ""];
    return [...floor, candidates.complete ? "complete" : "partial", ...candidates.ids];
  }
  if (cursor === null) return ["", "", ""];
  switch (cursor.s) {
    case "ready":
      return ["1", cursor.l, cursor.g ?? "", ...cursor.k];
    case "dead":
      return ["1", "", "", ...cursor.k];
    case "processing":
      return ["1", cursor.id, ""];
    default:
      return ["1", cursor.sc, cursor.m];
  }
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), "utf8").toString("base64url");
}

const ID = /^\d{1,19}$/;
const INTEGER = /^-?\d{1,10}$/;
const SCORE = /^-?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

/** A cursor from a caller: the one {@link encodeCursor} made for this state, else an error. */
function decodeCursor(text: unknown, state: JobState): Cursor {
  const bad = (why: string) =>
    new JobValidationError(
      "opts.cursor",
      `opts.cursor ${why}, got ${describeValue(text)}: pass the cursor of the previous page of the same listing, or null for the first page`,
    );
  if (typeof text !== "string" || text === "" || !/^[A-Za-z0-9_-]+$/.test(text)) {
    throw bad("must be a cursor string returned by listJobs");
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    throw bad("is not a listJobs cursor");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw bad("is not a listJobs cursor");
  }
  const c = value as Record<string, unknown>;
  if (c.s !== state) {
    throw bad(
      isState(c.s)
        ? `is a cursor of the ${c.s} listing, not of ${state}`
        : "is not a listJobs cursor",
    );
  }
  const keys = Object.keys(c).sort().join(",");
  const kept = (k: unknown): k is string[] =>
    Array.isArray(k) &&
    k.length % 2 === 0 &&
    k.length <= 16 &&
    k.every((x, i) => typeof x === "string" && (i % 2 === 1 ? x.length <= 200 : ID.test(x)));
  switch (state) {
    case "ready":
      if (typeof c.l !== "string" || !INTEGER.test(c.l) || !kept(c.k)) break;
      if (keys === "k,l,s") return { s: "ready", l: c.l, k: c.k };
      if (
        keys === "g,k,l,s" &&
        typeof c.g === "string" &&
        c.g.length > 0 &&
        c.g.length <= MAX_GROUP_LENGTH
      ) {
        return { s: "ready", g: c.g, l: c.l, k: c.k };
      }
      break;
    case "dead":
      if (keys === "k,s" && kept(c.k)) return { s: "dead", k: c.k };
      break;
    case "processing":
      if (keys === "id,s" && typeof c.id === "string" && ID.test(c.id)) {
        return { s: "processing", id: c.id };
      }
      break;
    default:
      if (
        keys === "m,s,sc" &&
        typeof c.sc === "string" &&
        SCORE.test(c.sc) &&
        typeof c.m === "string" &&
        c.m.length > 0 &&
        c.m.length <= 64
      ) {
        return { s: state, sc: c.sc, m: c.m };
      }
  }
  throw bad("is not a listJobs cursor");
}

function isState(value: unknown): value is JobState {
  return typeof value === "string" && (JOB_STATES as readonly string[]).includes(value);
}

/** Internal: a `JobInfo` from a job's hash (HGETALL) and its state. */
export function jobInfo(state: JobState, fields: JobFields): JobInfo {
  const job = jobFromHash(fields);
  let priority: unknown;
  let createdAt: unknown;
  let finishedAt: unknown;
  let progress: unknown;
  let result: unknown;
  let group: unknown;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1];
    switch (fields[i]) {
      case "svc_jobs_priority":
        priority = value;
        break;
      case "svc_jobs_created_at":
        createdAt = value;
        break;
      case "svc_jobs_finished_at":
        finishedAt = value;
        break;
      case "svc_jobs_progress":
        progress = value;
        break;
      case "svc_jobs_result":
        result = value;
        break;
      case "svc_jobs_group":
        group = value;
        break;
    }
  }
  const created = typeof createdAt === "string" ? parseAvailableAt(createdAt) : Number.NaN;
  const finished = Number(finishedAt);
  const finishedKept =
    (state === "completed" || state === "cancelled") &&
    typeof finishedAt === "string" &&
    finishedAt !== "" &&
    Number.isFinite(finished);
  return {
    ...job,
    state,
    priority: typeof priority === "string" && priority !== "" ? Number(priority) : 0,
    group: typeof group === "string" && group !== "" ? group : null,
    createdAt: Number.isFinite(created) ? new Date(created) : new Date(job.availableAt.getTime()),
    finishedAt: finishedKept ? new Date(Math.round(finished * 1000)) : null,
    progress: parseJson(progress),
    result: state === "completed" ? parseJson(result) : null,
  };
}

function parseJson(text: unknown): JsonValue | null {
  if (typeof text !== "string" || text === "") return null;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return null;
  }
}

function unexpected(what: string, reply: unknown): BackendError {
  return new BackendError(
    `Redis ${what} returned an unexpected reply: ${JSON.stringify(reply)?.slice(0, 200)}; check that the server is Redis 6.0.6 or later (LPOS) and that nothing else writes the queue's keys`,
  );
}

async function defaultCall<T>(prefix: string, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof BackendError || error instanceof JobValidationError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new BackendError(`Redis ${what} failed on queue "${prefix}": ${message}`, {
      code: "ERR_REDIS",
      cause: error,
    });
  }
}
