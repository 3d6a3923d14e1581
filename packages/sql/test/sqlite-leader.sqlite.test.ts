import { JobValidationError, ManualClock } from "@svc-jobs/core";
import { SqliteLeader } from "@svc-jobs/sql";
import { afterEach, beforeEach, expect, it } from "vitest";
import { createSqliteDatabase, type TestDatabase, uniqueQueue } from "./helpers/databases.js";

// docs/sql-backend.md, "Leaders for the scheduler": the lease row on a SQLite file.

let t: TestDatabase;
beforeEach(async () => {
  t = await createSqliteDatabase();
});
afterEach(async () => {
  await t.destroy();
});

it("of two leaders on one file one leads; release hands over at once; a lapsed lease is taken", async () => {
  const clock = new ManualClock(1_700_000_000_000);
  const name = uniqueQueue("lead");
  const a = new SqliteLeader(t.db, { name, leaseSeconds: 3, clock });
  const b = new SqliteLeader(t.db, { name, leaseSeconds: 3, clock });
  expect(await a.acquire()).toBe(true);
  expect(await b.acquire()).toBe(false);
  expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
  // Renewing keeps it; another name is another election.
  clock.advance(2000);
  expect(await a.acquire()).toBe(true);
  expect(await new SqliteLeader(t.db, { name: `${name}-other`, clock }).acquire()).toBe(true);
  await a.release();
  expect(a.isLeader()).toBe(false);
  expect(await b.acquire()).toBe(true);
  // b stops renewing (a crash): its lease lapses by the clock and a takes over.
  clock.advance(3000);
  expect(b.isLeader()).toBe(false);
  expect(await a.acquire()).toBe(true);
  expect(await b.acquire()).toBe(false);
});

it("refuses unknown options and a bad name or lease, naming the field", () => {
  expect(() => new SqliteLeader(t.db, { lease: 3 } as never)).toThrow(/leaseSeconds/);
  expect(() => new SqliteLeader(t.db, { lease: 3 } as never)).toThrow(JobValidationError);
  expect(() => new SqliteLeader(t.db, { name: "" })).toThrow(/non-empty string/);
  expect(() => new SqliteLeader(t.db, { leaseSeconds: 0 })).toThrow(JobValidationError);
});
