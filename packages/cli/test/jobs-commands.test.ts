import { Writable } from "node:stream";
import { CliError, EXIT_RUNTIME, EXIT_USAGE } from "@svc-jobs/cli";
import { InMemoryJobQueue, type JobQueue } from "@svc-jobs/core";
import { describe, expect, it } from "vitest";
import { eventsCommand } from "../src/events-command.js";
import {
  jobsCancelCommand,
  jobsCountCommand,
  jobsListCommand,
  jobsRetryCommand,
  jobsShowCommand,
} from "../src/jobs-command.js";
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
