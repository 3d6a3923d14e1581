import * as lua from "./lua/scripts.generated.js";

/**
 * What both `RedisJobQueue` and `RedisLeader` need from a client to run their Lua:
 * ioredis `defineCommand`. Typed by shape rather than by ioredis' classes, so clients of
 * ioredis 5 and 6 (`Redis` and `Cluster`) and ioredis-mock all fit.
 */
export interface DefinesCommands {
  defineCommand(name: string, definition: { lua: string; numberOfKeys: number }): void;
}

/**
 * Internal: the client methods `defineQueueCommands` adds (ioredis `defineCommand`), KEYS
 * first, then ARGV, as each script's header in src/lua/ lists them. `QueueScripts` is
 * the typed way to call them.
 */
export interface QueueCommands {
  svcJobsEnqueue(...args: string[]): Promise<(string | string[])[]>;
  svcJobsReserve(...args: string[]): Promise<[string, ...string[][]]>;
  svcJobsAck(...args: string[]): Promise<number>;
  svcJobsFail(...args: string[]): Promise<number>;
  svcJobsRelease(...args: string[]): Promise<number>;
  svcJobsExtendVisibility(...args: string[]): Promise<number>;
  svcJobsStats(...args: string[]): Promise<number[]>;
  svcJobsHousekeep(...args: string[]): Promise<number[]>;
  svcJobsDlqList(...args: string[]): Promise<[number, ...string[][]]>;
  svcJobsDlqRequeue(...args: string[]): Promise<number>;
  svcJobsDlqPurge(...args: string[]): Promise<number>;
  svcJobsUpgrade(...args: string[]): Promise<number>;
  svcJobsInspect(...args: string[]): Promise<unknown[]>;
  svcJobsCancel(...args: string[]): Promise<number>;
  svcJobsProgress(...args: string[]): Promise<number>;
  svcJobsCheckReservations(...args: string[]): Promise<string[]>;
  svcJobsPause(...args: string[]): Promise<number>;
  svcJobsPromote(...args: string[]): Promise<number>;
  svcJobsLimits(...args: string[]): Promise<unknown>;
}

/** Internal: the client methods `defineLeaderCommands` adds. */
export interface LeaderCommands {
  svcJobsLeaderAcquire(key: string, ownerId: string, leaseMs: string): Promise<number>;
  svcJobsLeaderRelease(key: string, ownerId: string): Promise<number>;
}

type ScriptSet<T> = Readonly<Record<keyof T, lua.LuaScript>>;

// Command name -> script. The scripts' text is compiled into the module (generated from
// src/lua/), so nothing is read from disk and bundlers carry the scripts along.
const QUEUE_SCRIPTS: ScriptSet<QueueCommands> = {
  svcJobsEnqueue: lua.enqueue,
  svcJobsReserve: lua.reserve,
  svcJobsAck: lua.ack,
  svcJobsFail: lua.fail,
  svcJobsRelease: lua.release,
  svcJobsExtendVisibility: lua.extendVisibility,
  svcJobsStats: lua.stats,
  svcJobsHousekeep: lua.housekeep,
  svcJobsDlqList: lua.dlqList,
  svcJobsDlqRequeue: lua.dlqRequeue,
  svcJobsDlqPurge: lua.dlqPurge,
  svcJobsUpgrade: lua.upgrade,
  svcJobsInspect: lua.inspect,
  svcJobsCancel: lua.cancel,
  svcJobsProgress: lua.progress,
  svcJobsCheckReservations: lua.checkReservations,
  svcJobsPause: lua.pause,
  svcJobsPromote: lua.promote,
  svcJobsLimits: lua.limits,
};

const LEADER_SCRIPTS: ScriptSet<LeaderCommands> = {
  svcJobsLeaderAcquire: lua.leaderAcquire,
  svcJobsLeaderRelease: lua.leaderRelease,
};

/** Client -> the script sets already defined on it. */
const defined = new WeakMap<object, Set<object>>();

/**
 * Registers a set of scripts on a client, once per client. ioredis then sends EVALSHA
 * and falls back to EVAL when the server does not know a script yet (first use, or
 * after SCRIPT FLUSH or a restart).
 */
function defineScripts<T>(client: DefinesCommands, scripts: ScriptSet<T>): void {
  let sets = defined.get(client);
  if (!sets) {
    sets = new Set();
    defined.set(client, sets);
  }
  if (sets.has(scripts)) return;
  for (const [name, { lua, numberOfKeys }] of Object.entries<lua.LuaScript>(scripts)) {
    client.defineCommand(name, { lua, numberOfKeys });
  }
  sets.add(scripts);
}

/** Internal: registers the queue's scripts on a client (once per client). */
export function defineQueueCommands<C extends DefinesCommands>(client: C): C & QueueCommands {
  defineScripts(client, QUEUE_SCRIPTS);
  return client as C & QueueCommands;
}

/** Internal: registers `RedisLeader`'s scripts on a client (once per client). */
export function defineLeaderCommands<C extends DefinesCommands>(client: C): C & LeaderCommands {
  defineScripts(client, LEADER_SCRIPTS);
  return client as C & LeaderCommands;
}
