import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BackendError, WorkerRunner } from "@svc-jobs/core";
import { expectedStats } from "@svc-jobs/core/testing";
import { RedisJobQueue } from "@svc-jobs/redis";
import {
  freePort,
  type RedisServer,
  requireBinary,
  startRedis,
  uniquePrefix,
} from "@svc-jobs/test-servers";
import { Redis, type RedisOptions } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { startDropProxy } from "./fixtures/drop-proxy.js";

// Each test starts its own redis-server: these tests kill connections and servers.
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function privateRedis(args?: string[]): Promise<RedisServer> {
  const server = await startRedis(args ? { args } : {});
  cleanups.push(() => server.stop());
  return server;
}

function connect(url: string, options: RedisOptions = {}): Redis {
  const client = new Redis(url, options);
  client.on("error", () => {});
  cleanups.push(() => client.disconnect());
  return client;
}

async function waitUntil(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs a worker over `queue` until `ids` were all processed; returns how often each ran. */
async function processAll(
  queue: RedisJobQueue,
  ids: string[],
  duringRun: (processed: number) => Promise<void> | void,
): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  const want = new Set(ids);
  let finished!: () => void;
  const allDone = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const runner = new WorkerRunner(
    queue,
    async (job) => {
      await new Promise((r) => setTimeout(r, 2));
      seen.set(job.id, (seen.get(job.id) ?? 0) + 1);
      want.delete(job.id);
      await duringRun(seen.size);
      if (want.size === 0) finished();
    },
    { concurrency: 4, pollIntervalSeconds: 0.2, onError: () => {} },
  );
  const running = runner.start();
  await allDone;
  await runner.stop({ graceSeconds: 5 });
  await running;
  return seen;
}

describe("connection faults", () => {
  it("CLIENT KILL of every connection while a worker runs loses no job", async () => {
    const server = await privateRedis();
    const client = connect(server.url);
    const admin = connect(server.url);
    const queue = new RedisJobQueue(client, {
      prefix: uniquePrefix("kill"),
      visibilityTimeoutSeconds: 2,
    });
    cleanups.push(() => queue.close());
    const jobs = await queue.enqueueMany(
      Array.from({ length: 200 }, (_, i) => ({ name: "k", payload: { i } })),
    );
    const kills: number[] = [];
    const seen = await processAll(
      queue,
      jobs.map((j) => j.id),
      async (processed) => {
        if ((processed === 50 || processed === 120) && !kills.includes(processed)) {
          kills.push(processed);
          // Kills the queue's command and blocking connections (not this admin one).
          kills.push(Number(await admin.client("KILL", "TYPE", "normal")));
        }
      },
    );
    expect(kills[1]).toBeGreaterThanOrEqual(1);
    expect(seen.size).toBe(200);
    expect(await queue.stats()).toEqual(expectedStats());
  });

  it("a Redis crash and restart (AOF, fsync always) while a worker runs loses no job", async () => {
    const server = await privateRedis(["--appendonly", "yes", "--appendfsync", "always"]);
    const client = connect(server.url);
    const queue = new RedisJobQueue(client, {
      prefix: uniquePrefix("restart"),
      visibilityTimeoutSeconds: 2,
    });
    cleanups.push(() => queue.close());
    const jobs = await queue.enqueueMany(
      Array.from({ length: 100 }, (_, i) => ({ name: "r", payload: { i } })),
    );
    let crashed = false;
    const seen = await processAll(
      queue,
      jobs.map((j) => j.id),
      async (processed) => {
        if (processed >= 30 && !crashed) {
          crashed = true;
          await server.crash();
          await new Promise((r) => setTimeout(r, 300));
          await server.restart();
        }
      },
    );
    expect(crashed).toBe(true);
    expect(seen.size).toBe(100);
    expect(await queue.stats()).toEqual(expectedStats());
  });

  it("an idle worker blocked in reserve reconnects after a Redis restart and takes new jobs", async () => {
    const server = await privateRedis(["--appendonly", "yes", "--appendfsync", "always"]);
    const queue = new RedisJobQueue(connect(server.url), { prefix: uniquePrefix("idle-restart") });
    cleanups.push(() => queue.close());
    const seen: string[] = [];
    const runner = new WorkerRunner(queue, async (job) => void seen.push(job.name), {
      pollIntervalSeconds: 1,
      onError: () => {},
    });
    const running = runner.start();
    cleanups.push(async () => {
      await runner.stop();
      await running;
    });
    await queue.enqueue("before", {});
    await waitUntil(() => seen.length === 1);
    await server.crash();
    await new Promise((r) => setTimeout(r, 300));
    await server.restart();
    // A producer on its own connection, so the enqueue does not depend on the worker's.
    const producer = new RedisJobQueue(connect(server.url), { prefix: queue.prefix });
    await producer.enqueue("after", {});
    await waitUntil(() => seen.length === 2);
    expect(seen).toEqual(["before", "after"]);
  });

  it("an enqueue that ioredis resends after a dropped reply creates one job, thanks to its token", async () => {
    const server = await privateRedis();
    const proxy = await startDropProxy({ host: server.host, port: server.port });
    cleanups.push(() => proxy.close());
    const client = connect(`redis://127.0.0.1:${proxy.port}`);
    const direct = connect(server.url);

    for (const tokens of [true, false]) {
      const prefix = uniquePrefix(tokens ? "token" : "notoken");
      const queue = new RedisJobQueue(client, {
        prefix,
        enqueueTokenTtlSeconds: tokens ? 60 : 0,
      });
      // Load the script first so the dropped call is the one that runs it.
      await new RedisJobQueue(client, { prefix: uniquePrefix("warm") }).enqueue("warm", {});
      const dropped = proxy.dropReplyTo(`${prefix}:seq`);
      const job = await queue.enqueue("once", { n: 1 });
      await dropped;
      const ready = await direct.llen(`${prefix}:ready`);
      // The script's general path (a delayed job with options) keeps its token as well.
      const droppedToo = proxy.dropReplyTo(`${prefix}:seq`);
      const later = await queue.enqueue("later", { n: 2 }, { delaySeconds: 60, maxAttempts: 2 });
      await droppedToo;
      const delayed = await direct.zcard(`${prefix}:delayed`);
      if (tokens) {
        expect(job.id).toBe("1");
        expect(ready).toBe(1);
        expect(later.id).toBe("2");
        expect(delayed).toBe(1);
        expect(await direct.get(`${prefix}:seq`)).toBe("2");
      } else {
        // Without the token the resend really does create a second job: the test can fail.
        expect(ready).toBe(2);
        expect(delayed).toBe(2);
      }
    }
  });
});

describe("authentication and TLS", () => {
  it("works with a password in the URL, and says so when the password is missing", async () => {
    const server = await privateRedis();
    const admin = connect(server.url);
    await admin.config("SET", "requirepass", "s3cret pass");
    const url = `redis://:${encodeURIComponent("s3cret pass")}@127.0.0.1:${server.port}`;
    const client = connect(url);
    const queue = new RedisJobQueue(client, { prefix: uniquePrefix("auth") });
    cleanups.push(() => queue.close());
    // The blocking connection authenticates too: a blocked reserve wakes on enqueue.
    const pending = queue.reserveNext({ blockSeconds: 5 });
    await new Promise((r) => setTimeout(r, 100));
    const job = await queue.enqueue("secret", { ok: true });
    expect((await pending)?.id).toBe(job.id);

    const anonymous = connect(`redis://127.0.0.1:${server.port}`, { maxRetriesPerRequest: 0 });
    const denied = new RedisJobQueue(anonymous, { prefix: uniquePrefix("auth") });
    const error = await denied.enqueue("x", {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).code).toBe("ERR_REDIS");
    expect((error as BackendError).message).toMatch(/NOAUTH/);
  });

  it("works with an ACL user and password", async () => {
    const server = await privateRedis();
    const admin = connect(server.url);
    await admin.acl("SETUSER", "worker", "on", ">w0rker", "~*", "+@all");
    const client = connect(`redis://worker:w0rker@127.0.0.1:${server.port}`);
    const queue = new RedisJobQueue(client, { prefix: uniquePrefix("acl") });
    cleanups.push(() => queue.close());
    await queue.enqueue("a", {});
    expect((await queue.reserveNext({ blockSeconds: 1 }))?.name).toBe("a");
  });

  it("works over TLS with a rediss:// URL and a password", async () => {
    const openssl = requireBinary("openssl", "apt-get install openssl");
    const dir = mkdtempSync(path.join(tmpdir(), "svc-jobs-tls-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const cert = path.join(dir, "cert.pem");
    const key = path.join(dir, "key.pem");
    execFileSync(
      openssl,
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
      ].concat(["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]),
      { stdio: "ignore" },
    );
    const tlsPort = await freePort();
    const server = await privateRedis(
      ["--tls-port", String(tlsPort), "--tls-cert-file", cert, "--tls-key-file", key].concat([
        "--tls-ca-cert-file",
        cert,
        "--tls-auth-clients",
        "no",
      ]),
    );
    // Set after start: the test helper checks readiness with an unauthenticated PING.
    await connect(server.url).config("SET", "requirepass", "tls-pass");
    const client = connect(`rediss://:tls-pass@127.0.0.1:${tlsPort}`, {
      tls: { ca: readFileSync(cert) },
    });
    const queue = new RedisJobQueue(client, { prefix: uniquePrefix("tls") });
    cleanups.push(() => queue.close());
    const pending = queue.reserveNext({ blockSeconds: 5 });
    await new Promise((r) => setTimeout(r, 100));
    const job = await queue.enqueue("over-tls", { secure: true });
    expect((await pending)?.payload).toEqual({ secure: true });
    expect(job.id).toBe("1");
    expect(await client.info("server")).toMatch(/redis_version/);
  });
});
