import { describe, it } from "vitest";
import { seedFromEnv } from "./helpers/chaos-driver.js";
import { expectSqlChaos } from "./helpers/chaos-expect.js";
import { formatSqlFigures, runSqlChaos } from "./helpers/chaos-sql.js";

describe("chaos on a SQLite file: SqlJobQueue worker processes SIGKILLed", () => {
  it("SIGKILL every 1-2 s: nothing lost or stuck, effects once", async () => {
    const f = await runSqlChaos({ dialect: "sqlite", jobs: 5000, ...seedFromEnv() });
    console.log(formatSqlFigures(f));
    expectSqlChaos(f);
  });
});
