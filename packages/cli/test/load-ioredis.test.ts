import { ConfigError } from "@svc-jobs/core";
import { describe, expect, it } from "vitest";
import { loadIoredis } from "../src/load-ioredis.js";

function notFound(message: string): Error {
  return Object.assign(new Error(message), { code: "MODULE_NOT_FOUND" });
}

describe("loadIoredis", () => {
  it("loads the installed ioredis, with Redis and Cluster", () => {
    const ioredis = loadIoredis();
    expect(typeof ioredis.Redis).toBe("function");
    expect(typeof ioredis.Cluster).toBe("function");
    expect(loadIoredis()).toBe(ioredis);
  });

  it("without ioredis, says to install it for JOBS_DRIVER=redis", () => {
    const missing = notFound("Cannot find module 'ioredis'\nRequire stack:\n- /app/x.js");
    let caught: unknown;
    try {
      loadIoredis(() => {
        throw missing;
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(caught).toMatchObject({ code: "ERR_IOREDIS_MISSING", cause: missing });
    expect((caught as Error).message).toContain("install ioredis to use JOBS_DRIVER=redis");
  });

  it("an ioredis that is installed but does not load is reported as broken, not missing", () => {
    const inner = notFound(
      "Cannot find module 'standard-as-callback'\nRequire stack:\n- /app/node_modules/ioredis/built/Redis.js",
    );
    expect(() =>
      loadIoredis(() => {
        throw inner;
      }),
    ).toThrow(expect.objectContaining({ code: "ERR_IOREDIS_BROKEN", cause: inner }));
    expect(() =>
      loadIoredis(() => {
        throw new SyntaxError("Unexpected token");
      }),
    ).toThrow(/ioredis is installed but failed to load/);
  });
});
