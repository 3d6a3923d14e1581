import { type GroupLimits, type RateLimit, rateWindowGuardSeconds } from "./flow-control.js";
import { Deque, type PriorityReady } from "./priority-ready.js";

// The in-memory queue's flow-control bookkeeping (docs/contract.md, "Flow control"): the
// same rules, in the same order, as the Redis scripts, so both backends pass the same
// conformance cases. Internal.

/**
 * Starts in a sliding window: a start at `t` counts while `now - perMs < t`, so no span of
 * `perMs` ever holds more than `max` starts.
 */
export class StartWindow {
  #starts = new Deque<number>();

  /** Starts still in the window ending at `now`. */
  count(now: number, perMs: number): number {
    for (;;) {
      const oldest = this.#starts.peekFront();
      if (oldest === undefined || oldest > now - perMs) break;
      this.#starts.popFront();
    }
    return this.#starts.length;
  }

  /** When the oldest start leaves the window (epoch ms), or `undefined` when empty. */
  nextFree(perMs: number): number | undefined {
    const oldest = this.#starts.peekFront();
    return oldest === undefined ? undefined : oldest + perMs;
  }

  record(now: number): void {
    this.#starts.pushBack(now);
  }

  get empty(): boolean {
    return this.#starts.length === 0;
  }
}

/**
 * Orders strings by code point, which is the byte order of their UTF-8 (how Redis orders
 * group names), not by UTF-16 code unit as `<` does.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

/** One group's jobs and limits state. */
export interface GroupState {
  readonly name: string;
  readonly ready: PriorityReady;
  /** Its processing jobs: id -> visibility deadline (epoch ms). */
  readonly active: Map<string, number>;
  readonly window: StartWindow;
  /** Held back by a handler's `RateLimitError({ scope: "group" })` until then (epoch ms). */
  holdUntil: number;
}

/** Limits with the window in ms, as the checks use them. */
export interface ResolvedGroupLimits {
  concurrency: number;
  max: number;
  perMs: number;
}

/** The window in ms with its real-time guard ({@link rateWindowGuardSeconds}). */
function windowMs(perSeconds: number, realTime: boolean): number {
  return (perSeconds + rateWindowGuardSeconds(perSeconds, realTime)) * 1000;
}

export function resolveGroupLimits(
  limits: GroupLimits | null,
  realTime: boolean,
): ResolvedGroupLimits | null {
  if (limits === null) return null;
  return {
    concurrency: limits.concurrency ?? Number.POSITIVE_INFINITY,
    max: limits.max ?? Number.POSITIVE_INFINITY,
    perMs: limits.perSeconds === undefined ? 0 : windowMs(limits.perSeconds, realTime),
  };
}

export function resolveRateLimit(
  limit: RateLimit | null,
  realTime: boolean,
): { max: number; perMs: number } | null {
  return limit === null ? null : { max: limit.max, perMs: windowMs(limit.perSeconds, realTime) };
}

/**
 * The rotation of participants with ready jobs (docs/contract.md, "Groups"): each group,
 * and `UNGROUPED` for the jobs without one. A Map keeps insertion order, which is the
 * turn order: the front is served next and moves to the back.
 */
export const UNGROUPED = "";

export class Rotation {
  #order = new Map<string, true>();

  get size(): number {
    return this.#order.size;
  }

  has(name: string): boolean {
    return this.#order.has(name);
  }

  /** Joins at the back, unless already in. */
  join(name: string): void {
    if (!this.#order.has(name)) this.#order.set(name, true);
  }

  /** Moves to the back. */
  toBack(name: string): void {
    this.#order.delete(name);
    this.#order.set(name, true);
  }

  leave(name: string): void {
    this.#order.delete(name);
  }

  front(): string | undefined {
    for (const name of this.#order.keys()) return name;
    return undefined;
  }
}

/**
 * Groups waiting for a time (a hold, a rate window, a reservation deadline) before their
 * next turn: name -> epoch ms. They rejoin the rotation in (time, name) order.
 */
export class GroupWaits {
  #until = new Map<string, number>();

  has(name: string): boolean {
    return this.#until.has(name);
  }

  set(name: string, until: number): void {
    this.#until.set(name, until);
  }

  delete(name: string): boolean {
    return this.#until.delete(name);
  }

  /** Removes and returns the groups due at `now`, in (time, name) order. */
  takeDue(now: number): string[] {
    const due: [string, number][] = [];
    for (const [name, until] of this.#until) if (until <= now) due.push([name, until]);
    due.sort((a, b) => a[1] - b[1] || compareCodePoints(a[0], b[0]));
    for (const [name] of due) this.#until.delete(name);
    return due.map(([name]) => name);
  }

  /** The earliest time a group rejoins, or `undefined`. */
  next(): number | undefined {
    let best: number | undefined;
    for (const until of this.#until.values()) if (best === undefined || until < best) best = until;
    return best;
  }

  /** Every group waiting. */
  names(): string[] {
    return [...this.#until.keys()];
  }
}
