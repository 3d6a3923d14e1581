import { ConfigError } from "@svc-jobs/core";
import { describe, expect, it } from "vitest";
import { loadSqlModules } from "../src/load-sql.js";

function notFound(name: string): Error {
  return Object.assign(new Error(`Cannot find module '${name}'\nRequire stack:\n- /app/x.js`), {
    code: "MODULE_NOT_FOUND",
  });
}

/** A require() that knows only `modules`; `failures` throw what they map to. */
function fakeRequire(
  modules: Record<string, unknown>,
  failures: Record<string, Error> = {},
): NodeJS.Require {
  const req = ((id: string) => {
    if (failures[id]) throw failures[id];
    if (id in modules) return modules[id];
    throw notFound(id);
  }) as NodeJS.Require;
  req.resolve = ((id: string) => {
    if (id in modules) return id;
    throw notFound(id);
  }) as NodeJS.RequireResolve;
  return req;
}

function caught(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("loadSqlModules", () => {
  it("names every missing package of the sqlite driver and the npm install line", () => {
    const error = caught(() => loadSqlModules("sqlite", fakeRequire({})));
    expect(error.code).toBe("ERR_SQL_DRIVER_MISSING");
    expect(error.message).toContain(
      'the sqlite driver needs better-sqlite3 and kysely, which are not installed: install better-sqlite3 and kysely to use JOBS_DRIVER=sqlite ("npm install better-sqlite3 kysely"',
    );
    expect(error.message).toContain("or set JOBS_DRIVER=memory");
  });

  it("names pg alone for the postgres driver when kysely is there", () => {
    const error = caught(() => loadSqlModules("postgres", fakeRequire({ kysely: {} })));
    expect(error.message).toContain('install pg to use JOBS_DRIVER=postgres ("npm install pg"');
  });

  it("loads the driver client, kysely and @svc-jobs/sql; unwraps better-sqlite3's default", () => {
    class Database {}
    const sql = { SqlJobQueue: class {} };
    const kysely = { Kysely: class {} };
    const loaded = loadSqlModules(
      "sqlite",
      fakeRequire({ "better-sqlite3": { default: Database }, kysely, "@svc-jobs/sql": sql }),
    );
    expect(loaded.client).toBe(Database);
    expect(loaded.kysely).toBe(kysely);
    expect(loaded.sql).toBe(sql);
  });

  it("a Node.js without require() of ES modules is told to upgrade", () => {
    const esm = Object.assign(new Error("require() of ES Module"), { code: "ERR_REQUIRE_ESM" });
    const error = caught(() =>
      loadSqlModules("postgres", fakeRequire({ pg: {}, kysely: {} }, { "@svc-jobs/sql": esm })),
    );
    expect(error.code).toBe("ERR_SQL_DRIVER_NODE");
    expect(error.message).toContain("needs Node.js 20.19 or later");
  });

  it("a package that is installed but does not load is reported as broken, not missing", () => {
    const inner = notFound("bindings");
    const error = caught(() =>
      loadSqlModules("sqlite", fakeRequire({ kysely: {} }, { "better-sqlite3": inner })),
    );
    expect(error).toMatchObject({ code: "ERR_SQL_DRIVER_BROKEN", cause: inner });
    expect(error.message).toContain("better-sqlite3 is installed but failed to load");
  });
});
