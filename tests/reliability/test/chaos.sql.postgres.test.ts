import { describe, it } from "vitest";
import { seedFromEnv } from "./helpers/chaos-driver.js";
import { expectSqlChaos } from "./helpers/chaos-expect.js";
import { formatSqlFigures, runSqlChaos } from "./helpers/chaos-sql.js";

describe("chaos on PostgreSQL: SqlJobQueue worker processes, crashes of workers and of the database", () => {
  it("SIGKILL every 1-2 s, a PostgreSQL restart, dropped connections: nothing lost or stuck, effects once", async () => {
    const f = await runSqlChaos({ dialect: "postgres", ...seedFromEnv() });
    console.log(formatSqlFigures(f));
    expectSqlChaos(f);
  });
});
