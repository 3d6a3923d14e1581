import { Console } from "node:console";
import { PassThrough, Writable } from "node:stream";
import { format } from "node:util";
import { ManualClock } from "@svc-jobs/core";
import { consoleSchedulerLogger, Scheduler, type SchedulerLogger } from "@svc-jobs/scheduler";
import { type Logger, pino } from "pino";
import { afterEach, describe, expect, expectTypeOf, it, vi } from "vitest";
import { SwitchLeader } from "./helpers.js";

const FAILED = 'scheduler: task "cleanup" failed; it runs again at its next due time';

/** A pino logger writing JSON lines into an array. */
function pinoLines(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const log = pino({ level: "info" }, stream);
  return {
    log,
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** A real `Console` writing into a string, as `console` writes to the terminal. */
function capturedConsole(): { target: Console; text: () => string } {
  let text = "";
  const sink = new PassThrough();
  sink.on("data", (d) => {
    text += String(d);
  });
  return {
    target: new Console({ stdout: sink, stderr: sink }),
    text: () => text,
  };
}

async function failOnce(scheduler: Scheduler, clock: ManualClock, error: unknown) {
  await scheduler.addTask("cleanup", 1, () => {
    throw error;
  });
  clock.advance(1);
  await scheduler.tick();
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a pino logger", () => {
  it("fits the logger option as it is", () => {
    expectTypeOf<Logger>().toExtend<SchedulerLogger>();
  });

  it("gets the failed task's error with its message and stack in the JSON line", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const { log, lines } = pinoLines();
    const scheduler = new Scheduler({ clock, logger: log });
    await failOnce(scheduler, clock, new TypeError("disk full"));
    const [line] = lines();
    expect(line).toMatchObject({ level: 50, msg: FAILED, task: "cleanup" });
    const err = line?.err as { type: string; message: string; stack: string };
    expect(err.type).toBe("TypeError");
    expect(err.message).toBe("disk full");
    expect(err.stack).toMatch(/^TypeError: disk full\n\s+at /);
  });

  it("gets leadership changes and a failing acquire() as lines with their message", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const { log, lines } = pinoLines();
    const leader = new SwitchLeader();
    const scheduler = new Scheduler({ clock, logger: log, leader });
    await scheduler.tick();
    leader.fail = new Error("redis unreachable");
    await scheduler.tick();
    const [became, failed, lost] = lines();
    expect(became).toMatchObject({ level: 30, msg: "scheduler: became leader" });
    expect(lost).toMatchObject({ level: 30, msg: "scheduler: lost leadership" });
    expect(failed).toMatchObject({
      level: 40,
      msg: "scheduler: leader.acquire() failed; no tasks fire until it succeeds",
      err: { type: "Error", message: "redis unreachable" },
    });
    expect(JSON.stringify(lines())).not.toContain("undefined");
  });

  it("gets skipped overruns with the task's name", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const { log, lines } = pinoLines();
    const scheduler = new Scheduler({ clock, logger: log });
    let release = () => {};
    await scheduler.addTask(
      "slow",
      1,
      () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    );
    clock.advance(1);
    const first = scheduler.tick();
    clock.advance(1);
    await scheduler.tick();
    release();
    await first;
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 40,
        task: "slow",
        msg: expect.stringContaining("skipping"),
      }),
    ]);
  });
});

describe("console", () => {
  it("is the default: a message without fields is printed alone, never followed by undefined", async () => {
    const info = vi.spyOn(console, "info").mockImplementation(() => {});
    const scheduler = new Scheduler({ leader: new SwitchLeader() });
    await scheduler.tick();
    expect(info.mock.calls).toEqual([["scheduler: became leader"]]);
  });

  it("is the default: a failed task prints the message, then the error with its stack", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const boom = new Error("boom");
    await failOnce(new Scheduler({ clock }), clock, boom);
    expect(error).toHaveBeenCalledTimes(1);
    const args = error.mock.calls[0] ?? [];
    expect(args[0]).toBe(FAILED);
    expect(args.at(-1)).toBe(boom);
    const printed = format(...args);
    expect(printed).toContain("Error: boom\n    at ");
    expect(printed).not.toContain("undefined");
  });

  it("passed explicitly as logger: console, it is adapted the same way", async () => {
    const info = vi.spyOn(console, "info").mockImplementation(() => {});
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const leader = new SwitchLeader();
    const scheduler = new Scheduler({ leader, logger: console });
    await scheduler.tick();
    leader.fail = new Error("redis unreachable");
    await scheduler.tick();
    expect(info.mock.calls).toEqual([["scheduler: became leader"], ["scheduler: lost leadership"]]);
    expect(warn.mock.calls).toEqual([
      ["scheduler: leader.acquire() failed; no tasks fire until it succeeds", leader.fail],
    ]);
  });

  it("consoleSchedulerLogger writes what a terminal shows: message, fields when present, stack", async () => {
    const { target, text } = capturedConsole();
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const scheduler = new Scheduler({
      clock,
      leader: new SwitchLeader(),
      logger: consoleSchedulerLogger(target),
    });
    await failOnce(scheduler, clock, new RangeError("out of range"));
    const out = text();
    expect(out).toContain("scheduler: became leader\n");
    expect(out).toContain(`${FAILED} { task: 'cleanup' } RangeError: out of range\n    at `);
    expect(out).not.toContain("undefined");
  });

  it("a thrown non-Error value is printed as it is", async () => {
    const { target, text } = capturedConsole();
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const scheduler = new Scheduler({ clock, logger: consoleSchedulerLogger(target) });
    await failOnce(scheduler, clock, "a string");
    expect(text()).toBe(`${FAILED} { task: 'cleanup' } a string\n`);
  });
});
