import { describe, expect, it } from "vitest";
import { formatSqlFigures, runSqlChaos } from "./helpers/chaos-sql.js";

const seedFromEnv = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : undefined;

describe("chaos on PostgreSQL: SqlJobQueue worker processes, crashes of workers and of the database", () => {
  it("SIGKILL every 1-2 s, a PostgreSQL restart, dropped connections: nothing lost or stuck, effects once", async () => {
    const f = await runSqlChaos({
      dialect: "postgres",
      ...(seedFromEnv ? { seed: seedFromEnv } : {}),
    });
    console.log(formatSqlFigures(f));
    expect(f.kills, "kills").toBeGreaterThanOrEqual(3);
    expect(f.databaseRestarts, "databaseRestarts").toBe(1);
    expect(f.connectionDrops, "connectionDrops").toBe(1);
    expect(f.connectionsKilled, "connectionsKilled").toBeGreaterThanOrEqual(1);
    // The killed workers' reservations came back after the visibility timeout.
    expect(f.expiredReservations, "expiredReservations").toBeGreaterThanOrEqual(1);
    expect(f.unknownIds, "unknownIds").toBe(0);
    expect(f.lost, "lost").toBe(0);
    expect(f.stuck, "stuck").toBe(0);
    expect(f.leftoverRows, "leftoverRows").toBe(0);
    expect(f.dlqWithoutError, "dlqWithoutError").toBe(0);
    expect(f.succeeded + f.dlq - f.dlqAfterSuccess, "succeeded + dead").toBe(f.jobs);
    expect(f.duplicates, "duplicates").toBeLessThanOrEqual(f.duplicateBound);
    // At-least-once runs, exactly-once effects: the inbox table absorbed every duplicate.
    expect(f.duplicateEffects, "duplicateEffects").toBe(0);
    expect(f.ledgerWithoutEffect, "ledgerWithoutEffect").toBe(0);
    expect(f.effects, "effects").toBeGreaterThanOrEqual(f.succeeded);
  });
});
