import { describe, expect, it } from "vitest";
import { formatFigures, runChaos } from "./helpers/chaos.js";

type Figures = Awaited<ReturnType<typeof runChaos>>;

/** What both runs promise: the faults happened, and every job ran or is dead with its error. */
function expectEveryJobAccountedFor(f: Figures): void {
  expect(f.kills, "kills").toBeGreaterThanOrEqual(3);
  expect(f.redisRestarts, "redisRestarts").toBe(1);
  expect(f.connectionDrops, "connectionDrops").toBe(1);
  expect(f.unknownIds, "unknownIds").toBe(0);
  expect(f.lost, "lost").toBe(0);
  expect(f.stuck, "stuck").toBe(0);
  expect(f.orphanHashes, "orphanHashes").toBe(0);
  expect(f.dlqWithoutError, "dlqWithoutError").toBe(0);
  expect(f.succeeded + f.dlq - f.dlqAfterSuccess, "succeeded + dead").toBe(f.jobs);
}

const seedFromEnv = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : undefined;

describe("chaos: 5,000 jobs, real svc-jobs run workers, crashes of workers and Redis", () => {
  it("SIGKILL every 1-2 s: nothing lost or stuck, duplicates within kills x concurrency", async () => {
    const f = await runChaos({ signal: "SIGKILL", ...(seedFromEnv ? { seed: seedFromEnv } : {}) });
    console.log(formatFigures(f));
    expectEveryJobAccountedFor(f);
    expect(f.connectionsKilled, "connectionsKilled").toBeGreaterThanOrEqual(1);
    expect(f.duplicates, "duplicates").toBeLessThanOrEqual(f.duplicateBound);
    // At-least-once runs, exactly-once effects: the inbox absorbed every duplicate.
    expect(f.duplicateEffects, "duplicateEffects").toBe(0);
    expect(f.ledgerWithoutEffect, "ledgerWithoutEffect").toBe(0);
    expect(f.effects, "effects").toBeGreaterThanOrEqual(f.succeeded);
  });

  it("SIGTERM every 1-2 s: nothing lost or stuck and zero duplicates", async () => {
    const f = await runChaos({ signal: "SIGTERM", ...(seedFromEnv ? { seed: seedFromEnv } : {}) });
    console.log(formatFigures(f));
    expectEveryJobAccountedFor(f);
    expect(f.badExits, "badExits").toBe(0);
    expect(f.duplicates, "duplicates").toBe(0);
    expect(f.duplicateEffects, "duplicateEffects").toBe(0);
    expect(f.ledgerWithoutEffect, "ledgerWithoutEffect").toBe(0);
  });
});
