import type { JobEvent, JobQueue } from "@svc-jobs/core";
import type { DashboardLogger } from "./dashboard-options.js";

/** Event types that count as a failed attempt in the throughput chart. */
const FAILURE_TYPES = new Set<JobEvent["type"]>(["retrying", "dead", "expired"]);

/** One minute of the throughput chart. */
export interface MinuteBucket {
  /** The minute's start, epoch milliseconds. */
  at: number;
  completed: number;
  failed: number;
}

/** What a listener of {@link QueueMonitor} gets. */
export type EventListener = (queue: string, event: JobEvent) => void;

const MINUTE_MS = 60_000;
const WINDOW_MINUTES = 60;

/**
 * Follows the `events()` stream of each queue for as long as the dashboard lives: keeps
 * the recent events (for job pages and the event log), counts completions and failures
 * per minute for the last hour (the overview's chart), and fans events out to the
 * browsers connected over SSE. One subscription per queue, whatever the number of
 * browsers, so a busy dashboard adds no load on the backend per viewer.
 */
export class QueueMonitor {
  readonly #queues: ReadonlyMap<string, JobQueue>;
  readonly #bufferSize: number;
  readonly #logger: DashboardLogger;
  readonly #stop = new AbortController();
  readonly #recent = new Map<string, JobEvent[]>();
  readonly #buckets = new Map<string, Map<number, MinuteBucket>>();
  readonly #listeners = new Set<EventListener>();
  /** Queues whose `events()` cannot be followed, with why. */
  readonly #unavailable = new Map<string, string>();
  readonly #startedAt = Date.now();
  #started = false;

  constructor(queues: ReadonlyMap<string, JobQueue>, bufferSize: number, logger: DashboardLogger) {
    this.#queues = queues;
    this.#bufferSize = bufferSize;
    this.#logger = logger;
  }

  /** Starts following every queue (once; later calls do nothing). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const [name, queue] of this.#queues) void this.#follow(name, queue);
  }

  async #follow(name: string, queue: JobQueue): Promise<void> {
    let after: string | undefined;
    let delayMs = 500;
    while (!this.#stop.signal.aborted) {
      try {
        const events = queue.events({
          signal: this.#stop.signal,
          ...(after === undefined ? {} : { after }),
        });
        for await (const event of events) {
          after = event.id;
          delayMs = 500;
          this.#record(name, event);
        }
        // The iterator ends when the signal aborts or the queue closes.
        return;
      } catch (error) {
        if (this.#stop.signal.aborted) return;
        const message = error instanceof Error ? error.message : String(error);
        const code = (error as { code?: unknown }).code;
        if (code === "ERR_CONFIG" || code === "ERR_QUEUE_CLOSED") {
          // `events: false` on the queue, or a closed queue: nothing to follow.
          this.#unavailable.set(name, message);
          return;
        }
        this.#logger.warn(
          { queue: name, err: message },
          "dashboard: lost the queue's event stream; following it again",
        );
        await sleep(delayMs, this.#stop.signal);
        delayMs = Math.min(delayMs * 2, 10_000);
      }
    }
  }

  #record(name: string, event: JobEvent): void {
    let recent = this.#recent.get(name);
    if (!recent) {
      recent = [];
      this.#recent.set(name, recent);
    }
    recent.push(event);
    if (recent.length > this.#bufferSize) recent.splice(0, recent.length - this.#bufferSize);

    const isCompleted = event.type === "completed";
    const isFailure = FAILURE_TYPES.has(event.type);
    if (isCompleted || isFailure) {
      let buckets = this.#buckets.get(name);
      if (!buckets) {
        buckets = new Map();
        this.#buckets.set(name, buckets);
      }
      const minute = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
      let bucket = buckets.get(minute);
      if (!bucket) {
        bucket = { at: minute, completed: 0, failed: 0 };
        buckets.set(minute, bucket);
        for (const at of buckets.keys()) {
          if (at <= minute - WINDOW_MINUTES * MINUTE_MS) buckets.delete(at);
        }
      }
      if (isCompleted) bucket.completed++;
      else bucket.failed++;
    }
    for (const listener of this.#listeners) {
      try {
        listener(name, event);
      } catch {
        // A listener is a browser connection; one that broke is removed by its stream.
      }
    }
  }

  /** Calls `listener` for every event of every queue until the returned function is called. */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The recent events of one queue, newest first; only those of `jobId` when given. */
  recent(queue: string, options: { jobId?: string; limit?: number } = {}): JobEvent[] {
    const all = this.#recent.get(queue) ?? [];
    const out: JobEvent[] = [];
    const limit = options.limit ?? 100;
    for (let i = all.length - 1; i >= 0 && out.length < limit; i--) {
      const event = all[i]!;
      if (options.jobId === undefined || event.jobId === options.jobId) out.push(event);
    }
    return out;
  }

  /** The last 60 minutes of one queue, oldest first, one bucket per minute (zeros included). */
  throughput(queue: string, now = Date.now()): MinuteBucket[] {
    const buckets = this.#buckets.get(queue);
    const current = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    const out: MinuteBucket[] = [];
    for (let i = WINDOW_MINUTES - 1; i >= 0; i--) {
      const at = current - i * MINUTE_MS;
      out.push(buckets?.get(at) ?? { at, completed: 0, failed: 0 });
    }
    return out;
  }

  /** Why the queue's events cannot be followed, or `undefined` when they are. */
  unavailable(queue: string): string | undefined {
    return this.#unavailable.get(queue);
  }

  /** When the dashboard started following events (the chart starts there). */
  get startedAt(): number {
    return this.#startedAt;
  }

  /** Stops following; the listeners get nothing more. */
  stop(): void {
    this.#stop.abort();
    this.#listeners.clear();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
