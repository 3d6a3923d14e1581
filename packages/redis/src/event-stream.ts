import {
  BackendError,
  type EventsOptions,
  JOB_EVENT_TYPES,
  type JobEvent,
  type JobEventType,
  JobValidationError,
  type JsonValue,
} from "@svc-jobs/core";
import { describeValue, validateEventsOptions } from "@svc-jobs/core/backend";

// events() on Redis: the queue's `{prefix}:events` STREAM (docs/redis-layout.md, "Events"),
// read with XREAD BLOCK on a connection of its own. The semantics are docs/contract.md,
// "Seeing and controlling jobs" (Events).

type StreamEntry = [id: string, fields: string[]];
type XReadReply = [key: string, entries: StreamEntry[]][] | null;

/** The connection events() reads on: a `duplicate()` of the queue's client. */
interface ReadConnection {
  xread(...args: (string | number)[]): Promise<XReadReply>;
  disconnect(): void;
  on?(event: "error", listener: (error: unknown) => void): unknown;
}

/**
 * What events() uses of the queue's client (an ioredis `Redis` or `Cluster`, or
 * ioredis-mock): typed by shape, as the queue's client is, and read through a cast.
 */
export interface EventStreamClient {
  xrevrange(
    key: string,
    end: string,
    start: string,
    ...rest: (string | number)[]
  ): Promise<unknown>;
  xrange(key: string, start: string, end: string, ...rest: (string | number)[]): Promise<unknown>;
  duplicate?(): unknown;
}

/** Options of {@link jobEvents}. */
export interface EventStreamOptions {
  /** Aborts when the queue closes: every iteration then ends. */
  closed?: AbortSignal;
  /**
   * Whether to wait with XREAD BLOCK on a duplicate connection. `false` polls with
   * XRANGE every `pollMs` on the client itself (ioredis-mock, whose XREAD does not follow
   * Redis). @default true when the client has `duplicate()`
   */
  blocking?: boolean;
  /** How long one XREAD BLOCK waits, in ms. @default 5000 */
  blockMs?: number;
  /** The poll interval without blocking, in ms. @default 50 */
  pollMs?: number;
  /** Events read per XREAD. @default 100 */
  count?: number;
}

const STREAM_ID = /^\d{1,20}(-\d{1,20})?$/;

/**
 * Internal: the events of the stream at `key` as an async iterable (`queue.events()`).
 * Without `opts.after` it starts behind the stream's last entry as of this call (read at
 * once, so nothing written after the call is missed); with it, behind that id. Each
 * iteration reads on its own `duplicate()` connection, disconnected when the iteration
 * ends. It ends without an error when `opts.signal` or `options.closed` aborts; a Redis
 * error surfaces as a `BackendError`.
 */
export function jobEvents(
  queueClient: object,
  key: string,
  opts: EventsOptions = {},
  options: EventStreamOptions = {},
): AsyncIterable<JobEvent> {
  // The checks every backend shares; then the id must be a stream id.
  const { signal, after: afterOrNull } = validateEventsOptions(opts);
  const after = afterOrNull ?? undefined;
  if (after !== undefined && (typeof after !== "string" || !STREAM_ID.test(after))) {
    throw new JobValidationError(
      "opts.after",
      `opts.after must be the id of an event (e.g. "1893456000000-0"), got ${describeValue(after)}`,
    );
  }
  const client = queueClient as EventStreamClient;
  const closed = options.closed;
  const blockMs = options.blockMs ?? 5000;
  const pollMs = options.pollMs ?? 50;
  const count = options.count ?? 100;
  const aborted = () => signal?.aborted === true || closed?.aborted === true;

  // `$` resolved to a concrete id now: the stream's last id, or 0-0 when it is empty.
  let start: Promise<string> | undefined;
  if (after === undefined && !aborted()) {
    // Sent now, before any command the caller sends after this call on the same client.
    let sent: Promise<unknown>;
    try {
      sent = client.xrevrange(key, "+", "-", "COUNT", 1);
    } catch (error) {
      sent = Promise.reject(error);
    }
    start = sent.then((reply) => {
      const first = Array.isArray(reply) ? (reply[0] as unknown) : undefined;
      return Array.isArray(first) && typeof first[0] === "string" ? first[0] : "0-0";
    });
    // Read by the iteration; an error there surfaces when the caller iterates.
    start.catch(() => {});
  }

  async function* iterate(): AsyncGenerator<JobEvent> {
    if (aborted()) return;
    let last: string;
    try {
      last = after ?? (await (start as Promise<string>));
    } catch (error) {
      if (aborted()) return;
      throw backendError(key, error);
    }
    let blocking = options.blocking ?? typeof client.duplicate === "function";
    let connection: ReadConnection | undefined;
    const stop = () => connection?.disconnect();
    signal?.addEventListener("abort", stop);
    closed?.addEventListener("abort", stop);
    try {
      for (;;) {
        if (aborted()) return;
        let entries: StreamEntry[];
        try {
          if (blocking) {
            connection ??= openConnection(client);
            const reply = await connection.xread(
              "COUNT",
              count,
              "BLOCK",
              blockMs,
              "STREAMS",
              key,
              last,
            );
            entries = reply?.[0]?.[1] ?? [];
          } else {
            entries = await readAfter(client, key, last, count);
            if (entries.length === 0) await sleep(pollMs, signal, closed);
          }
        } catch (error) {
          if (aborted()) return;
          if (blocking && isUnsupported(error)) {
            blocking = false;
            stop();
            connection = undefined;
            continue;
          }
          throw backendError(key, error);
        }
        for (const [id, fields] of entries) {
          if (aborted()) return;
          last = id;
          const event = parseEvent(id, fields);
          if (event) yield event;
        }
      }
    } finally {
      signal?.removeEventListener("abort", stop);
      closed?.removeEventListener("abort", stop);
      stop();
    }
  }

  return { [Symbol.asyncIterator]: iterate };
}

function openConnection(client: EventStreamClient): ReadConnection {
  const connection = (client.duplicate as () => ReadConnection)();
  // A dropped connection reconnects by itself; its errors surface as a failed XREAD.
  connection.on?.("error", () => {});
  return connection;
}

/**
 * Entries after `last` with XRANGE from its millisecond part (inclusive, and what
 * ioredis-mock understands), dropping those up to `last`. The stream is capped, so one
 * read stays bounded.
 */
async function readAfter(
  client: EventStreamClient,
  key: string,
  last: string,
  count: number,
): Promise<StreamEntry[]> {
  const reply = await client.xrange(key, last.split("-")[0] as string, "+");
  if (!Array.isArray(reply)) return [];
  return (reply as StreamEntry[]).filter(([id]) => compareIds(id, last) > 0).slice(0, count);
}

/** Orders two stream ids (`ms-seq`). */
export function compareIds(a: string, b: string): number {
  const [am = "0", as = "0"] = a.split("-");
  const [bm = "0", bs = "0"] = b.split("-");
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

function sleep(ms: number, ...signals: (AbortSignal | undefined)[]): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const s of signals) s?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const s of signals) s?.addEventListener("abort", done, { once: true });
  });
}

const NUMBER_FIELDS = { attempt: "attempt", delay: "delaySeconds", priority: "priority" } as const;
const JSON_FIELDS = ["progress", "result"] as const;

/**
 * Internal: a stream entry as a `JobEvent` (docs/redis-layout.md, "Events": `type`, `job`,
 * `name`, `at` in epoch ms, and by type `attempt`, `error`, `progress` and `result` as
 * JSON, `reason`, `delay` in seconds, `priority`). `null` for an entry that is not one
 * (an unknown type, or no job), which the iterator skips.
 */
export function parseEvent(id: string, fields: readonly string[]): JobEvent | null {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i] as string] = fields[i + 1] as string;
  const type = f.type;
  if (!(JOB_EVENT_TYPES as readonly string[]).includes(type ?? "")) return null;
  if (typeof f.job !== "string" || f.job === "") return null;
  const at = Number(f.at);
  const event: JobEvent = {
    id,
    type: type as JobEventType,
    jobId: f.job,
    name: f.name ?? "",
    at: new Date(Number.isFinite(at) ? at : Number(id.split("-")[0])),
  };
  for (const [field, prop] of Object.entries(NUMBER_FIELDS)) {
    const value = f[field];
    if (value !== undefined && value !== "" && Number.isFinite(Number(value))) {
      event[prop] = Number(value);
    }
  }
  if (f.error !== undefined) event.error = f.error;
  if (f.reason !== undefined) event.reason = f.reason;
  for (const field of JSON_FIELDS) {
    const value = f[field];
    if (value === undefined) continue;
    try {
      event[field] = JSON.parse(value) as JsonValue;
    } catch {
      event[field] = value;
    }
  }
  return event;
}

function isUnsupported(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /unsupported command|unknown command|not supported/i.test(message);
}

function backendError(key: string, error: unknown): BackendError {
  if (error instanceof BackendError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new BackendError(
    `Redis events() failed reading ${key}: ${message}: check that Redis is reachable (5.0 or later, for streams)`,
    { code: "ERR_REDIS", cause: error },
  );
}
