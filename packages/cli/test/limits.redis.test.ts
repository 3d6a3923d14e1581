import { RedisJobQueue } from "@svc-jobs/redis";
import { uniquePrefix } from "@svc-jobs/test-servers";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { runBin } from "./helpers.js";

// The binary's flow-control commands (docs/contract.md, "Flow control") on a real Redis:
// limits show|set, enqueue --group, the group on jobs list/show, and jobs promote.

const redis = redisFixture(Redis);

function env(prefix: string) {
  return { JOBS_DRIVER: "redis", REDIS_URL: redis.url, JOBS_PREFIX: prefix };
}

async function withQueue<T>(
  prefix: string,
  body: (queue: RedisJobQueue) => Promise<T>,
): Promise<T> {
  const queue = new RedisJobQueue(redis.client, { prefix });
  try {
    return await body(queue);
  } finally {
    await queue.close();
  }
}

describe("svc-jobs limits", () => {
  it("set stores the limits every worker obeys and prints them; show and --json read them back", async () => {
    const prefix = uniquePrefix("limits-set");
    const none = await runBin(["limits", "show"], env(prefix));
    expect(none.stderr).toBe("");
    expect(none.code).toBe(0);
    expect(none.stdout).toBe(
      `limits of queue "${prefix}":\nrate limit:      none\ngroup limits:    none\ngroup overrides: none\nheld until:      - (not held)\n`,
    );

    const set = await runBin(
      ["limits", "set", "--rate", "10/1", "--group-concurrency", "2", "--group-rate", "5/0.5"],
      env(prefix),
    );
    expect(set.stderr).toBe("");
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(
      /^rate limit:\s+10 per 1s \(at most 10 job\(s\) start in any 1s\)$/m,
    );
    expect(set.stdout).toMatch(/^group limits:\s+concurrency 2, rate 5 per 0\.5s/m);
    expect(await withQueue(prefix, (q) => q.getLimits())).toEqual({
      rateLimit: { max: 10, perSeconds: 1 },
      groupLimits: { concurrency: 2, max: 5, perSeconds: 0.5 },
      groupOverrides: {},
      heldUntil: null,
    });

    const override = await runBin(
      [
        "limits",
        "set",
        "--group",
        "tenant-42",
        "--group-concurrency",
        "8",
        "--group-rate",
        "100/60",
      ],
      env(prefix),
    );
    expect(override.code).toBe(0);
    expect(override.stdout.trimEnd().split("\n").slice(-2)).toEqual([
      "group      concurrency  rate",
      "tenant-42  8            100 per 60s",
    ]);

    const json = await runBin(["limits", "show", "--json"], env(prefix));
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      rateLimit: { max: 10, perSeconds: 1 },
      groupLimits: { concurrency: 2, max: 5, perSeconds: 0.5 },
      groupOverrides: { "tenant-42": { concurrency: 8, max: 100, perSeconds: 60 } },
      heldUntil: null,
    });

    // Merge: only the rate of every group changes; none removes a limit; --clear with
    // --group drops the override; --rate none removes the queue's rate limit.
    await runBin(["limits", "set", "--group-rate", "none"], env(prefix));
    await runBin(["limits", "set", "--group", "tenant-42", "--clear"], env(prefix));
    const after = await runBin(["limits", "set", "--rate", "none", "--json"], env(prefix));
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toEqual({
      rateLimit: null,
      groupLimits: { concurrency: 2 },
      groupOverrides: {},
      heldUntil: null,
    });
    const cleared = await runBin(["limits", "set", "--clear", "--json"], env(prefix));
    expect(JSON.parse(cleared.stdout)).toMatchObject({ groupLimits: null });
  });

  it("shows a hold of the whole queue as an ISO date", async () => {
    const prefix = uniquePrefix("limits-hold");
    const until = await withQueue(prefix, async (queue) => {
      await queue.enqueue("call_api", {});
      const job = await queue.reserveNext();
      await queue.release(job!, { delaySeconds: 60, scope: "queue" });
      return (await queue.getLimits()).heldUntil;
    });
    expect(until).toBeInstanceOf(Date);
    const json = await runBin(["limits", "show", "--json"], env(prefix));
    expect(JSON.parse(json.stdout)).toMatchObject({ heldUntil: until?.toISOString() });
    const text = await runBin(["limits", "show"], env(prefix));
    expect(text.stdout).toMatch(
      `held until:      ${until?.toISOString()} (a handler's RateLimitError with scope "queue")`,
    );
  });

  it.each([
    [["--rate", "10"], /--rate must be <max>\/<seconds>, e.g. --rate 10\/1/],
    [["--rate", "0/1"], /--rate <max> \(before the \/\) must be a whole number from 1 to 1000000/],
    [["--rate", "5/0"], /--rate <seconds> \(after the \/\) must be more than 0/],
    [["--group-rate", "fast"], /--group-rate must be <max>\/<seconds>/],
    [["--group-concurrency", "-1"], /--group-concurrency must be a whole number from 1 to 1000000/],
    [["--group-concurrency", "0", "--rate", "1/1"], /--group-concurrency must be a whole number/],
    [["--rate", "1/1", "--rat", "2/1"], /unknown option '--rat'.*svc-jobs limits set --help/],
    [[], /limits set changes nothing without an option/],
    [["--group", "vip"], /--group "vip" says which group the group options apply to/],
    [
      ["--clear", "--group-concurrency", "3"],
      /--clear removes the group limits, so it does not go/,
    ],
  ])("bad input %j is exit 2, one line, and changes nothing", async (args, message) => {
    const prefix = uniquePrefix("limits-bad");
    await withQueue(prefix, (q) => q.setRateLimit({ max: 7, perSeconds: 1 }));
    const out = await runBin(["limits", "set", ...args], env(prefix));
    expect(out.code).toBe(2);
    expect(out.stdout).toBe("");
    expect(out.stderr).toMatch(/^svc-jobs: /);
    expect(out.stderr).toMatch(message);
    expect(out.stderr.trim().split("\n")).toHaveLength(1);
    expect(await withQueue(prefix, (q) => q.getLimits())).toEqual({
      rateLimit: { max: 7, perSeconds: 1 },
      groupLimits: null,
      groupOverrides: {},
      heldUntil: null,
    });
  });
});

describe("svc-jobs enqueue --group, jobs list/show and jobs promote", () => {
  it("enqueues into a group, which jobs list and jobs show print; promote makes a delayed job ready", async () => {
    const prefix = uniquePrefix("jobs-group");
    const enqueued = await runBin(
      ["enqueue", "sync", '{"n":1}', "--group", "tenant-42", "--delay", "3600"],
      env(prefix),
    );
    expect(enqueued.stderr).toBe("");
    expect(enqueued.code).toBe(0);
    const id = enqueued.stdout.trim();
    expect(await withQueue(prefix, (q) => q.getJob(id))).toMatchObject({
      state: "delayed",
      group: "tenant-42",
    });

    const list = await runBin(["jobs", "list", "--state", "delayed"], env(prefix));
    expect(list.code).toBe(0);
    const rows = list.stdout.split("\n").map((l) => l.split(/\s+/));
    expect(rows[0]?.slice(0, 6)).toEqual(["id", "name", "state", "attempts", "priority", "group"]);
    expect(rows[1]?.slice(0, 6)).toEqual([id, "sync", "delayed", "0/5", "0", "tenant-42"]);
    const listJson = await runBin(["jobs", "list", "--state", "delayed", "--json"], env(prefix));
    expect(JSON.parse(listJson.stdout).jobs).toEqual([
      expect.objectContaining({ id, group: "tenant-42" }),
    ]);

    const show = await runBin(["jobs", "show", id], env(prefix));
    expect(show.stdout).toMatch(/^group:\s+tenant-42$/m);
    const showJson = await runBin(["jobs", "show", id, "--json"], env(prefix));
    expect(JSON.parse(showJson.stdout)).toMatchObject({ id, group: "tenant-42" });

    const promoted = await runBin(["jobs", "promote", id], env(prefix));
    expect(promoted.stderr).toBe("");
    expect(promoted.code).toBe(0);
    expect(promoted.stdout).toBe(
      `promoted job ${id} in "${prefix}": delayed -> ready, it runs in its turn by priority\n`,
    );
    expect(await withQueue(prefix, (q) => q.getJob(id))).toMatchObject({ state: "ready" });

    const again = await runBin(["jobs", "promote", id, "--json"], env(prefix));
    expect(again.code).toBe(1);
    expect(again.stdout).toBe("");
    expect(again.stderr).toMatch(/is ready, not delayed: only a delayed job can be promoted/);
    const unknown = await runBin(["jobs", "promote", "424242"], env(prefix));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/job "424242" not found/);

    const plain = await runBin(["enqueue", "sync", "{}", "--delay", "60"], env(prefix));
    const plainId = plain.stdout.trim();
    const json = await runBin(["jobs", "promote", plainId, "--json"], env(prefix));
    expect(JSON.parse(json.stdout)).toEqual({ id: plainId, promoted: true });
    const plainShow = await runBin(["jobs", "show", plainId, "--json"], env(prefix));
    expect(JSON.parse(plainShow.stdout)).toMatchObject({ group: null });
  });

  it("an empty --group is exit 2 before anything is enqueued", async () => {
    const prefix = uniquePrefix("jobs-group-bad");
    const out = await runBin(["enqueue", "sync", "{}", "--group", ""], env(prefix));
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/--group must name a group .* of 1 to 256 characters, got ""/);
    expect(await withQueue(prefix, (q) => q.stats())).toMatchObject({ ready: 0, delayed: 0 });
  });
});
