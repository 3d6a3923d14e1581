import { MinHeap } from "./heap.js";

/** A double-ended queue on a ring buffer: O(1) at both ends, O(1) indexing. Internal. */
export class Deque<T> {
  #items: (T | undefined)[] = new Array(8);
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  at(i: number): T {
    return this.#items[(this.#head + i) & (this.#items.length - 1)]!;
  }

  pushBack(value: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) & (this.#items.length - 1)] = value;
    this.#length++;
  }

  pushFront(value: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#head = (this.#head - 1) & (this.#items.length - 1);
    this.#items[this.#head] = value;
    this.#length++;
  }

  peekFront(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  popFront(): T | undefined {
    if (this.#length === 0) return undefined;
    const value = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#length--;
    return value;
  }

  #grow(): void {
    const next: (T | undefined)[] = new Array(this.#items.length * 2);
    for (let i = 0; i < this.#length; i++) next[i] = this.at(i);
    this.#items = next;
    this.#head = 0;
  }
}

/** One place in the ready order: the job, and its rank within its priority. */
export interface ReadyEntry {
  id: string;
  priority: number;
  /** Smaller runs first within a priority: the back gets growing ranks, the front shrinking ones. */
  rank: number;
}

/**
 * The ready jobs of a queue in run order (docs/contract.md, "Priorities"): higher
 * priority first, first in first out within one priority, `pushFront` for `release`.
 * A map from priority to a FIFO deque, and a max-heap of the priorities in use, so each
 * push and pop costs O(log p) in the number of distinct priorities. Entries are removed
 * lazily: `isLive` tells whether an entry still stands for a ready job, and a job that
 * leaves ready other than by `pop` is reported with `discard` (it keeps the counts).
 * Internal.
 */
export class PriorityReady {
  #byPriority = new Map<number, { entries: Deque<ReadyEntry>; live: number }>();
  /** Priorities in use, negated (the heap is a min-heap). May hold stale ones. */
  #priorities = new MinHeap<number>();
  #inHeap = new Set<number>();
  #backRank = 0;
  #frontRank = 0;
  #size = 0;

  constructor(readonly isLive: (entry: ReadyEntry) => boolean) {}

  /** Ready jobs (live entries). */
  get size(): number {
    return this.#size;
  }

  /** Adds a job behind every job of its priority; returns its entry. */
  pushBack(id: string, priority: number): ReadyEntry {
    const entry = { id, priority, rank: ++this.#backRank };
    this.#bucket(priority).entries.pushBack(entry);
    return entry;
  }

  /** Adds a job in front of every job of its priority (`release`); returns its entry. */
  pushFront(id: string, priority: number): ReadyEntry {
    const entry = { id, priority, rank: --this.#frontRank };
    this.#bucket(priority).entries.pushFront(entry);
    return entry;
  }

  /** Takes the job that runs next, or `undefined` when none is ready. */
  pop(): ReadyEntry | undefined {
    for (;;) {
      const priority = this.#priorities.peek();
      if (priority === undefined) return undefined;
      const bucket = this.#byPriority.get(-priority);
      if (!bucket || bucket.live === 0) {
        this.#priorities.pop();
        this.#inHeap.delete(-priority);
        this.#byPriority.delete(-priority);
        continue;
      }
      const entry = bucket.entries.popFront()!;
      if (!this.isLive(entry)) continue;
      this.#forget(bucket, entry.priority);
      return entry;
    }
  }

  /** A ready job left ready other than by {@link pop} (its entry is stale now). */
  discard(priority: number): void {
    const bucket = this.#byPriority.get(priority);
    if (bucket) this.#forget(bucket, priority);
  }

  /**
   * The live entries in run order, starting after the place `(priority, rank)` (or
   * from the start). Costs O(p log p + log n) to find the start.
   */
  *from(after: { priority: number; rank: number } | null): Generator<ReadyEntry> {
    const priorities = [...this.#byPriority.keys()]
      .filter((p) => after === null || p <= after.priority)
      .sort((a, b) => b - a);
    for (const priority of priorities) {
      const bucket = this.#byPriority.get(priority);
      if (!bucket || bucket.live === 0) continue;
      const entries = bucket.entries;
      let i = 0;
      if (after !== null && priority === after.priority) {
        // First entry with a rank above the cursor's (ranks grow along the deque).
        let lo = 0;
        let hi = entries.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (entries.at(mid).rank <= after.rank) lo = mid + 1;
          else hi = mid;
        }
        i = lo;
      }
      for (; i < entries.length; i++) {
        const entry = entries.at(i);
        if (this.isLive(entry)) yield entry;
      }
    }
  }

  #bucket(priority: number): { entries: Deque<ReadyEntry>; live: number } {
    let bucket = this.#byPriority.get(priority);
    if (!bucket) {
      bucket = { entries: new Deque(), live: 0 };
      this.#byPriority.set(priority, bucket);
    }
    if (!this.#inHeap.has(priority)) {
      this.#inHeap.add(priority);
      this.#priorities.push(-priority, -priority);
    }
    bucket.live++;
    this.#size++;
    return bucket;
  }

  #forget(bucket: { live: number }, priority: number): void {
    bucket.live--;
    this.#size--;
    // Every entry left is stale: drop them all at once; the heap entry goes on the next pop.
    if (bucket.live === 0) this.#byPriority.delete(priority);
  }
}
