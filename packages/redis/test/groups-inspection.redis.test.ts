// Seeing grouped jobs on Redis (SPEC "Flow control"; docs/contract.md, "Listing"): a job with
// a group waits in its group's lists (`{prefix}:group:{g}:ready`, `:prio:{n}`, `:priorities`),
// and listJobs("ready") lists the jobs without a group first, then each group's jobs, the
// groups by name, each in run order, exactly as the in-memory backend does. Paging by cursor
// never skips or repeats a job that stays ready while jobs are enqueued, reserved, acked and
// cancelled between pages.
import {
  type EnqueueOptions,
  InMemoryJobQueue,
  type JobInfo,
  type JobPage,
  type JobQueue,
  type JobState,
  ManualClock,
} from "@svc-jobs/core";
import { RedisJobQueue } from "@svc-jobs/redis";
import { redisFixture, thrown } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";
import RedisMock from "ioredis-mock";
import { describe, expect, it } from "vitest";
import { JobInspection } from "../src/job-inspection.js";
import { queueKeys } from "../src/queue-keys.js";

const redis = redisFixture(Redis);

type Payload = { tag: string };

function redisQueue(name: string, clock = new ManualClock(Date.UTC(2030, 0, 1))) {
  const prefix = redis.prefix(name);
  return {
    q: new RedisJobQueue(redis.client, { prefix, clock, visibilityTimeoutSeconds: 3600 }),
    prefix,
  };
}

/** Every page of a listing (ids), checking each job's state. */
async function listAll(
  q: JobQueue,
  state: JobState,
  limit: number,
  name?: string,
): Promise<JobInfo[]> {
  const out: JobInfo[] = [];
  let cursor: string | null = null;
  for (let pages = 0; ; pages++) {
    if (pages > 5000) throw new Error("too many pages");
    const page: JobPage = await q.listJobs({ state, limit, cursor, ...(name ? { name } : {}) });
    expect(page.jobs.length).toBeLessThanOrEqual(limit);
    for (const job of page.jobs) expect(job.state).toBe(state);
    out.push(...(page.jobs as JobInfo[]));
    cursor = page.cursor;
    if (cursor === null) return out;
  }
}

const tagsOf = (jobs: JobInfo[]) => jobs.map((j) => (j.payload as Payload).tag);

/** Byte order of UTF-8, as the Redis listing orders group names. */
function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

interface Spec {
  tag: string;
  name: string;
  group: string | null;
  priority: number;
}

/** The run-order listing of ready jobs: ungrouped first, then groups by name, each by
 * priority (highest first), then enqueue order. */
function expectedOrder(specs: Spec[]): string[] {
  const seq = new Map(specs.map((s, i) => [s.tag, i]));
  return [...specs]
    .sort((a, b) => {
      if (a.group !== b.group) {
        if (a.group === null) return -1;
        if (b.group === null) return 1;
        return byBytes(a.group, b.group);
      }
      return b.priority - a.priority || (seq.get(a.tag) as number) - (seq.get(b.tag) as number);
    })
    .map((s) => s.tag);
}

function optsOf(s: Spec): EnqueueOptions {
  return {
    ...(s.group === null ? {} : { group: s.group }),
    ...(s.priority === 0 ? {} : { priority: s.priority }),
  };
}

/** A deterministic pseudo-random sequence (mulberry32). */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Group names whose byte order differs from insertion order, with a prefix of another name,
// upper case before lower case, a ':' and a multi-byte character.
const GROUPS = ["tenant-b", "tenant-a", "Tenant-Z", "tenant-a-2", "t:x", "é-tenant", "tenant-ab"];

function mixedSpecs(count: number, random: () => number, from = 0): Spec[] {
  const prios = [0, 0, 0, 5, -3, 2];
  return Array.from({ length: count }, (_, i) => {
    const r = random();
    return {
      tag: `j${from + i}`,
      name: random() < 0.3 ? "other" : "main",
      group: r < 0.2 ? null : (GROUPS[Math.floor(random() * GROUPS.length)] as string),
      priority: prios[Math.floor(random() * prios.length)] as number,
    };
  });
}

describe("listJobs ready with groups", () => {
  it("lists the jobs without a group first, then each group by name (bytes), each in run order", async () => {
    const { q } = redisQueue("order");
    const memory = new InMemoryJobQueue({ clock: new ManualClock(Date.UTC(2030, 0, 1)) });
    const specs = mixedSpecs(120, rng(1));
    for (const s of specs) {
      await q.enqueue(s.name, { tag: s.tag }, optsOf(s));
      await memory.enqueue(s.name, { tag: s.tag }, optsOf(s));
    }
    const want = expectedOrder(specs);
    const got = await listAll(q, "ready", 1000);
    expect(tagsOf(got)).toEqual(want);
    // The same order as the in-memory backend's.
    expect(tagsOf(await listAll(memory, "ready", 1000))).toEqual(want);
    // Each job carries its group and priority.
    const bySpec = new Map(specs.map((s) => [s.tag, s]));
    for (const job of got) {
      const s = bySpec.get((job.payload as Payload).tag) as Spec;
      expect(job.group).toBe(s.group);
      expect(job.priority).toBe(s.priority);
    }
    // Any page size gives the same listing.
    for (const limit of [1, 2, 3, 7, 50]) {
      expect(tagsOf(await listAll(q, "ready", limit)), `limit ${limit}`).toEqual(want);
    }
    // With a name: the matching jobs in the same order, on every page size.
    const main = want.filter((t) => bySpec.get(t)?.name === "main");
    for (const limit of [1, 4, 1000]) {
      expect(tagsOf(await listAll(q, "ready", limit, "main")), `limit ${limit}`).toEqual(main);
      expect(tagsOf(await listAll(memory, "ready", limit, "main"))).toEqual(main);
    }
    await memory.close();
  });

  it("orders group names by their UTF-8 bytes: prefixes, long common prefixes, NUL, multi-byte", async () => {
    const { q } = redisQueue("byte-order");
    // Names around the 6-byte steps the script compares in, and beyond the BMP (where
    // UTF-16 order differs from byte order: U+FFFD sorts before U+1F600 in bytes).
    const names = [
      "tenant-ab-12!",
      "tenant",
      "tenant-ab-12",
      "tenant\u0000",
      "tenanu",
      "tenan",
      "~",
      "A",
      "\u{1F600}",
      "\uFFFD",
      "tenant-ab-11zzzzzzzzzzzzzzzzzzzz",
      "x".repeat(256),
    ];
    for (const group of names) await q.enqueue("n", { tag: group }, { group });
    const want = [...names].sort(byBytes);
    expect(want.indexOf("\uFFFD")).toBeLessThan(want.indexOf("\u{1F600}"));
    for (const limit of [1, 5, 100]) {
      expect(tagsOf(await listAll(q, "ready", limit)), `limit ${limit}`).toEqual(want);
    }
  });

  it("lists only grouped jobs when none is without a group, and none when nothing waits", async () => {
    const { q } = redisQueue("only-groups");
    expect(await q.listJobs({ state: "ready" })).toEqual({ jobs: [], cursor: null });
    await q.enqueue("n", { tag: "b1" }, { group: "b" });
    await q.enqueue("n", { tag: "a1" }, { group: "a" });
    await q.enqueue("n", { tag: "b2" }, { group: "b", priority: 1 });
    expect(tagsOf(await listAll(q, "ready", 1))).toEqual(["a1", "b2", "b1"]);
    const page = await q.listJobs({ state: "ready", limit: 2 });
    expect(tagsOf(page.jobs as JobInfo[])).toEqual(["a1", "b2"]);
    // The cursor names the group it is in (it is opaque to callers; this checks the format).
    const cursor = JSON.parse(Buffer.from(page.cursor as string, "base64url").toString("utf8"));
    expect(cursor).toMatchObject({ s: "ready", g: "b", l: "1" });
  });

  it("includes the groups waiting at a limit ({prefix}:groups:wait), not only the rotation", async () => {
    const { q, prefix } = redisQueue("waiting-groups");
    for (const g of ["a", "b", "c"]) {
      for (let i = 1; i <= 3; i++) await q.enqueue("n", { tag: `${g}${i}` }, { group: g });
    }
    await q.enqueue("n", { tag: "plain" });
    // b waits at a limit: out of the rotation, in groups:wait (as reserve leaves it).
    await redis.client.zrem(`${prefix}:groups`, "b");
    await redis.client.zadd(`${prefix}:groups:wait`, Date.UTC(2031, 0, 1) / 1000, "b");
    // c is in both (a moment of no consequence): listed once.
    await redis.client.zadd(`${prefix}:groups:wait`, Date.UTC(2031, 0, 1) / 1000, "c");
    const want = ["plain", "a1", "a2", "a3", "b1", "b2", "b3", "c1", "c2", "c3"];
    for (const limit of [1, 2, 4, 100]) {
      expect(tagsOf(await listAll(q, "ready", limit)), `limit ${limit}`).toEqual(want);
    }
    expect(await q.countByName("ready")).toEqual({ n: 10 });
  });

  it("with a group limit, the group reserve leaves waiting is still listed", async () => {
    const { q, prefix } = redisQueue("limited");
    await q.setGroupLimits({ concurrency: 1 });
    for (let i = 1; i <= 3; i++) await q.enqueue("n", { tag: `a${i}` }, { group: "a" });
    for (let i = 1; i <= 2; i++) await q.enqueue("n", { tag: `b${i}` }, { group: "b" });
    const first = await q.reserveMany(10);
    // One job of each group runs; the rest wait for a slot.
    expect(tagsOf(first as unknown as JobInfo[]).sort()).toEqual(["a1", "b1"]);
    expect(tagsOf(await listAll(q, "ready", 1))).toEqual(["a2", "a3", "b2"]);
    const inRotation = await redis.client.zrange(`${prefix}:groups`, 0, -1);
    const waiting = await redis.client.zrange(`${prefix}:groups:wait`, 0, -1);
    expect([...inRotation, ...waiting].filter((g) => g !== "").sort()).toEqual(["a", "b"]);
    expect(await q.countByName("ready")).toEqual({ n: 3 });
  });
});

const SEEDS = [42, 7, 2026];

describe("listJobs ready with groups: paging while the queue changes", () => {
  it.each(SEEDS)(
    "300 jobs in 7 groups, limit 7, reserving, acking, releasing, enqueueing and cancelling between pages: no skip, no repeat (seed %i)",
    async (seed) => {
      const { q } = redisQueue(`paging-${seed}`);
      const random = rng(seed);
      const specs = mixedSpecs(300, random);
      const idOf = new Map<string, string>();
      for (const s of specs)
        idOf.set(s.tag, (await q.enqueue(s.name, { tag: s.tag }, optsOf(s))).id);
      const initial = new Set(idOf.values());
      const left = new Set<string>(); // ids that left ready at some point
      const cameBack = new Set<string>(); // ... and came back (released)
      const running: { id: string }[] = [];
      const seen: JobInfo[] = [];
      let next = 300;
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await q.listJobs({ state: "ready", limit: 7, cursor });
        expect(page.jobs.length).toBeLessThanOrEqual(7);
        for (const job of page.jobs) expect(job.state).toBe("ready");
        seen.push(...(page.jobs as JobInfo[]));
        cursor = page.cursor;
        pages++;
        // Workers take jobs (the rotation takes them from every group) and finish some.
        const reserved = await q.reserveMany(1 + Math.floor(random() * 4));
        for (const job of reserved) {
          left.add(job.id);
          running.push(job);
        }
        while (running.length > 0 && random() < 0.6) {
          const job = running.splice(Math.floor(random() * running.length), 1)[0] as never;
          if (random() < 0.15) {
            // Back to the front of its group's list: it left and came back (may show again).
            await q.release(job);
            cameBack.add((job as { id: string }).id);
          } else {
            await q.ack(job);
          }
        }
        // Producers add jobs, to groups before and after the cursor and new groups.
        for (const s of mixedSpecs(Math.floor(random() * 4), random, next)) {
          next++;
          const group = random() < 0.2 ? `new-${Math.floor(random() * 5)}` : s.group;
          const job = await q.enqueue(s.name, { tag: s.tag }, optsOf({ ...s, group }));
          idOf.set(s.tag, job.id);
        }
        // Now and then an operator cancels a waiting job.
        if (random() < 0.3) {
          const ids = [...idOf.values()].filter((id) => !left.has(id));
          const id = ids[Math.floor(random() * ids.length)] as string;
          if (await q.cancel(id)) left.add(id);
        }
        if (pages > 2000) throw new Error("too many pages");
      } while (cursor !== null);
      expect(pages).toBeGreaterThan(20);

      const seenIds = seen.map((j) => j.id);
      // No repeats, but of a job that left ready and came back.
      const once = seenIds.filter((id) => !cameBack.has(id));
      expect(new Set(once).size).toBe(once.length);
      // Every job that stayed ready throughout was listed, once.
      const stayed = [...initial].filter((id) => !left.has(id));
      expect(stayed.length).toBeGreaterThan(30);
      const seenSet = new Set(seenIds);
      expect(stayed.filter((id) => !seenSet.has(id))).toEqual([]);
      // ... and in run order (group by name, then priority, then FIFO).
      const specOf = new Map(specs.map((s) => [idOf.get(s.tag), s]));
      const stayedSeen = seenIds.filter((id) => initial.has(id) && !left.has(id));
      const want = expectedOrder(stayedSeen.map((id) => specOf.get(id) as Spec)).map(
        (tag) => idOf.get(tag) as string,
      );
      expect(stayedSeen).toEqual(want);
      // A job listed was ready then; the ones still ready now are listed in full order.
      const specsNow = new Map<string, Spec>();
      for (const job of await listAll(q, "ready", 1000)) {
        specsNow.set(job.id, {
          tag: job.id,
          name: job.name,
          group: job.group,
          priority: job.priority,
        });
      }
      const notBack = [...specsNow.keys()].filter((id) => !cameBack.has(id));
      expect(notBack).toEqual(
        expectedOrder(
          // FIFO = id order for the jobs that never ran.
          [...specsNow.values()]
            .filter((s) => !cameBack.has(s.tag))
            .sort((a, b) => Number(a.tag) - Number(b.tag)),
        ),
      );
    },
  );

  it("a page that ends in a group whose jobs all ran goes on with the next group", async () => {
    const { q } = redisQueue("group-drained");
    for (const g of ["a", "b", "c"]) {
      for (let i = 1; i <= 4; i++) await q.enqueue("n", { tag: `${g}${i}` }, { group: g });
    }
    const page = await q.listJobs({ state: "ready", limit: 2 });
    expect(tagsOf(page.jobs as JobInfo[])).toEqual(["a1", "a2"]);
    // Every job of a runs (the rotation takes one job of each group per turn).
    const taken: string[] = [];
    while (!["a1", "a2", "a3", "a4"].every((t) => taken.includes(t))) {
      const [job] = await q.reserveMany(1);
      if (!job) throw new Error("nothing to reserve");
      taken.push((job.payload as Payload).tag);
    }
    const rest = await q.listJobs({ state: "ready", limit: 100, cursor: page.cursor });
    const stillReady = ["b1", "b2", "b3", "b4", "c1", "c2", "c3", "c4"].filter(
      (t) => !taken.includes(t),
    );
    expect(tagsOf(rest.jobs as JobInfo[])).toEqual(stillReady);
    expect(rest.cursor).toBeNull();
  });

  it("with a name, pages may be short across many non-matching grouped jobs, and find every match once", async () => {
    const { q, prefix } = redisQueue("name-budget");
    // More non-matching jobs than one call looks at (2,000), across groups.
    const items = Array.from({ length: 2600 }, (_, i) => ({
      name: i % 500 === 7 ? "rare" : "bulk",
      payload: { tag: `r${i}` },
      opts: { group: `g${i % 4}` } as EnqueueOptions,
    }));
    await q.enqueueMany(items);
    await q.enqueue("rare", { tag: "plain" });
    const want = [
      "plain",
      ...["g0", "g1", "g2", "g3"].flatMap((g) =>
        items.filter((it) => it.name === "rare" && it.opts.group === g).map((it) => it.payload.tag),
      ),
    ];
    const inspect = new JobInspection(
      redis.client,
      queueKeys(prefix, { cluster: false, clientKeyPrefix: "" }),
    );
    let calls = 0;
    const got: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await inspect.listJobs({ state: "ready", name: "rare", limit: 2, cursor });
      calls++;
      got.push(...tagsOf(page.jobs));
      cursor = page.cursor;
    } while (cursor !== null);
    expect(got).toEqual(want);
    expect(calls).toBeGreaterThan(2);
    expect(await q.countByName("ready")).toEqual({ bulk: 2594, rare: 7 });
  });
});

describe("countByName and getJob with groups", () => {
  it("countByName('ready') counts grouped ready jobs, across more than one batch", async () => {
    const { q } = redisQueue("count");
    await q.enqueueMany(
      Array.from({ length: 1500 }, (_, i) => ({
        name: `n${i % 3}`,
        payload: { tag: `c${i}` },
        opts: (i % 5 === 0 ? {} : { group: `g${i % 7}`, priority: i % 2 }) as EnqueueOptions,
      })),
    );
    expect(await q.countByName("ready")).toEqual({ n0: 500, n1: 500, n2: 500 });
    const reserved = await q.reserveMany(30);
    const counts = await q.countByName("ready");
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1470);
    expect(await q.countByName("processing")).toEqual(
      reserved.reduce<Record<string, number>>((acc, j) => {
        acc[j.name] = (acc[j.name] ?? 0) + 1;
        return acc;
      }, {}),
    );
    expect((await q.stats()).ready).toBe(1470);
  });

  it("getJob reports a grouped job as ready with its group, then processing", async () => {
    const { q } = redisQueue("get");
    const job = await q.enqueue("n", { tag: "t" }, { group: "tenant-42", priority: 3 });
    expect(await q.getJob(job.id)).toMatchObject({
      id: job.id,
      state: "ready",
      group: "tenant-42",
      priority: 3,
    });
    const [reserved] = await q.reserveMany(1);
    expect(reserved?.id).toBe(job.id);
    expect(await q.getJob(job.id)).toMatchObject({ state: "processing", group: "tenant-42" });
    const plain = await q.enqueue("n", { tag: "p" });
    expect(await q.getJob(plain.id)).toMatchObject({ state: "ready", group: null });
  });
});

describe("ready cursors", () => {
  it("takes a cursor without a group (the jobs without one) or with a group name; refuses others", async () => {
    const { q } = redisQueue("cursor");
    await q.enqueue("n", { tag: "p1" });
    await q.enqueue("n", { tag: "p2" });
    await q.enqueue("n", { tag: "a1" }, { group: "a" });
    await q.enqueue("n", { tag: "a2" }, { group: "a" });
    const first = await q.listJobs({ state: "ready", limit: 1 });
    const c1 = JSON.parse(Buffer.from(first.cursor as string, "base64url").toString("utf8"));
    expect(Object.keys(c1).sort()).toEqual(["k", "l", "s"]);
    const second = await q.listJobs({ state: "ready", limit: 2, cursor: first.cursor });
    expect(tagsOf(second.jobs as JobInfo[])).toEqual(["p2", "a1"]);
    const c2 = JSON.parse(Buffer.from(second.cursor as string, "base64url").toString("utf8"));
    expect(c2).toMatchObject({ s: "ready", g: "a", l: "0" });
    expect(
      tagsOf((await q.listJobs({ state: "ready", cursor: second.cursor })).jobs as JobInfo[]),
    ).toEqual(["a2"]);
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v), "utf8").toString("base64url");
    for (const bad of [
      { ...c2, g: "" },
      { ...c2, g: 7 },
      { ...c2, g: "x".repeat(257) },
      { ...c2, g: "a", extra: 1 },
    ]) {
      expect(
        await thrown(() => q.listJobs({ state: "ready", cursor: enc(bad) })),
        JSON.stringify(bad),
      ).toMatchObject({
        field: "opts.cursor",
      });
    }
    // A group name of the longest allowed length is a valid cursor (an unknown group: the
    // groups after it follow).
    const far = await q.listJobs({
      state: "ready",
      cursor: enc({ ...c2, g: "0".repeat(256), k: [] }),
    });
    expect(tagsOf(far.jobs as JobInfo[])).toEqual(["a1", "a2"]);
  });
});

describe("on ioredis-mock (the conformance lane without a server)", () => {
  it("lists grouped jobs in the same order", async () => {
    const client = new RedisMock();
    const q = new RedisJobQueue(client as never, {
      prefix: `mock-groups-${process.pid}`,
      clock: new ManualClock(Date.UTC(2030, 0, 1)),
    });
    const specs = mixedSpecs(40, rng(7));
    for (const s of specs) await q.enqueue(s.name, { tag: s.tag }, optsOf(s));
    const want = expectedOrder(specs);
    expect(tagsOf(await listAll(q, "ready", 1000))).toEqual(want);
    expect(tagsOf(await listAll(q, "ready", 3))).toEqual(want);
    expect(Object.values(await q.countByName("ready")).reduce((a, b) => a + b, 0)).toBe(40);
    await q.close();
    client.disconnect();
  });
});
