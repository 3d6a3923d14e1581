import { expect } from "vitest";
import type { ChaosCommonFigures } from "./chaos-driver.js";
import type { SqlChaosFigures } from "./chaos-sql.js";

/** What every chaos run promises: workers were killed, and every job ran or is dead with its error. */
export function expectEveryJobAccountedFor(f: ChaosCommonFigures): void {
  expect(f.kills, "kills").toBeGreaterThanOrEqual(3);
  expect(f.unknownIds, "unknownIds").toBe(0);
  expect(f.lost, "lost").toBe(0);
  expect(f.stuck, "stuck").toBe(0);
  expect(f.dlqWithoutError, "dlqWithoutError").toBe(0);
  expect(f.succeeded + f.dlq - f.dlqAfterSuccess, "succeeded + dead").toBe(f.jobs);
}

/** At-least-once runs, exactly-once effects: the inbox absorbed every duplicate. */
export function expectEffectsOnce(f: ChaosCommonFigures): void {
  expect(f.duplicateEffects, "duplicateEffects").toBe(0);
  expect(f.ledgerWithoutEffect, "ledgerWithoutEffect").toBe(0);
}

/** What a SQL chaos run promises (on PostgreSQL also: the restart and the dropped connections happened). */
export function expectSqlChaos(f: SqlChaosFigures): void {
  expectEveryJobAccountedFor(f);
  if (f.dialect === "postgres") {
    expect(f.databaseRestarts, "databaseRestarts").toBe(1);
    expect(f.connectionDrops, "connectionDrops").toBe(1);
    expect(f.connectionsKilled, "connectionsKilled").toBeGreaterThanOrEqual(1);
  }
  // The killed workers' reservations came back after the visibility timeout.
  expect(f.expiredReservations, "expiredReservations").toBeGreaterThanOrEqual(1);
  expect(f.leftoverRows, "leftoverRows").toBe(0);
  expect(f.duplicates, "duplicates").toBeLessThanOrEqual(f.duplicateBound);
  // The inbox table is in the same database as the queue.
  expectEffectsOnce(f);
  if (f.dialect === "postgres") expect(f.effects, "effects").toBeGreaterThanOrEqual(f.succeeded);
}
