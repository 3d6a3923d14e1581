// `svc-jobs dashboard`: the built binary serving the dashboard on a real redis-server.
import { RedisJobQueue } from "@svc-jobs/redis";
import { uniquePrefix } from "@svc-jobs/test-servers";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { runBin, startBin } from "./helpers.js";

const redis = redisFixture(Redis);
const TOKEN = "cli-dashboard-token-0123456789";

function env(prefix: string, extra: Record<string, string> = {}) {
  return { JOBS_DRIVER: "redis", REDIS_URL: redis.url, JOBS_PREFIX: prefix, ...extra };
}

describe("svc-jobs dashboard", () => {
  it("serves the queues with the token from SVC_JOBS_DASHBOARD_TOKEN, never printing it; exits 0 on SIGTERM", async () => {
    const a = uniquePrefix("dash-a");
    const b = uniquePrefix("dash-b");
    const queue = new RedisJobQueue(redis.client, { prefix: a });
    await queue.enqueue("send_email", { to: "x@example.com" });
    await queue.close();
    const bin = startBin(
      ["dashboard", "--port", "0", "--prefix", `${a},${b}`],
      env(a, { SVC_JOBS_DASHBOARD_TOKEN: TOKEN }),
    );
    await bin.waitFor((p) => /on http:\/\/127\.0\.0\.1:\d+\//.test(p.stdout), "the start line");
    expect(bin.stdout).not.toContain(TOKEN);
    expect(bin.stdout).toContain("auth: token");
    const url = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(bin.stdout)![1]!;
    expect((await fetch(`${url}/api/queues`)).status).toBe(401);
    const res = await fetch(`${url}/api/queues`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject([
      { name: a, stats: { ready: 1 } },
      { name: b, stats: { ready: 0 } },
    ]);
    expect(await bin.stop("SIGTERM")).toBe(0);
    expect(bin.stderr).toBe("");
  });

  it("--read-only with basic credentials refuses actions", async () => {
    const prefix = uniquePrefix("dash-ro");
    const bin = startBin(
      ["dashboard", "--port", "0", "--username", "ops", "--read-only"],
      env(prefix, { SVC_JOBS_DASHBOARD_PASSWORD: "correct horse" }),
    );
    await bin.waitFor((p) => /read-only\)/.test(p.stdout), "the start line");
    const url = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(bin.stdout)![1]!;
    const auth = { authorization: `Basic ${Buffer.from("ops:correct horse").toString("base64")}` };
    const { csrfToken } = (await (await fetch(`${url}/api/session`, { headers: auth })).json()) as {
      csrfToken: string;
    };
    const res = await fetch(`${url}/api/queues/${prefix}/pause`, {
      method: "POST",
      headers: { ...auth, "x-csrf-token": csrfToken },
    });
    expect(res.status).toBe(403);
    expect(await bin.stop("SIGINT")).toBe(0);
  });

  it("refuses to start without credentials or --no-auth (exit 2), and with a short token", async () => {
    const prefix = uniquePrefix("dash-none");
    const none = await runBin(["dashboard", "--port", "0"], env(prefix));
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("refuses to start without authentication");
    const short = await runBin(["dashboard", "--port", "0", "--token", "short"], env(prefix));
    expect(short.code).toBe(2);
    expect(short.stderr).toContain("at least 16 characters");
    const both = await runBin(
      ["dashboard", "--no-auth", "--port", "0"],
      env(prefix, { SVC_JOBS_DASHBOARD_TOKEN: TOKEN }),
    );
    expect(both.code).toBe(2);
  });

  it("--no-auth serves without credentials", async () => {
    const prefix = uniquePrefix("dash-open");
    const bin = startBin(["dashboard", "--port", "0", "--no-auth"], env(prefix));
    await bin.waitFor((p) => /no authentication/.test(p.stdout), "the start line");
    const url = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(bin.stdout)![1]!;
    expect((await fetch(`${url}/api/queues`)).status).toBe(200);
    expect(await bin.stop("SIGTERM")).toBe(0);
  });
});
