import { ConfigError } from "@svc-jobs/core";
import { KyselyInboxStore, KyselyOutboxStore, migrateWebhookTables } from "@svc-jobs/webhooks";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { resolveDialect } from "../../src/webhook-tables.js";
import type { Db, KyselyModule } from "./databases.js";

/** A pool that is never connected to: detection must not need a connection. */
const neverPool = async () => {
  throw new Error("the dialect detection must not connect");
};

/**
 * How the stores and migrations tell PostgreSQL from SQLite for a Kysely instance made
 * with the Kysely module `k` (this package's own copy, or another version).
 */
export function describeDialectDetection(name: string, k: KyselyModule): void {
  describe(`${name}: dialect detection`, () => {
    const opened: Db[] = [];
    const open = (dialect: ConstructorParameters<KyselyModule["Kysely"]>[0]["dialect"]): Db => {
      const db: Db = new k.Kysely({ dialect });
      opened.push(db);
      return db;
    };
    const sqlite = () => open(new k.SqliteDialect({ database: new Database(":memory:") }));
    const postgres = () => open(new k.PostgresDialect({ pool: neverPool as never }));
    const mysql = () => open(new k.MysqlDialect({ pool: neverPool as never }));
    afterEach(async () => {
      for (const db of opened.splice(0)) await db.destroy();
    });

    it("detects Kysely's SQLite and PostgreSQL dialects, and transactions of them", async () => {
      expect(resolveDialect(sqlite(), undefined)).toBe("sqlite");
      expect(resolveDialect(postgres(), undefined)).toBe("postgres");
      await sqlite()
        .transaction()
        .execute(async (trx) => {
          expect(resolveDialect(trx, undefined)).toBe("sqlite");
        });
    });

    it("detects adapters that extend Kysely's (PGlite, D1, libSQL, ...)", () => {
      class CustomPostgresAdapter extends k.PostgresAdapter {}
      class CustomSqliteAdapter extends k.SqliteAdapter {}
      const pgBase = new k.PostgresDialect({ pool: neverPool as never });
      const liteBase = new k.SqliteDialect({ database: new Database(":memory:") });
      const pg = open({
        createAdapter: () => new CustomPostgresAdapter(),
        createDriver: () => pgBase.createDriver(),
        createQueryCompiler: () => pgBase.createQueryCompiler(),
        createIntrospector: (db) => pgBase.createIntrospector(db),
      });
      const lite = open({
        createAdapter: () => new CustomSqliteAdapter(),
        createDriver: () => liteBase.createDriver(),
        createQueryCompiler: () => liteBase.createQueryCompiler(),
        createIntrospector: (db) => liteBase.createIntrospector(db),
      });
      expect(resolveDialect(pg, undefined)).toBe("postgres");
      expect(resolveDialect(lite, undefined)).toBe("sqlite");
    });

    it("detects the dialect when a bundler renamed Kysely's classes", () => {
      // What a minifier leaves: same behaviour, no recognisable class name anywhere.
      const renamed = (base: InstanceType<KyselyModule["PostgresAdapter" | "SqliteAdapter"]>) => {
        const adapter = Object.create(null) as Record<string, unknown>;
        for (const key of [
          "supportsCreateIfNotExists",
          "supportsMultipleConnections",
          "supportsTransactionalDdl",
          "supportsReturning",
          "supportsOutput",
        ] as const) {
          adapter[key] = (base as unknown as Record<string, unknown>)[key];
        }
        adapter.acquireMigrationLock = async () => {};
        adapter.releaseMigrationLock = async () => {};
        return adapter as never;
      };
      const pgBase = new k.PostgresDialect({ pool: neverPool as never });
      const liteBase = new k.SqliteDialect({ database: new Database(":memory:") });
      const pg = open({
        createAdapter: () => renamed(new k.PostgresAdapter()),
        createDriver: () => pgBase.createDriver(),
        createQueryCompiler: () => pgBase.createQueryCompiler(),
        createIntrospector: (db) => pgBase.createIntrospector(db),
      });
      const lite = open({
        createAdapter: () => renamed(new k.SqliteAdapter()),
        createDriver: () => liteBase.createDriver(),
        createQueryCompiler: () => liteBase.createQueryCompiler(),
        createIntrospector: (db) => liteBase.createIntrospector(db),
      });
      expect(resolveDialect(pg, undefined)).toBe("postgres");
      expect(resolveDialect(lite, undefined)).toBe("sqlite");
    });

    it("the dialect option wins over detection", () => {
      expect(resolveDialect(sqlite(), "postgres")).toBe("postgres");
      expect(resolveDialect(mysql(), "sqlite")).toBe("sqlite");
      expect(() => new KyselyOutboxStore(mysql(), { dialect: "postgres" })).not.toThrow();
      expect(() => new KyselyInboxStore(mysql(), { dialect: "postgres" })).not.toThrow();
    });

    it("an unknown dialect is a ConfigError that names the dialect option", async () => {
      const db = mysql();
      for (const attempt of [
        () => new KyselyOutboxStore(db),
        () => resolveDialect(db, undefined),
      ]) {
        expect(attempt).toThrow(ConfigError);
        expect(attempt).toThrow(/MysqlAdapter.*dialect: "postgres" \}.*dialect: "sqlite" \}/);
      }
      await expect(migrateWebhookTables(db)).rejects.toThrow(/pass the dialect option/);
      expect(() => new KyselyOutboxStore(db, { dialect: "mysql" as never })).toThrow(
        /dialect must be "postgres" or "sqlite", got "mysql"/,
      );
      expect(() => new KyselyInboxStore(db, { dialect: "mysql" as never })).toThrow(ConfigError);
    });

    it("something that is not a Kysely instance is a ConfigError", () => {
      expect(() => new KyselyOutboxStore({} as never)).toThrow(/must be a Kysely instance/);
      expect(() => new KyselyOutboxStore(null as never)).toThrow(ConfigError);
    });
  });
}
