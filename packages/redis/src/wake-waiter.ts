/**
 * Why a wait ended: `wake` (a wake-up token arrived, an error, close or abort: look
 * again), `timeout` (this waiter's own time ran out), `quiet` (the shared BLPOP timed out
 * with no news, so nothing can have changed).
 */
export type WakeReason = "wake" | "timeout" | "quiet";

/** What the waiter needs from the queue's client. */
export interface WakeClient {
  lpush(key: string, ...values: string[]): Promise<unknown>;
}

/** The part of a `duplicate()` of the client the blocking wait uses. */
interface BlockingConnection {
  blpop(key: string, timeoutSeconds: number): Promise<[string, string] | null>;
  disconnect(): void;
  on?(event: "error", listener: () => void): unknown;
}

/** Options of {@link WakeWaiter}. */
export interface WakeWaiterOptions {
  /** Whether to block with BLPOP; `false` polls every `fallbackPollMs`. */
  blocking: boolean;
  /** Poll interval when the client cannot block (or `blocking` is false), in ms. */
  fallbackPollMs: number;
}

/**
 * Internal: lets a queue's reservers sleep until work may be there. Scripts that make
 * work (enqueue, fail, release, housekeeping) push a few tokens to the queue's wake list;
 * one BLPOP at a time on a dedicated duplicate connection, shared by every waiter of the
 * queue (a connection runs blocking commands one after another), wakes them all. Clients
 * that cannot block (ioredis-mock) fall back to short polling.
 */
export class WakeWaiter {
  readonly #client: WakeClient;
  readonly #wakeKey: string;
  readonly #fallbackPollMs: number;
  #canBlock: boolean;
  #connection: BlockingConnection | undefined;
  #round: Promise<void> | undefined;
  #waiters = new Set<(reason: WakeReason) => void>();
  #closed = false;

  constructor(client: WakeClient, wakeKey: string, options: WakeWaiterOptions) {
    this.#client = client;
    this.#wakeKey = wakeKey;
    this.#canBlock = options.blocking;
    this.#fallbackPollMs = options.fallbackPollMs;
  }

  /** Waits until work may be available: a wake-up from Redis, `maxMs`, or the signal. */
  wait(maxMs: number, signal?: AbortSignal): Promise<WakeReason> {
    return new Promise<WakeReason>((resolve) => {
      const done = (reason: WakeReason) => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener("abort", onAbort);
        resolve(reason);
      };
      const onAbort = () => done("wake");
      const timer = setTimeout(
        () => done("timeout"),
        this.#canBlock ? maxMs : Math.min(maxMs, this.#fallbackPollMs),
      );
      this.#waiters.add(done);
      signal?.addEventListener("abort", onAbort, { once: true });
      if (this.#canBlock) this.#startRound(maxMs);
    });
  }

  /** Wakes every waiter and disconnects the blocking connection, if one was opened. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wakeAll("wake");
    const connection = this.#connection;
    this.#connection = undefined;
    // disconnect(), not quit(): QUIT would queue behind a pending BLPOP.
    connection?.disconnect();
  }

  #startRound(maxMs: number): void {
    if (this.#round || this.#closed) return;
    const connection = this.#blockingConnection();
    if (!connection) return;
    // BLPOP takes seconds with decimals; 0 would mean forever.
    const timeoutSeconds = Math.max(0.01, Math.ceil(maxMs) / 1000);
    this.#round = (async () => {
      let reason: WakeReason = "wake";
      try {
        const got = await connection.blpop(this.#wakeKey, timeoutSeconds);
        if (got === null) reason = "quiet";
        else if (this.#waiters.size === 0 && !this.#closed) {
          // Nobody here wants it any more (their waits ended): pass it on to other workers.
          await this.#client.lpush(this.#wakeKey, "1").catch(() => {});
        }
      } catch (error) {
        if (!this.#closed && isUnsupported(error)) {
          this.#canBlock = false;
        } else if (!this.#closed) {
          // Redis is away: do not spin; the next reserve reports the error.
          await new Promise((r) => setTimeout(r, Math.min(maxMs, 100)));
        }
      } finally {
        this.#round = undefined;
      }
      this.#wakeAll(reason);
    })();
  }

  #blockingConnection(): BlockingConnection | undefined {
    if (!this.#connection) {
      try {
        const c = this.#client as unknown as { duplicate?: () => BlockingConnection };
        if (typeof c.duplicate !== "function") {
          this.#canBlock = false;
          return undefined;
        }
        this.#connection = c.duplicate();
        // A dropped blocking connection reconnects by itself; its errors surface as a
        // failed BLPOP (handled above), not as an unhandled 'error' event.
        this.#connection.on?.("error", () => {});
      } catch {
        this.#canBlock = false;
        return undefined;
      }
    }
    return this.#connection;
  }

  #wakeAll(reason: WakeReason): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake(reason);
  }
}

function isUnsupported(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /unsupported command|unknown command|not supported/i.test(message);
}
