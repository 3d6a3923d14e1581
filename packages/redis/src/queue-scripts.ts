import { readFileSync } from "node:fs";

/** Internal: the client methods `defineQueueCommands` adds (ioredis `defineCommand`). */
export interface QueueCommands {
  svcJobsEnqueue(...args: string[]): Promise<(string | (string | null)[])[]>;
  svcJobsReserve(...args: string[]): Promise<[string, ...(string | null)[][]]>;
  svcJobsAck(...args: string[]): Promise<number>;
  svcJobsFail(...args: string[]): Promise<number>;
  svcJobsRelease(...args: string[]): Promise<number>;
  svcJobsExtendVisibility(...args: string[]): Promise<number>;
  svcJobsStats(...args: string[]): Promise<number[]>;
  svcJobsHousekeep(...args: string[]): Promise<number[]>;
  svcJobsDlqList(...args: string[]): Promise<[number, ...(string | null)[][]]>;
  svcJobsDlqRequeue(...args: string[]): Promise<number>;
  svcJobsDlqPurge(...args: string[]): Promise<number>;
}

/** What `defineCommand` needs from a client (ioredis `Redis`, `Cluster`, or ioredis-mock). */
export interface DefinesCommands {
  defineCommand(name: string, definition: { lua: string; numberOfKeys: number }): void;
}

// Command name -> file. The number of keys is part of the file name (BullMQ style).
const FILES: Record<keyof QueueCommands, string> = {
  svcJobsEnqueue: "enqueue-4.lua",
  svcJobsReserve: "reserve-6.lua",
  svcJobsAck: "ack-2.lua",
  svcJobsFail: "fail-6.lua",
  svcJobsRelease: "release-4.lua",
  svcJobsExtendVisibility: "extendVisibility-1.lua",
  svcJobsStats: "stats-5.lua",
  svcJobsHousekeep: "housekeep-6.lua",
  svcJobsDlqList: "dlqList-5.lua",
  svcJobsDlqRequeue: "dlqRequeue-3.lua",
  svcJobsDlqPurge: "dlqPurge-1.lua",
};

const INCLUDE = /^-- @include "([\w-]+)"$/m;

let loaded: { name: string; lua: string; numberOfKeys: number }[] | undefined;

function read(path: string): string {
  // Relative to this module, so it works from src/ (tests) and dist/ (the build copies lua/).
  return readFileSync(new URL(`./lua/${path}`, import.meta.url), "utf8");
}

function load(): NonNullable<typeof loaded> {
  if (loaded) return loaded;
  loaded = Object.entries(FILES).map(([name, file]) => {
    let lua = read(file);
    for (let match = INCLUDE.exec(lua); match; match = INCLUDE.exec(lua)) {
      lua = lua.replace(match[0], read(`includes/${match[1]}.lua`));
    }
    const numberOfKeys = Number(/-(\d+)\.lua$/.exec(file)?.[1]);
    return { name, lua, numberOfKeys };
  });
  return loaded;
}

const defined = new WeakSet<object>();

/**
 * Internal: registers the queue's Lua scripts on a client, once per client. ioredis then
 * sends EVALSHA and falls back to EVAL when the server does not know the script yet.
 */
export function defineQueueCommands<C extends DefinesCommands>(client: C): C & QueueCommands {
  if (!defined.has(client)) {
    for (const { name, lua, numberOfKeys } of load()) {
      client.defineCommand(name, { lua, numberOfKeys });
    }
    defined.add(client);
  }
  return client as C & QueueCommands;
}
