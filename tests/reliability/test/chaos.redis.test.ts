import { describe, expect, it } from "vitest";
import { type ChaosFigures, formatFigures, runChaos } from "./helpers/chaos.js";
import { seedFromEnv } from "./helpers/chaos-driver.js";
import { expectEffectsOnce, expectEveryJobAccountedFor } from "./helpers/chaos-expect.js";

/** What both runs promise: the faults happened, and every job ran or is dead with its error. */
function expectRedisRun(f: ChaosFigures): void {
  expectEveryJobAccountedFor(f);
  expect(f.redisRestarts, "redisRestarts").toBe(1);
  expect(f.connectionDrops, "connectionDrops").toBe(1);
  expect(f.orphanHashes, "orphanHashes").toBe(0);
}

describe("chaos: 5,000 jobs, real svc-jobs run workers, crashes of workers and Redis", () => {
  it("SIGKILL every 1-2 s: nothing lost or stuck, duplicates within kills x concurrency", async () => {
    const f = await runChaos({ signal: "SIGKILL", ...seedFromEnv() });
    console.log(formatFigures(f));
    expectRedisRun(f);
    expect(f.connectionsKilled, "connectionsKilled").toBeGreaterThanOrEqual(1);
    expect(f.duplicates, "duplicates").toBeLessThanOrEqual(f.duplicateBound);
    // At-least-once runs, exactly-once effects: the inbox absorbed every duplicate.
    expectEffectsOnce(f);
    expect(f.effects, "effects").toBeGreaterThanOrEqual(f.succeeded);
  });

  it("SIGTERM every 1-2 s: nothing lost or stuck and zero duplicates", async () => {
    const f = await runChaos({ signal: "SIGTERM", ...seedFromEnv() });
    console.log(formatFigures(f));
    expectRedisRun(f);
    expect(f.badExits, "badExits").toBe(0);
    expect(f.duplicates, "duplicates").toBe(0);
    expectEffectsOnce(f);
  });
});
