import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { uniquePrefix } from "@svc-jobs/test-servers";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";

// Three real scheduler processes share one Redis and one RedisLeader key; each
// firing of their task is recorded in a Redis list with the process id and the
// period (interval number on the wall clock).
const LEASE_SECONDS = 1.5;
const INTERVAL_SECONDS = 0.5;
const REPLICA = fileURLToPath(new URL("./fixtures/leader-replica.ts", import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));

interface Firing {
  pid: number;
  period: number;
  at: number;
}

interface Replica {
  child: ChildProcess;
  pid: number;
  log: string[];
  exited: Promise<void>;
}

const redis = redisFixture(Redis);
const replicas: Replica[] = [];

// Registered after the fixture's, so it runs before the fixture closes the client.
afterAll(async () => {
  for (const r of replicas) {
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill("SIGKILL");
  }
  await Promise.all(replicas.map((r) => r.exited));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startReplica(env: Record<string, string>): Promise<Replica> {
  const child = spawn(
    process.execPath,
    ["--conditions=@svc-jobs/source", "--import", "tsx", REPLICA],
    { cwd: PACKAGE_DIR, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const log: string[] = [];
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.stderr!.on("data", (chunk: Buffer) => log.push(chunk.toString()));
  const replica: Replica = { child, pid: child.pid!, log, exited };
  replicas.push(replica);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`replica ${child.pid} did not start:\n${log.join("")}`)),
      15_000,
    );
    child.stdout!.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) {
        clearTimeout(timer);
        resolve(replica);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`replica exited with ${code} before it was ready:\n${log.join("")}`));
    });
  });
}

async function firings(listKey: string): Promise<Firing[]> {
  return (await redis.client.lrange(listKey, 0, -1)).map((s) => JSON.parse(s) as Firing);
}

/** Fails with the periods that fired more than once. */
function expectEachPeriodOnce(all: Firing[]): void {
  const byPeriod = new Map<number, Firing[]>();
  for (const f of all) byPeriod.set(f.period, [...(byPeriod.get(f.period) ?? []), f]);
  const duplicated = [...byPeriod.values()].filter((list) => list.length > 1);
  expect(duplicated, "periods fired by more than one run").toEqual([]);
}

function expectConsecutive(list: Firing[]): void {
  const periods = list.map((f) => f.period);
  for (let i = 1; i < periods.length; i++) {
    expect(periods[i], `periods ${periods.join(",")}`).toBe(periods[i - 1]! + 1);
  }
}

describe("Scheduler with RedisLeader across processes", () => {
  it("three replicas fire each period once, and another takes over within one lease when the leader dies", async () => {
    const leaderKey = uniquePrefix("sched-leader");
    const listKey = uniquePrefix("sched-firings");
    const env = {
      REDIS_URL: redis.url,
      LEADER_KEY: leaderKey,
      LIST_KEY: listKey,
      LEASE_SECONDS: String(LEASE_SECONDS),
      INTERVAL_SECONDS: String(INTERVAL_SECONDS),
    };
    const started = await Promise.all([startReplica(env), startReplica(env), startReplica(env)]);
    const pids = started.map((r) => r.pid);

    // Phase 1: all three running.
    await sleep(3_000);
    const before = await firings(listKey);
    expect(before.length, started.map((r) => r.log.join("")).join("\n")).toBeGreaterThanOrEqual(4);
    const leaderPid = before.at(-1)!.pid;
    expect(pids).toContain(leaderPid);
    expect(new Set(before.map((f) => f.pid))).toEqual(new Set([leaderPid]));
    expectEachPeriodOnce(before);
    expectConsecutive(before);

    // Phase 2: the leader dies without releasing its lease.
    const dead = started.find((r) => r.pid === leaderPid)!;
    dead.child.kill("SIGKILL");
    await dead.exited;
    const killedAt = Date.now();
    const lastByDead = (await firings(listKey)).filter((f) => f.pid === leaderPid).at(-1)!;
    await sleep((LEASE_SECONDS + 2) * 1000);

    const afterKill = (await firings(listKey)).filter((f) => f.at > killedAt);
    expect(afterKill.length).toBeGreaterThanOrEqual(3);
    const successor = afterKill[0]!.pid;
    expect(successor).not.toBe(leaderPid);
    expect(pids).toContain(successor);
    expect(new Set(afterKill.map((f) => f.pid))).toEqual(new Set([successor]));
    // The dead leader's lease runs out at most one lease after the kill, and a follower
    // takes it at its next tick (every interval here); 1 s of slack for a loaded machine.
    expect(afterKill[0]!.at - killedAt).toBeLessThanOrEqual(
      (LEASE_SECONDS + INTERVAL_SECONDS + 1) * 1000,
    );
    // Periods that fell due while nobody led are skipped, not replayed in a burst: the
    // successor's first run is for a current period, not a past one.
    expect(afterKill[0]!.period).toBeGreaterThan(lastByDead.period + 1);
    expect(afterKill[0]!.at - afterKill[0]!.period * INTERVAL_SECONDS * 1000).toBeLessThan(
      INTERVAL_SECONDS * 1000,
    );
    expectConsecutive(afterKill);

    // Phase 3: a graceful stop releases the lease; the last replica takes over.
    const second = started.find((r) => r.pid === successor)!;
    second.child.kill("SIGTERM");
    await second.exited;
    expect(second.child.exitCode).toBe(0);
    const stoppedAt = Date.now();
    await sleep(1_500);
    const third = started.find((r) => r.pid !== leaderPid && r.pid !== successor)!;
    const afterStop = (await firings(listKey)).filter((f) => f.at > stoppedAt);
    expect(afterStop.length).toBeGreaterThanOrEqual(1);
    expect(new Set(afterStop.map((f) => f.pid))).toEqual(new Set([third.pid]));

    expectEachPeriodOnce(await firings(listKey));
    await redis.client.del(listKey, leaderKey);
  }, 40_000);
});
