import { testJobQueue, testJobQueueModel } from "@svc-jobs/core/testing";
import { SqlJobQueue } from "@svc-jobs/sql";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { type Db, type TestDatabase, uniqueQueue } from "./databases.js";

/**
 * Runs the conformance suite on one database kind (a fresh database per test file). With
 * `notify`, every queue LISTENs through a pool of its own (PostgreSQL).
 */
export function conformance(
  label: string,
  create: () => Promise<TestDatabase>,
  opts: { notify?: boolean } = {},
): void {
  let t: TestDatabase;
  let second: Db;
  let pool: pg.Pool | undefined;
  beforeAll(async () => {
    t = await create();
    second = t.connectAgain();
    if (opts.notify) pool = new pg.Pool({ connectionString: t.url, max: 20 });
  });
  afterAll(async () => {
    await pool?.end();
    await t?.destroy();
  });
  const notify = () => (pool === undefined ? {} : { notify: pool, pollIntervalSeconds: 5 });
  testJobQueue({
    name: `SqlJobQueue (${label})`,
    create: ({ clock, visibilityTimeoutSeconds, options, sameStorageAs }) => {
      // A second queue object on the same storage: the same queue name, another connection.
      if (sameStorageAs instanceof SqlJobQueue) {
        return new SqlJobQueue(second, {
          ...notify(),
          dialect: t.dialect,
          queue: sameStorageAs.name,
          clock,
          visibilityTimeoutSeconds,
          ...options,
        });
      }
      return new SqlJobQueue(t.db, {
        ...notify(),
        dialect: t.dialect,
        queue: uniqueQueue("conf"),
        clock,
        visibilityTimeoutSeconds,
        ...options,
      });
    },
  });
}

/** Runs the model-based test on one database kind. */
export function model(label: string, create: () => Promise<TestDatabase>, numRuns: number): void {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await create();
  });
  afterAll(async () => t?.destroy());
  testJobQueueModel({
    name: `SqlJobQueue (${label})`,
    numRuns,
    create: ({ clock, visibilityTimeoutSeconds, options }) =>
      new SqlJobQueue(t.db, {
        dialect: t.dialect,
        queue: uniqueQueue("model"),
        clock,
        visibilityTimeoutSeconds,
        ...options,
      }),
  });
}
