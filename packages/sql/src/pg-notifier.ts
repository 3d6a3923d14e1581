// PostgreSQL LISTEN/NOTIFY wake-ups for blocked reserves and event iterators
// (docs/sql-backend.md, "Blocking reserves and events"). Internal.

/** The part of a `pg` pool client the notifier uses. */
export interface NotifyClient {
  query(text: string): Promise<unknown>;
  on(
    event: "notification",
    listener: (message: { channel: string; payload?: string }) => void,
  ): unknown;
  on(event: "error" | "end", listener: (error?: unknown) => void): unknown;
  removeAllListeners(event?: string): unknown;
  release(error?: Error | boolean): void;
}

/** What {@link SqlJobQueueOptions.notify} takes: a `pg` `Pool` (or anything with its `connect`). */
export interface NotifyPool {
  connect(): Promise<NotifyClient>;
}

/**
 * The channel every queue notifies on. The payload is `w:<queue>` when work became
 * reservable, `e:<queue>` when only events were written.
 */
export const NOTIFY_CHANNEL = "svc_jobs";

/** The payload of a notification about the queue `name`. */
export function notifyPayload(name: string, work: boolean): string {
  return `${work ? "w" : "e"}:${name}`;
}

/**
 * Holds one connection of `pool` listening on {@link NOTIFY_CHANNEL} and calls `wake` when
 * the queue `name` is notified. Connects on first use, reconnects on the next use after the
 * connection failed; until then the queue polls.
 */
export class PgNotifier {
  #pool: NotifyPool;
  #name: string;
  #wake: (work: boolean) => void;
  #client: NotifyClient | undefined;
  #connecting: Promise<void> | undefined;
  #closed = false;

  constructor(pool: NotifyPool, name: string, wake: (work: boolean) => void) {
    this.#pool = pool;
    this.#name = name;
    this.#wake = wake;
  }

  /** Whether a listening connection is up now. */
  get listening(): boolean {
    return this.#client !== undefined;
  }

  /** Starts listening unless it is already; never throws (the queue polls meanwhile). */
  ensure(): Promise<void> {
    if (this.#closed || this.#client) return Promise.resolve();
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    let client: NotifyClient;
    try {
      client = await this.#pool.connect();
    } catch {
      return;
    }
    const drop = (error?: unknown) => {
      if (this.#client !== client) return;
      this.#client = undefined;
      client.removeAllListeners("notification");
      try {
        client.release(error instanceof Error ? error : true);
      } catch {
        // already released
      }
      this.#wake(true);
    };
    client.on("notification", (message) => {
      if (message.channel !== NOTIFY_CHANNEL) return;
      if (message.payload === notifyPayload(this.#name, true)) this.#wake(true);
      else if (message.payload === notifyPayload(this.#name, false)) this.#wake(false);
    });
    client.on("error", drop);
    client.on("end", drop);
    try {
      await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
    } catch (error) {
      client.removeAllListeners("notification");
      client.release(error instanceof Error ? error : true);
      return;
    }
    if (this.#closed) {
      client.removeAllListeners("notification");
      client.release(true);
      return;
    }
    this.#client = client;
    // Work may have arrived while connecting: let the waiters look once.
    this.#wake(true);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#connecting;
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    client.removeAllListeners("notification");
    // A dedicated connection: closed rather than returned to the pool still listening.
    client.release(true);
  }
}
