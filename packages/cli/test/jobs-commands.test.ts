import { Writable } from "node:stream";
import { CliError, EXIT_RUNTIME, EXIT_USAGE } from "@svc-jobs/cli";
import { InMemoryJobQueue, type JobQueue } from "@svc-jobs/core";
import { describe, expect, it } from "vitest";
import { eventsCommand } from "../src/events-command.js";
import {
  jobsCancelCommand,
  jobsCountCommand,
  jobsListCommand,
  jobsPromoteCommand,
  jobsRetryCommand,
  jobsShowCommand,
} from "../src/jobs-command.js";
import {
  concurrencyOption,
  limitsSetCommand,
  limitsShowCommand,
  NONE,
  rateOption,
} from "../src/limits-command.js";
import type { AdminConnection } from "../src/open-admin.js";
import { pauseCommand, resumeCommand } from "../src/pause-command.js";
import { statsCommand } from "../src/stats-command.js";

// The commands of docs/contract.md, "Seeing and controlling jobs", on the in-memory
// queue: the memory driver has no admin access from another process, so these run the
// commands in this process with an open connection (the binary's Redis runs are in
// jobs.redis.test.ts).

function output() {
  let text = "";
  const out = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  return {
    out,
    get text() {
      return text;
    },
    lines() {
      return text.trimEnd().split("\n");
    },
    json<T = unknown>(): T {
      return JSON.parse(text) as T;
    },
  };
}

function memory(queue: JobQueue): { admin: AdminConnection; command: string; prefix: string } {
  return {
    command: "test",
    prefix: "jobs",
    admin: { queue: () => queue, listPrefixes: async () => ["jobs"], close: async () => {} },
  };
}

async function deadJob(queue: JobQueue, name: string, error: string): Promise<string> {
  const job = await queue.enqueue(name, { n: 1 }, { maxAttempts: 1 });
  const reserved = await queue.reserveNext();
  expect(reserved?.id).toBe(job.id);
  await queue.fail(reserved!, new Error(error));
  return job.id;
}

async function failure(call: Promise<unknown>): Promise<CliError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CliError);
  return error as CliError;
}

describe("jobs list (memory)", () => {
  it("pages with the cursor, as a table and as JSON, and --all reads every page", async () => {
    const queue = new InMemoryJobQueue();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await queue.enqueue(`task_${i % 2}`, { i })).id);
    const first = output();
    await jobsListCommand({
      ...memory(queue),
      state: "ready",
      limit: 2,
      json: true,
      out: first.out,
    });
    const page1 = first.json<{
      jobs: { id: string; createdAt: string }[];
      cursor: string | null;
    }>();
    expect(page1.jobs.map((j) => j.id)).toEqual(ids.slice(0, 2));
    expect(page1.jobs[0]?.createdAt).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
    expect(page1.cursor).toEqual(expect.any(String));

    const second = output();
    await jobsListCommand({
      ...memory(queue),
      state: "ready",
      limit: 2,
      cursor: page1.cursor!,
      out: second.out,
    });
    const lines = second.lines();
    expect(lines[0]?.split(/\s+/)).toEqual([
      "id",
      "name",
      "state",
      "attempts",
      "priority",
      "group",
      "created",
      "available",
      "finished",
      "last_error",
    ]);
    expect(lines[1]?.split(/\s+/).slice(0, 5)).toEqual([ids[2], "task_0", "ready", "0/5", "0"]);
    expect(lines[2]?.split(/\s+/)[0]).toBe(ids[3]);
    expect(lines[3]).toMatch(/^2 ready job\(s\) in "jobs"; next page: --cursor \S+$/);

    const all = output();
    await jobsListCommand({
      ...memory(queue),
      state: "ready",
      limit: 2,
      all: true,
      json: true,
      out: all.out,
    });
    expect(all.json<{ jobs: { id: string }[]; cursor: null }>()).toEqual({
      jobs: ids.map((id) => expect.objectContaining({ id, state: "ready" })),
      cursor: null,
    });

    const named = output();
    await jobsListCommand({
      ...memory(queue),
      state: "ready",
      name: "task_1",
      limit: 10,
      out: named.out,
    });
    expect(named.lines().at(-1)).toBe('2 ready job(s) named "task_1" in "jobs" (last page)');

    const none = output();
    await jobsListCommand({ ...memory(queue), state: "dead", limit: 10, out: none.out });
    expect(none.text).toBe('no dead job(s) in "jobs"\n');
    await queue.close();
  });

  it("a cursor it did not print is a usage error naming --cursor", async () => {
    const queue = new InMemoryJobQueue();
    const error = await failure(
      jobsListCommand({
        ...memory(queue),
        state: "ready",
        limit: 2,
        cursor: "nope",
        out: output().out,
      }),
    );
    expect(error.exitCode).toBe(EXIT_USAGE);
    expect(error.message).toMatch(/--cursor "nope" is not a cursor of a "ready" page/);
    await queue.close();
  });
});

describe("jobs show (memory)", () => {
  it("prints every field, the payload pretty-printed; --json with ISO dates", async () => {
    const queue = new InMemoryJobQueue();
    const job = await queue.enqueue(
      "send_email",
      { to: "a@example.com", tags: ["x"] },
      { priority: 3 },
    );
    const text = output();
    await jobsShowCommand({ ...memory(queue), id: job.id, out: text.out });
    expect(text.text).toMatch(new RegExp(`^id:\\s+${job.id}$`, "m"));
    expect(text.text).toMatch(/^state:\s+ready$/m);
    expect(text.text).toMatch(/^priority:\s+3$/m);
    expect(text.text).toMatch(/^attempts:\s+0 of 5$/m);
    expect(text.text).toMatch(/^payload:\s+\{\n\s+"to": "a@example.com",\n\s+"tags": \[/m);

    const json = output();
    await jobsShowCommand({ ...memory(queue), id: job.id, json: true, out: json.out });
    expect(json.json()).toMatchObject({
      id: job.id,
      name: "send_email",
      state: "ready",
      priority: 3,
      payload: { to: "a@example.com", tags: ["x"] },
      createdAt: expect.stringMatching(/Z$/),
      availableAt: expect.stringMatching(/Z$/),
      finishedAt: null,
      progress: null,
      result: null,
    });
    await queue.close();
  });

  it("an unknown id fails with exit 1 and says so", async () => {
    const queue = new InMemoryJobQueue();
    const error = await failure(
      jobsShowCommand({ ...memory(queue), id: "404", out: output().out }),
    );
    expect(error.exitCode).toBe(EXIT_RUNTIME);
    expect(error.message).toMatch(/job "404" not found in "jobs"/);
    await queue.close();
  });
});

describe("jobs cancel and retry (memory)", () => {
  it("cancels a waiting job; a second cancel, a dead or unknown job fail saying why", async () => {
    const queue = new InMemoryJobQueue();
    const job = await queue.enqueue("report", {});
    const ok = output();
    await jobsCancelCommand({ ...memory(queue), id: job.id, reason: "not needed", out: ok.out });
    expect(ok.text).toBe(`cancelled job ${job.id} in "jobs" (it was ready)\n`);
    expect(await queue.getJob(job.id)).toBeNull(); // not kept by default

    const again = await failure(
      jobsCancelCommand({ ...memory(queue), id: job.id, out: output().out }),
    );
    expect(again.exitCode).toBe(EXIT_RUNTIME);
    expect(again.message).toMatch(/nothing cancelled: job .* not found/);

    const dead = await deadJob(queue, "broken", "boom");
    const deadError = await failure(
      jobsCancelCommand({ ...memory(queue), id: dead, out: output().out }),
    );
    expect(deadError.message).toMatch(
      /nothing cancelled: job \d+ in "jobs" it is dead, in the DLQ/,
    );
    await queue.close();
  });

  it("says a kept cancelled job is already cancelled; --json reports the previous state", async () => {
    const queue = new InMemoryJobQueue({ keepCancelled: true });
    const job = await queue.enqueue("report", {}, { delaySeconds: 60 });
    const json = output();
    await jobsCancelCommand({ ...memory(queue), id: job.id, json: true, out: json.out });
    expect(json.json()).toEqual({
      id: job.id,
      cancelled: true,
      previousState: "delayed",
      reason: null,
    });
    const error = await failure(
      jobsCancelCommand({ ...memory(queue), id: job.id, out: output().out }),
    );
    expect(error.message).toMatch(/it is already cancelled/);
    await queue.close();
  });

  it("retry moves a dead job back to ready; a job that is not dead is an error", async () => {
    const queue = new InMemoryJobQueue();
    const dead = await deadJob(queue, "broken", "boom");
    const out = output();
    await jobsRetryCommand({ ...memory(queue), id: dead, out: out.out });
    expect(out.text).toMatch(`requeued job ${dead} in "jobs": dead -> ready, attempts reset to 0`);
    expect(await queue.getJob(dead)).toMatchObject({ state: "ready", attempts: 0 });

    const notDead = await failure(
      jobsRetryCommand({ ...memory(queue), id: dead, out: output().out }),
    );
    expect(notDead.exitCode).toBe(EXIT_RUNTIME);
    expect(notDead.message).toMatch(/is ready, not dead: only a dead job can be retried/);
    const unknown = await failure(
      jobsRetryCommand({ ...memory(queue), id: "999", out: output().out }),
    );
    expect(unknown.message).toMatch(/job "999" not found/);
    await queue.close();
  });
});

describe("jobs count (memory)", () => {
  it("counts by name, most first", async () => {
    const queue = new InMemoryJobQueue();
    await queue.enqueue("a", {});
    await queue.enqueue("b", {});
    await queue.enqueue("b", {});
    const text = output();
    await jobsCountCommand({ ...memory(queue), state: "ready", out: text.out });
    expect(text.lines().map((l) => l.split(/\s+/))).toEqual([
      ["name", "count"],
      ["b", "2"],
      ["a", "1"],
      ["3", "ready", "job(s)", "in", '"jobs"'],
    ]);
    const json = output();
    await jobsCountCommand({ ...memory(queue), state: "ready", json: true, out: json.out });
    expect(json.json()).toEqual({ state: "ready", total: 3, byName: { a: 1, b: 2 } });
    await queue.close();
  });
});

describe("pause and resume (memory)", () => {
  it("print the new state, and stats shows it", async () => {
    const queue = new InMemoryJobQueue();
    const paused = output();
    await pauseCommand({ ...memory(queue), out: paused.out });
    expect(paused.text).toMatch(/^queue "jobs" is paused: workers reserve nothing/);
    expect(await queue.isPaused()).toBe(true);
    const stats = output();
    await statsCommand({ ...memory(queue), prefixes: ["jobs"], json: true, out: stats.out });
    expect(stats.json()).toEqual([expect.objectContaining({ prefix: "jobs", paused: true })]);
    const table = output();
    await statsCommand({ ...memory(queue), prefixes: ["jobs"], out: table.out });
    expect(table.lines()[0]?.split(/\s+/).at(-1)).toBe("paused");
    expect(table.lines()[1]?.split(/\s+/).at(-1)).toBe("yes");

    const again = output();
    await pauseCommand({ ...memory(queue), json: true, out: again.out });
    expect(again.json()).toEqual({ prefix: "jobs", paused: true });
    const resumed = output();
    await resumeCommand({ ...memory(queue), out: resumed.out });
    expect(resumed.text).toMatch(/^queue "jobs" is running: workers take jobs/);
    expect(await queue.isPaused()).toBe(false);
    await queue.close();
  });
});

describe("events (memory)", () => {
  it("follows new events until stopped; --after without --follow prints what is held and ends", async () => {
    const queue = new InMemoryJobQueue();
    const followed = output();
    const stop = new AbortController();
    const following = eventsCommand({
      ...memory(queue),
      follow: true,
      json: true,
      signal: stop.signal,
      out: followed.out,
    });
    await new Promise((r) => setTimeout(r, 50));
    const job = await queue.enqueue("send_email", {});
    await queue.cancel(job.id, { reason: "oops" });
    await expect.poll(() => followed.text.split("\n").length).toBeGreaterThanOrEqual(3);
    stop.abort();
    await following;
    const events = followed
      .lines()
      .map((l) => JSON.parse(l) as { id: string; type: string; jobId: string; at: string });
    expect(events.map((e) => [e.type, e.jobId])).toEqual([
      ["enqueued", job.id],
      ["cancelled", job.id],
    ]);
    expect(events[0]?.at).toMatch(/Z$/);

    const held = output();
    await eventsCommand({
      ...memory(queue),
      after: events[0]!.id,
      quietSeconds: 0.1,
      out: held.out,
    });
    expect(held.lines()).toHaveLength(1);
    expect(held.text).toMatch(
      new RegExp(
        `^${events[1]?.id}  \\S+Z  cancelled\\s+job ${job.id}  send_email  reason="oops"\\n$`,
      ),
    );
    await queue.close();
  });

  it("without --follow or --after it is a usage error", async () => {
    const queue = new InMemoryJobQueue();
    const error = await failure(eventsCommand({ ...memory(queue), out: output().out }));
    expect(error.exitCode).toBe(EXIT_USAGE);
    expect(error.message).toMatch(/needs --follow .* or --after <event id>/);
    await queue.close();
  });
});

describe("the group on jobs list and show (memory)", () => {
  it("list has a group column (- without one), show a group line, --json the group", async () => {
    const queue = new InMemoryJobQueue();
    const grouped = await queue.enqueue("sync", { n: 1 }, { group: "tenant-42" });
    const plain = await queue.enqueue("sync", { n: 2 });
    const text = output();
    await jobsListCommand({ ...memory(queue), state: "ready", limit: 10, out: text.out });
    const rows = text.lines().map((l) => l.split(/\s+/));
    expect(rows[0]?.slice(4, 7)).toEqual(["priority", "group", "created"]);
    // The ready order of grouped jobs is the backend's (groups take turns): find each row.
    const row = (id: string) => rows.find((r) => r[0] === id)?.slice(0, 6);
    expect(row(grouped.id)).toEqual([grouped.id, "sync", "ready", "0/5", "0", "tenant-42"]);
    expect(row(plain.id)).toEqual([plain.id, "sync", "ready", "0/5", "0", "-"]);

    const json = output();
    await jobsListCommand({
      ...memory(queue),
      state: "ready",
      limit: 10,
      json: true,
      out: json.out,
    });
    const listed = json.json<{ jobs: { id: string; group: string | null }[] }>().jobs;
    expect(listed).toHaveLength(2);
    expect(listed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: grouped.id, group: "tenant-42" }),
        expect.objectContaining({ id: plain.id, group: null }),
      ]),
    );

    const shown = output();
    await jobsShowCommand({ ...memory(queue), id: grouped.id, out: shown.out });
    expect(shown.text).toMatch(/^group:\s+tenant-42$/m);
    const shownPlain = output();
    await jobsShowCommand({ ...memory(queue), id: plain.id, out: shownPlain.out });
    expect(shownPlain.text).toMatch(/^group:\s+-$/m);
    const shownJson = output();
    await jobsShowCommand({ ...memory(queue), id: grouped.id, json: true, out: shownJson.out });
    expect(shownJson.json()).toMatchObject({ id: grouped.id, group: "tenant-42" });
    await queue.close();
  });
});

describe("jobs promote (memory)", () => {
  it("makes a delayed job ready now; a job that is not delayed, or unknown, is exit 1", async () => {
    const queue = new InMemoryJobQueue();
    const job = await queue.enqueue("report", {}, { delaySeconds: 3600 });
    const out = output();
    await jobsPromoteCommand({ ...memory(queue), id: job.id, out: out.out });
    expect(out.text).toBe(
      `promoted job ${job.id} in "jobs": delayed -> ready, it runs in its turn by priority\n`,
    );
    expect(await queue.getJob(job.id)).toMatchObject({ state: "ready" });
    expect((await queue.reserveNext())?.id).toBe(job.id);

    const later = await queue.enqueue("report", {}, { delaySeconds: 3600 });
    const json = output();
    await jobsPromoteCommand({ ...memory(queue), id: later.id, json: true, out: json.out });
    expect(json.json()).toEqual({ id: later.id, promoted: true });

    const again = await failure(
      jobsPromoteCommand({ ...memory(queue), id: later.id, out: output().out }),
    );
    expect(again.exitCode).toBe(EXIT_RUNTIME);
    expect(again.message).toMatch(/is ready, not delayed: only a delayed job can be promoted/);
    const unknown = await failure(
      jobsPromoteCommand({ ...memory(queue), id: "999", out: output().out }),
    );
    expect(unknown.exitCode).toBe(EXIT_RUNTIME);
    expect(unknown.message).toMatch(/job "999" not found/);
    await queue.close();
  });
});

describe("limits show and set (memory)", () => {
  it("show prints no limits, then what set put in force; --json is getLimits() with ISO dates", async () => {
    const queue = new InMemoryJobQueue();
    const empty = output();
    await limitsShowCommand({ ...memory(queue), out: empty.out });
    expect(empty.lines()).toEqual([
      'limits of queue "jobs":',
      "rate limit:      none",
      "group limits:    none",
      "group overrides: none",
      "held until:      - (not held)",
    ]);

    const set = output();
    await limitsSetCommand({
      ...memory(queue),
      rate: { max: 10, perSeconds: 1 },
      groupConcurrency: 2,
      groupRate: { max: 5, perSeconds: 0.5 },
      out: set.out,
    });
    expect(set.lines()).toEqual([
      'limits of queue "jobs":',
      "rate limit:      10 per 1s (at most 10 job(s) start in any 1s)",
      "group limits:    concurrency 2, rate 5 per 0.5s (each group without an override)",
      "group overrides: none",
      "held until:      - (not held)",
    ]);
    expect(await queue.getLimits()).toEqual({
      rateLimit: { max: 10, perSeconds: 1 },
      groupLimits: { concurrency: 2, max: 5, perSeconds: 0.5 },
      groupOverrides: {},
      heldUntil: null,
    });

    // An override for one group; a note says it has no rate limit of its own.
    const override = output();
    await limitsSetCommand({
      ...memory(queue),
      group: "big",
      groupConcurrency: 10,
      out: override.out,
    });
    expect(override.lines().slice(3)).toEqual([
      "group overrides: 1 group(s), below",
      "held until:      - (not held)",
      "group  concurrency  rate",
      "big    10           none",
      'note: the override of group "big" replaces the limits of every group, so it has no rate limit now; add --group-rate with --group big to give it one',
    ]);
    expect((await queue.getLimits()).groupOverrides).toEqual({ big: { concurrency: 10 } });

    const json = output();
    await limitsShowCommand({ ...memory(queue), json: true, out: json.out });
    expect(json.json()).toEqual({
      rateLimit: { max: 10, perSeconds: 1 },
      groupLimits: { concurrency: 2, max: 5, perSeconds: 0.5 },
      groupOverrides: { big: { concurrency: 10 } },
      heldUntil: null,
    });
    await queue.close();
  });

  it("group options merge into what is set; none removes one limit; --clear removes them", async () => {
    const queue = new InMemoryJobQueue();
    const set = (
      opts: Parameters<typeof limitsSetCommand>[0] extends infer O ? Partial<O> : never,
    ) => limitsSetCommand({ ...memory(queue), out: output().out, ...opts });
    await set({ groupConcurrency: 2, groupRate: { max: 5, perSeconds: 1 } });
    await set({ groupConcurrency: 3 });
    expect((await queue.getLimits()).groupLimits).toEqual({
      concurrency: 3,
      max: 5,
      perSeconds: 1,
    });
    await set({ groupRate: null });
    expect((await queue.getLimits()).groupLimits).toEqual({ concurrency: 3 });
    await set({ groupConcurrency: null }); // nothing left: no group limits
    expect((await queue.getLimits()).groupLimits).toBeNull();

    await set({ groupConcurrency: 2 });
    await set({ group: "vip", groupRate: { max: 100, perSeconds: 60 } });
    await set({ group: "vip", groupConcurrency: 8 });
    expect((await queue.getLimits()).groupOverrides).toEqual({
      vip: { concurrency: 8, max: 100, perSeconds: 60 },
    });
    await set({ group: "vip", clear: true });
    expect((await queue.getLimits()).groupOverrides).toEqual({});
    expect((await queue.getLimits()).groupLimits).toEqual({ concurrency: 2 });
    await set({ clear: true, rate: { max: 3, perSeconds: 2 } });
    expect(await queue.getLimits()).toMatchObject({
      rateLimit: { max: 3, perSeconds: 2 },
      groupLimits: null,
    });
    await set({ rate: null });
    expect((await queue.getLimits()).rateLimit).toBeNull();

    const json = output();
    await limitsSetCommand({ ...memory(queue), groupConcurrency: 1, json: true, out: json.out });
    expect(json.json()).toEqual({
      rateLimit: null,
      groupLimits: { concurrency: 1 },
      groupOverrides: {},
      heldUntil: null,
    });
    await queue.close();
  });

  it("shows a hold of the whole queue from a handler's RateLimitError", async () => {
    const queue = new InMemoryJobQueue();
    await queue.enqueue("call_api", {});
    const job = await queue.reserveNext();
    await queue.release(job!, { delaySeconds: 60, scope: "queue" });
    const limits = await queue.getLimits();
    expect(limits.heldUntil).toBeInstanceOf(Date);
    const text = output();
    await limitsShowCommand({ ...memory(queue), out: text.out });
    expect(text.text).toMatch(
      /^held until:\s+\d{4}-\d\d-\d\dT\S+Z \(a handler's RateLimitError with scope "queue"\)$/m,
    );
    const json = output();
    await limitsShowCommand({ ...memory(queue), json: true, out: json.out });
    expect(json.json()).toMatchObject({ heldUntil: limits.heldUntil?.toISOString() });
    await queue.close();
  });

  it("bad input is a usage error that changes nothing", async () => {
    const queue = new InMemoryJobQueue();
    await queue.setRateLimit({ max: 7, perSeconds: 1 });
    await queue.setGroupLimits({ concurrency: 2 });
    const before = await queue.getLimits();
    const cases: [Partial<Parameters<typeof limitsSetCommand>[0]>, RegExp][] = [
      [{}, /changes nothing without an option: give --rate/],
      [{ group: "vip" }, /--group "vip" says which group .* add --group-concurrency/],
      [{ group: "vip", rate: { max: 1, perSeconds: 1 } }, /--group "vip" says which group/],
      [
        { clear: true, groupConcurrency: 3 },
        /--clear removes the group limits, so it does not go with/,
      ],
      [{ group: "", groupConcurrency: 3 }, /--group must name a group .* of 1 to 256 characters/],
      [{ rate: { max: 0, perSeconds: 1 }, groupConcurrency: 3 }, /max must be an integer from 1/],
    ];
    for (const [opts, message] of cases) {
      const error = await failure(
        limitsSetCommand({ ...memory(queue), out: output().out, ...opts }),
      );
      expect(error.exitCode).toBe(EXIT_USAGE);
      expect(error.message).toMatch(message);
      expect(await queue.getLimits()).toEqual(before);
    }
    await queue.close();
  });

  it("the option parsers read max/seconds, a count, and none, and say how to fix the rest", () => {
    const rate = rateOption("--rate", "jobs");
    expect(rate("10/1")).toEqual({ max: 10, perSeconds: 1 });
    expect(rate(" 100 / 60s ")).toEqual({ max: 100, perSeconds: 60 });
    expect(rate("5/0.5")).toEqual({ max: 5, perSeconds: 0.5 });
    expect(rate("None")).toBe(NONE);
    expect(() => rate("10")).toThrow(
      /--rate must be <max>\/<seconds>, e.g. --rate 10\/1 .* or none/,
    );
    expect(() => rate("ten/1")).toThrow(/--rate must be <max>\/<seconds>/);
    expect(() => rate("0/1")).toThrow(
      /--rate <max> \(before the \/\) must be a whole number from 1/,
    );
    expect(() => rate("1.5/1")).toThrow(/--rate must be <max>\/<seconds>/);
    expect(() => rate("5/0")).toThrow(/--rate <seconds> \(after the \/\) must be more than 0/);
    expect(() => rate("5/99999999")).toThrow(/at most 31536000/);
    const concurrency = concurrencyOption("--group-concurrency");
    expect(concurrency("4")).toBe(4);
    expect(concurrency("none")).toBe(NONE);
    for (const bad of ["-1", "0", "1.5", "x", "", "2000000"]) {
      expect(() => concurrency(bad)).toThrow(
        /--group-concurrency must be a whole number from 1 to 1000000/,
      );
    }
  });
});
