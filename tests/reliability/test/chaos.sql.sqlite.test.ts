import { describe, expect, it } from "vitest";
import { formatSqlFigures, runSqlChaos } from "./helpers/chaos-sql.js";

const seedFromEnv = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : undefined;

describe("chaos on a SQLite file: SqlJobQueue worker processes SIGKILLed", () => {
  it("SIGKILL every 1-2 s: nothing lost or stuck, effects once", async () => {
    const f = await runSqlChaos({
      dialect: "sqlite",
      jobs: 2500,
      ...(seedFromEnv ? { seed: seedFromEnv } : {}),
    });
    console.log(formatSqlFigures(f));
    expect(f.kills, "kills").toBeGreaterThanOrEqual(3);
    // The killed workers' reservations came back after the visibility timeout.
    expect(f.expiredReservations, "expiredReservations").toBeGreaterThanOrEqual(1);
    expect(f.unknownIds, "unknownIds").toBe(0);
    expect(f.lost, "lost").toBe(0);
    expect(f.stuck, "stuck").toBe(0);
    expect(f.leftoverRows, "leftoverRows").toBe(0);
    expect(f.dlqWithoutError, "dlqWithoutError").toBe(0);
    expect(f.succeeded + f.dlq - f.dlqAfterSuccess, "succeeded + dead").toBe(f.jobs);
    expect(f.duplicates, "duplicates").toBeLessThanOrEqual(f.duplicateBound);
    expect(f.duplicateEffects, "duplicateEffects").toBe(0);
    expect(f.ledgerWithoutEffect, "ledgerWithoutEffect").toBe(0);
  });
});
