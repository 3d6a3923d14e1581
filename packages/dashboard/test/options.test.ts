import { ConfigError, InMemoryJobQueue } from "@svc-jobs/core";
import { expectUnknownOptionRefused } from "@svc-jobs/test-servers/fixtures";
import { describe, expect, it } from "vitest";
import { createDashboard, type DashboardOptions } from "../src/index.js";

const queue = new InMemoryJobQueue({ events: false });
const token = "0123456789abcdef0123";

function refused(options: unknown): Error {
  try {
    createDashboard(options as DashboardOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as Error;
  }
  throw new Error("createDashboard accepted it");
}

describe("createDashboard options", () => {
  it("refuses to start without auth, naming the ways to give it", () => {
    expect(refused({ queues: queue }).message).toMatch(
      /refusing to start without authentication: pass auth: \{ token \} or auth: \{ username, password \} \(or auth: false/,
    );
    expect(refused({ queues: queue, auth: true }).message).toMatch(/without authentication/);
  });

  it("refuses weak or malformed credentials", () => {
    expect(refused({ queues: queue, auth: { token: "short" } }).message).toMatch(/16 characters/);
    expect(
      refused({ queues: queue, auth: { username: "", password: "12345678" } }).message,
    ).toMatch(/username/);
    expect(refused({ queues: queue, auth: { username: "a", password: "1" } }).message).toMatch(
      /8 characters/,
    );
    expect(refused({ queues: queue, auth: { token, user: "x" } }).message).toMatch(
      /unknown auth option "user"/,
    );
  });

  it("refuses an unknown option with a hint", async () => {
    await expectUnknownOptionRefused(
      () => createDashboard({ queues: queue, auth: false, readonly: true } as never),
      {
        errorClass: ConfigError,
        meant: '"readOnly"',
        known: "queues, auth, readOnly, basePath, title, secret, eventBufferSize, logger",
      },
    );
    expect(refused({ queues: queue, auth: false, token }).message).toContain(
      "did you mean auth: { token }?",
    );
  });

  it("refuses what is not a queue, a bad basePath, a short secret", () => {
    expect(refused({ queues: {}, auth: false }).message).toMatch(/non-empty/);
    expect(refused({ queues: { a: {} }, auth: false }).message).toMatch(
      /queues\.a is not a JobQueue/,
    );
    expect(refused({ queues: queue, auth: false, basePath: "admin" }).message).toMatch(/basePath/);
    expect(refused({ queues: queue, auth: false, secret: "x" }).message).toMatch(/32 characters/);
    expect(refused({ queues: queue, auth: false, eventBufferSize: -1 }).message).toMatch(
      /eventBufferSize/,
    );
  });

  it("takes one queue or several, and closes without closing them", async () => {
    const one = createDashboard({ queues: queue, auth: { token } });
    expect(typeof one).toBe("function");
    expect(typeof one.fetch).toBe("function");
    await one.close();
    const many = createDashboard({ queues: { a: queue, b: new InMemoryJobQueue() }, auth: false });
    await many.close();
    expect(await queue.stats()).toMatchObject({ ready: 0 });
  });
});
