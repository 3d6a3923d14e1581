import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { ConfigError } from "@svc-jobs/core";
import { isPackageNotFound } from "@svc-jobs/core/backend";
import type * as SvcJobsSql from "@svc-jobs/sql";
import type * as KyselyModule from "kysely";

/** The better-sqlite3 handle the sqlite driver uses. Internal. */
export interface SqliteHandle {
  readonly open: boolean;
  pragma(source: string): unknown;
  prepare(source: string): unknown;
  close(): unknown;
}

/** The better-sqlite3 module (its default export, the `Database` class). Internal. */
export type BetterSqlite3Module = new (
  file: string,
  options?: { timeout?: number },
) => SqliteHandle;

/** The part of a `pg` `Pool` the postgres driver uses. Internal. */
export interface PgPool {
  connect(): Promise<SvcJobsSql.LeaderClient & SvcJobsSql.NotifyClient>;
  readonly ended: boolean;
  end(): Promise<void>;
  on(event: "error", listener: (error: Error) => void): unknown;
  on(
    event: "connect",
    listener: (client: { on(event: "error", listener: (error: Error) => void): unknown }) => void,
  ): unknown;
}

/** The pg module. Internal. */
export interface PgModule {
  Pool: new (config: { connectionString: string; max?: number }) => PgPool;
}

/** What the SQL drivers load. Internal. */
export interface SqlModules<C> {
  sql: typeof SvcJobsSql;
  kysely: typeof KyselyModule;
  /** better-sqlite3's `Database` class, or pg. */
  client: C;
}

const INSTALL = {
  sqlite: { client: "better-sqlite3", range: "better-sqlite3 >=11 <13" },
  postgres: { client: "pg", range: "pg ^8.11" },
} as const;

const cache = new Map<string, SqlModules<unknown>>();

/**
 * Loads what the sqlite or postgres driver needs, on first use and synchronously (so
 * `easyJobs()` stays synchronous and the other drivers run without them): the database
 * client (better-sqlite3 or pg), kysely and @svc-jobs/sql. The missing ones are a
 * `ConfigError` that names the packages to install. Internal.
 *
 * @param require where to resolve the packages from (tests); defaults to this package
 */
export function loadSqlModules(
  driver: "sqlite",
  require?: NodeJS.Require,
): SqlModules<BetterSqlite3Module>;
export function loadSqlModules(driver: "postgres", require?: NodeJS.Require): SqlModules<PgModule>;
export function loadSqlModules(
  driver: "sqlite" | "postgres",
  require?: NodeJS.Require,
): SqlModules<unknown> {
  const cached = require ? undefined : cache.get(driver);
  if (cached) return cached;
  const req = require ?? createRequire(import.meta.url);
  const { client: clientName, range } = INSTALL[driver];
  const missing: string[] = [];
  const load = <T>(name: string, run: () => T): T | undefined => {
    try {
      return run();
    } catch (error) {
      if (isPackageNotFound(error, name)) {
        missing.push(name);
        return undefined;
      }
      throw broken(name, error);
    }
  };
  const client = load(clientName, () => {
    const loaded = req(clientName) as { default?: unknown };
    // better-sqlite3 exports the class itself; pg an object with Pool.
    return driver === "sqlite" ? (loaded.default ?? loaded) : loaded;
  });
  const kysely = load("kysely", () => requireKysely(req));
  if (missing.length > 0) {
    const packages = missing.join(" and ");
    throw new ConfigError(
      `the ${driver} driver needs ${packages}, which ${missing.length > 1 ? "are" : "is"} not installed: install ${packages} to use JOBS_DRIVER=${driver} ("npm install ${missing.join(" ")}"; ${range}, kysely >=0.28 <0.30), or set JOBS_DRIVER=memory`,
      { code: "ERR_SQL_DRIVER_MISSING" },
    );
  }
  let sql: typeof SvcJobsSql;
  try {
    // An ES module loaded by require(): Node.js 20.19 / 22.12 and later.
    sql = req("@svc-jobs/sql") as typeof SvcJobsSql;
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === "ERR_REQUIRE_ESM") {
      throw new ConfigError(
        `JOBS_DRIVER=${driver} needs Node.js 20.19 or later (it loads @svc-jobs/sql, an ES module, with require()): upgrade Node.js (running ${process.version})`,
        { code: "ERR_SQL_DRIVER_NODE", cause: error },
      );
    }
    if (isPackageNotFound(error, "@svc-jobs/sql")) {
      throw new ConfigError(
        `the ${driver} driver needs @svc-jobs/sql, which is not installed: "npm install @svc-jobs/sql"`,
        { code: "ERR_SQL_DRIVER_MISSING", cause: error },
      );
    }
    throw broken("@svc-jobs/sql", error);
  }
  const modules = { sql, kysely: kysely as typeof KyselyModule, client };
  if (!require) cache.set(driver, modules);
  return modules;
}

function broken(name: string, error: unknown): ConfigError {
  return new ConfigError(
    `${name} is installed but failed to load (${error instanceof Error ? error.message.split("\n")[0] : String(error)}): reinstall it`,
    { code: "ERR_SQL_DRIVER_BROKEN", cause: error },
  );
}

/**
 * Kysely's ES module build, the one @svc-jobs/sql imports, so the `Kysely` the driver
 * builds and the `sql` tags of the queue come from one copy of kysely (its CommonJS
 * build, what a plain `require("kysely")` gives, would be a second one).
 */
function requireKysely(req: NodeJS.Require): unknown {
  const main = req.resolve("kysely");
  let dir = path.dirname(main);
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as {
        name?: string;
        exports?: { ".": { import?: string } };
      };
      if (pkg.name === "kysely") {
        const entry = pkg.exports?.["."]?.import;
        if (!entry) return req(main);
        try {
          return req(path.join(dir, entry));
        } catch (error) {
          // Node.js without require() of ES modules: @svc-jobs/sql then says what to do.
          if ((error as { code?: unknown } | null)?.code === "ERR_REQUIRE_ESM") return req(main);
          throw error;
        }
      }
    } catch {
      // not this folder
    }
    dir = path.dirname(dir);
  }
  return req(main);
}
