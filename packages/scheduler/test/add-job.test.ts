import { InMemoryJobQueue, ManualClock } from "@svc-jobs/core";
import { ScheduleConfigError, Scheduler } from "@svc-jobs/scheduler";
import { describe, expect, it } from "vitest";
import { recordingLogger } from "./helpers.js";

function setup() {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const queue = new InMemoryJobQueue({ clock });
  const logger = recordingLogger();
  const scheduler = new Scheduler({ clock, logger });
  return { clock, queue, logger, scheduler };
}

async function drain(queue: InMemoryJobQueue) {
  const jobs = [];
  for (let job = await queue.reserveNext(); job; job = await queue.reserveNext()) {
    jobs.push(job);
    await queue.ack(job);
  }
  return jobs;
}

describe("addJob", () => {
  it("enqueues the job with its payload each interval instead of calling a function", async () => {
    const { clock, queue, scheduler } = setup();
    await scheduler.addJob("outbox", {
      intervalSeconds: 5,
      queue,
      jobName: "outbox.tick",
      payload: { batch: 100 },
    });
    clock.advance(4);
    await scheduler.tick();
    expect((await queue.stats()).ready).toBe(0);
    clock.advance(1);
    await scheduler.tick();
    clock.advance(5);
    await scheduler.tick();
    const jobs = await drain(queue);
    expect(jobs.map((j) => [j.name, j.payload])).toEqual([
      ["outbox.tick", { batch: 100 }],
      ["outbox.tick", { batch: 100 }],
    ]);
  });

  it("defaults the payload to {} and hands each job its own copy", async () => {
    const { clock, queue, scheduler } = setup();
    const payload = { list: [1] };
    await scheduler.addJob("a", { intervalSeconds: 1, queue, jobName: "a" });
    await scheduler.addJob("b", { intervalSeconds: 1, queue, jobName: "b", payload });
    payload.list.push(2); // changing the caller's object later does not leak into jobs
    clock.advance(1);
    await scheduler.tick();
    const jobs = await drain(queue);
    expect(jobs.map((j) => j.payload)).toEqual([{}, { list: [1] }]);
  });

  it("aligned interval jobs fall due on the epoch grid", async () => {
    const { clock, queue, scheduler } = setup();
    clock.advance(7);
    await scheduler.addJob("tick", { intervalSeconds: 10, aligned: true, queue, jobName: "t" });
    expect((await scheduler.nextRunAt("tick"))?.toISOString()).toBe("2026-01-01T00:00:10.000Z");
  });

  it("calls payloadFactory at each run", async () => {
    const { clock, queue, scheduler } = setup();
    let n = 0;
    await scheduler.addJob("digest", {
      intervalSeconds: 60,
      queue,
      jobName: "send_digest",
      payloadFactory: async ({ scheduledAt }) => ({ run: ++n, at: scheduledAt.toISOString() }),
    });
    clock.advance(60);
    await scheduler.tick();
    clock.advance(60);
    await scheduler.tick();
    const jobs = await drain(queue);
    expect(jobs.map((j) => j.payload)).toEqual([
      { run: 1, at: "2026-01-01T00:01:00.000Z" },
      { run: 2, at: "2026-01-01T00:02:00.000Z" },
    ]);
  });

  it("enqueues on a cron schedule in a time zone, with enqueue options", async () => {
    const { clock, queue, scheduler } = setup();
    await scheduler.addJob("nightly", {
      cron: "0 2 * * *",
      timezone: "Asia/Tokyo",
      queue,
      jobName: "nightly_report",
      enqueueOptions: { delaySeconds: 30, maxAttempts: 2 },
    });
    expect((await scheduler.nextRunAt("nightly"))?.toISOString()).toBe("2026-01-01T17:00:00.000Z");
    clock.set(Date.parse("2026-01-01T17:00:00Z"));
    await scheduler.tick();
    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 1 });
    clock.advance(30);
    const job = await queue.reserveNext();
    expect(job?.name).toBe("nightly_report");
    expect(job?.maxAttempts).toBe(2);
  });

  it("a failing enqueue is logged and retried at the next run", async () => {
    const { clock, logger, scheduler } = setup();
    let calls = 0;
    const queue = {
      async enqueue() {
        calls++;
        throw new Error("redis down");
      },
    };
    await scheduler.addJob("x", { intervalSeconds: 1, queue: queue as never, jobName: "x" });
    clock.advance(1);
    await scheduler.tick();
    clock.advance(1);
    await scheduler.tick();
    expect(calls).toBe(2);
    expect(logger.records.filter((r) => r.level === "error")).toHaveLength(2);
  });

  it("rejects bad options with a ScheduleConfigError naming the field", async () => {
    const { queue, scheduler } = setup();
    const ok = { intervalSeconds: 5, queue, jobName: "j" };
    const cases: [unknown, string][] = [
      [null, "options"],
      [{ queue, jobName: "j" }, "intervalSeconds"],
      [{ ...ok, cron: "* * * * *" }, "cron"],
      [{ ...ok, intervalSeconds: 0 }, "intervalSeconds"],
      [{ ...ok, timezone: "UTC" }, "timezone"],
      [{ ...ok, queue: undefined }, "queue"],
      [{ ...ok, queue: {} }, "queue"],
      [{ ...ok, jobName: "" }, "jobName"],
      [{ ...ok, jobName: 7 }, "jobName"],
      [{ ...ok, payload: [1] }, "payload"],
      [{ ...ok, payload: { when: new Date() } }, "payload.when"],
      [{ ...ok, payload: {}, payloadFactory: () => ({}) }, "payloadFactory"],
      [{ ...ok, payloadFactory: "x" }, "payloadFactory"],
      [{ ...ok, enqueueOptions: { delaySeconds: -1 } }, "enqueueOptions.delaySeconds"],
      [{ ...ok, job_name: "j" }, "job_name"],
      [{ cron: "* * *", queue, jobName: "j" }, "cron"],
      [{ cron: "* * * * *", aligned: true, queue, jobName: "j" }, "aligned"],
      [{ ...ok, aligned: 1 }, "aligned"],
    ];
    for (const [options, field] of cases) {
      const error = await scheduler.addJob("bad", options as never).catch((e: unknown) => e);
      expect(error, JSON.stringify(field)).toBeInstanceOf(ScheduleConfigError);
      expect((error as ScheduleConfigError).field).toBe(field);
    }
    expect(scheduler.taskNames).toEqual([]);
  });
});
