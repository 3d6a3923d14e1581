// Types of fixtures.js: the Redis fixtures for vitest test files.

/** What the fixture needs of a client it opened: ioredis 5 or 6, `Redis` or `Cluster`. */
export interface ClosableClient {
  quit(): Promise<unknown>;
  disconnect(): void;
}

interface Fixture<C> {
  /**
   * The fixture's own client, opened in beforeAll (a Cluster client connected, so
   * `nodes("master")` is filled) and closed in afterAll.
   */
  readonly client: C;
  /** A new client, closed in afterAll. `options` are the client class's options. */
  connect(options?: object): C;
  /**
   * A unique key prefix (`uniquePrefix(name)`): every key that contains it (hash-tagged
   * `{prefix}:...` keys on a cluster too) is deleted in afterAll. Never FLUSHDB: the
   * server may be shared.
   */
  prefix(name?: string): string;
  /** Deletes the keys of every prefix handed out so far, now (e.g. after each test). */
  deletePrefixes(): Promise<void>;
}

/**
 * The shared Redis of a test file or describe block: `REDIS_URL` when set, else a
 * redis-server started in beforeAll and stopped in afterAll (after its clients are
 * closed and its prefixes' keys deleted). Read its members inside hooks and tests, not
 * at collection time.
 *
 * ```ts
 * const redis = redisFixture(Redis); // ioredis 5 here; pass ioredis 6's Redis for that lane
 * it("...", async () => {
 *   const queue = new RedisJobQueue(redis.client, { prefix: redis.prefix("x") });
 * });
 * ```
 *
 * Without a client class it only provides `url` (for tests that start processes).
 */
export function redisFixture(): RedisFixture<never>;
export function redisFixture<C extends ClosableClient>(
  Client: new (url: string, options?: never) => C,
  /** Options of the fixture's own `client`. */
  clientOptions?: object,
): RedisFixture<C>;

export interface RedisFixture<C> extends Fixture<C> {
  /** `redis://127.0.0.1:PORT`, or `REDIS_URL`. */
  readonly url: string;
}

/**
 * The shared Redis Cluster of a test file or describe block: `REDIS_CLUSTER_NODES` when
 * set, else three masters started in beforeAll and stopped in afterAll.
 */
export function clusterFixture(): ClusterFixture<never>;
export function clusterFixture<C extends ClosableClient>(
  Cluster: new (nodes: { host: string; port: number }[], options?: never) => C,
  /** Options of the fixture's own `client`. */
  clientOptions?: object,
): ClusterFixture<C>;

export interface ClusterFixture<C> extends Fixture<C> {
  readonly nodes: { host: string; port: number }[];
}

/** The error `call` throws or rejects with; fails the test when it does not throw. */
export function thrown(call: () => unknown): Promise<unknown>;

/**
 * Asserts that `call` refuses an unknown option the project's way: an error of
 * `errorClass` whose message names the unknown key, suggests `meant` and lists `known`,
 * with `field` (a string, or a RegExp) when the error class carries one.
 */
export function expectUnknownOptionRefused(
  call: () => unknown,
  expected: {
    errorClass: abstract new (...args: never[]) => Error;
    field?: string | RegExp;
    meant: string;
    known: string;
  },
): Promise<Error>;
