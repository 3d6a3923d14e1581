// One Redis fixture for the test files: call it at the top of a file or inside a
// describe; it registers its own beforeAll/afterAll there. Vitest-only, so kept out of
// index.js (the root test script imports that before anything is installed for tests).
import { afterAll, beforeAll, expect } from "vitest";
import { uniquePrefix, useRedis, useRedisCluster } from "./index.js";

/** SCAN MATCH pattern for every key that contains `prefix` (`{prefix}:x` on a cluster too). */
function keysOf(prefix) {
  return `*${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
}

async function deleteKeysOn(node, prefix) {
  let cursor = "0";
  do {
    const [next, keys] = await node.scan(cursor, "MATCH", keysOf(prefix), "COUNT", 1000);
    cursor = next;
    // One key at a time: on a cluster the keys of one SCAN page may span slots.
    for (const key of keys) await node.unlink(key);
  } while (cursor !== "0");
}

async function close(client) {
  await client.quit().catch(() => {});
  client.disconnect();
}

function fixture(what, start, open, hasClient, ownOptions) {
  let server;
  let own;
  const clients = [];
  const prefixes = [];
  const started = () => {
    if (!server) throw new Error(`the ${what} fixture is used before its beforeAll ran`);
    return server;
  };
  const connect = (options) => {
    started();
    const client = open(server, options);
    clients.push(client);
    return client;
  };
  const deletePrefixes = async () => {
    if (prefixes.length === 0) return;
    const nodes = own.isCluster ? own.nodes("master") : [own];
    for (const prefix of prefixes.splice(0)) {
      for (const node of nodes) await deleteKeysOn(node, prefix);
    }
  };

  beforeAll(async () => {
    server = await start();
    if (!hasClient) return;
    own = connect(ownOptions);
    // A Cluster client knows its masters (`nodes("master")`) only once connected.
    if (own.isCluster) await own.ping();
  });
  afterAll(async () => {
    try {
      if (own) await deletePrefixes();
    } finally {
      await Promise.all(clients.splice(0).map(close));
      own = undefined;
      await server?.stop();
      server = undefined;
    }
  });

  return {
    started,
    connect,
    get client() {
      started();
      if (!own) throw new Error(`${what}Fixture() was given no client class`);
      return own;
    },
    prefix(name) {
      const prefix = uniquePrefix(name);
      prefixes.push(prefix);
      return prefix;
    },
    deletePrefixes,
  };
}

export function redisFixture(Client, clientOptions) {
  const f = fixture(
    "redis",
    useRedis,
    (server, options) => {
      if (!Client) throw new Error("redisFixture() was given no client class");
      return options === undefined ? new Client(server.url) : new Client(server.url, options);
    },
    Boolean(Client),
    clientOptions,
  );
  return {
    get url() {
      return f.started().url;
    },
    get client() {
      return f.client;
    },
    connect: f.connect,
    prefix: f.prefix,
    deletePrefixes: f.deletePrefixes,
  };
}

export function clusterFixture(Cluster, clientOptions) {
  const f = fixture(
    "cluster",
    useRedisCluster,
    (server, options) => {
      if (!Cluster) throw new Error("clusterFixture() was given no client class");
      return options === undefined ? new Cluster(server.nodes) : new Cluster(server.nodes, options);
    },
    Boolean(Cluster),
    clientOptions,
  );
  return {
    get nodes() {
      return f.started().nodes;
    },
    get client() {
      return f.client;
    },
    connect: f.connect,
    prefix: f.prefix,
    deletePrefixes: f.deletePrefixes,
  };
}

/** The error `call` throws or rejects with; fails the test when it does not throw. */
export async function thrown(call) {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to throw");
}

/**
 * Asserts that `call` refuses an unknown option the project's way: an error of
 * `errorClass` whose message names the unknown key, suggests `meant` and lists `known`,
 * with `field` (a string, or a RegExp) when the error class carries one.
 */
export async function expectUnknownOptionRefused(call, { errorClass, field, meant, known }) {
  const error = await thrown(call);
  expect(error).toBeInstanceOf(errorClass);
  const { message } = error;
  expect(message).toMatch(/has an unknown [^"]*"/);
  expect(message).toContain(meant);
  expect(message).toContain(known);
  if (typeof field === "string") {
    expect(error.field).toBe(field);
    expect(message).toContain(JSON.stringify(field.split(".").at(-1)));
  } else if (field instanceof RegExp && "field" in error) {
    expect(error.field).toMatch(field);
  }
  return error;
}
