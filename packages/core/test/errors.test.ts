import {
  ConfigError,
  defaultTimeoutSeconds,
  InMemoryJobQueue,
  JobsError,
  JobTimeoutError,
  JobValidationError,
  ManualClock,
  PayloadTooLargeError,
  QueueClosedError,
  resolveTimeoutSeconds,
  WorkerRunner,
} from "@svc-jobs/core";
import { describe, expect, it } from "vitest";

describe("errors", () => {
  it("every error is a JobsError with a stable code and its class name", () => {
    const cases: [JobsError, string][] = [
      [new JobValidationError("payload", "bad"), "ERR_JOB_VALIDATION"],
      [new PayloadTooLargeError(10, 5), "ERR_PAYLOAD_TOO_LARGE"],
      [new QueueClosedError(), "ERR_QUEUE_CLOSED"],
      [new JobTimeoutError("x", 3), "ERR_JOB_TIMEOUT"],
      [new ConfigError("bad"), "ERR_CONFIG"],
    ];
    for (const [error, code] of cases) {
      expect(error).toBeInstanceOf(JobsError);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(code);
      expect(error.name).toBe(error.constructor.name);
    }
  });

  it("keeps the cause", () => {
    const cause = new Error("root");
    expect(new JobsError("wrapped", { cause }).cause).toBe(cause);
  });

  it("a closed queue refuses further calls with QueueClosedError", async () => {
    const queue = new InMemoryJobQueue();
    await queue.close();
    await expect(queue.enqueue("x", {})).rejects.toBeInstanceOf(QueueClosedError);
    await expect(queue.reserveNext()).rejects.toBeInstanceOf(QueueClosedError);
  });

  it("a blocked reserve returns null when the queue closes", async () => {
    const queue = new InMemoryJobQueue();
    const pending = queue.reserveNext({ blockSeconds: 30 });
    await queue.close();
    expect(await pending).toBeNull();
  });

  it("ManualClock.advance and WorkerRunner refuse bad arguments with JobValidationError, not RangeError/TypeError", () => {
    const clock = new ManualClock(1000);
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, "5" as unknown as number]) {
      const error = catchError(() => clock.advance(bad));
      expect(error).toBeInstanceOf(JobValidationError);
      expect(error).not.toBeInstanceOf(RangeError);
      expect(error).toMatchObject({ code: "ERR_JOB_VALIDATION", field: "seconds" });
      expect((error as Error).message).toMatch(
        /ManualClock.advance: seconds must be a finite number >= 0/,
      );
    }
    expect(clock.now()).toBe(1000);

    const queue = new InMemoryJobQueue();
    for (const bad of [undefined, null, "handler", {}]) {
      const error = catchError(() => new WorkerRunner(queue, bad as never));
      expect(error).toBeInstanceOf(JobValidationError);
      expect(error).not.toBeInstanceOf(TypeError);
      expect(error).toMatchObject({ code: "ERR_JOB_VALIDATION", field: "handler" });
      expect((error as Error).message).toMatch(/WorkerRunner needs a handler function/);
    }
  });

  it("rejects bad queue options", () => {
    expect(() => new InMemoryJobQueue({ visibilityTimeoutSeconds: 0 })).toThrow(JobValidationError);
    expect(() => new InMemoryJobQueue({ visibilityTimeoutSeconds: Number.NaN })).toThrow(
      /visibilityTimeoutSeconds/,
    );
    expect(() => new InMemoryJobQueue({ maxPayloadBytes: -1 })).toThrow(/maxPayloadBytes/);
  });
});

describe("JOB_DEFAULT_TIMEOUT_SECONDS", () => {
  it("is read as seconds, unset or empty means no timeout", () => {
    expect(defaultTimeoutSeconds({})).toBeUndefined();
    expect(defaultTimeoutSeconds({ JOB_DEFAULT_TIMEOUT_SECONDS: "" })).toBeUndefined();
    expect(defaultTimeoutSeconds({ JOB_DEFAULT_TIMEOUT_SECONDS: "300" })).toBe(300);
    expect(defaultTimeoutSeconds({ JOB_DEFAULT_TIMEOUT_SECONDS: "0.5" })).toBe(0.5);
  });

  it("rejects a value that is not a positive number", () => {
    for (const bad of ["abc", "0", "-5", "Infinity"]) {
      expect(() => defaultTimeoutSeconds({ JOB_DEFAULT_TIMEOUT_SECONDS: bad })).toThrow(
        ConfigError,
      );
    }
  });
});

describe("resolveTimeoutSeconds: the timeout a worker applies", () => {
  const env = { JOB_DEFAULT_TIMEOUT_SECONDS: "2" };
  const declaring = (timeoutSeconds: number) => Object.assign(() => {}, { timeoutSeconds });

  it("explicit, else the handler's timeoutSeconds, else JOB_DEFAULT_TIMEOUT_SECONDS, else none", () => {
    expect(resolveTimeoutSeconds(600, declaring(60), env)).toBe(600);
    expect(resolveTimeoutSeconds(undefined, declaring(60), env)).toBe(60);
    expect(resolveTimeoutSeconds(undefined, () => {}, env)).toBe(2);
    expect(resolveTimeoutSeconds(undefined, undefined, env)).toBe(2);
    expect(resolveTimeoutSeconds(undefined, () => {}, {})).toBeUndefined();
  });

  it("a handler's Infinity means no timeout, even with JOB_DEFAULT_TIMEOUT_SECONDS set", () => {
    expect(resolveTimeoutSeconds(undefined, declaring(Number.POSITIVE_INFINITY), env)).toBe(
      undefined,
    );
  });

  it("validates what it uses, and reads a bad environment only when it gets that far", () => {
    expect(() => resolveTimeoutSeconds(0, undefined, env)).toThrow(JobValidationError);
    expect(() => resolveTimeoutSeconds(undefined, declaring(-1), env)).toThrow(
      /handler's timeoutSeconds/,
    );
    expect(() =>
      resolveTimeoutSeconds(undefined, () => {}, { JOB_DEFAULT_TIMEOUT_SECONDS: "x" }),
    ).toThrow(ConfigError);
    expect(resolveTimeoutSeconds(5, undefined, { JOB_DEFAULT_TIMEOUT_SECONDS: "x" })).toBe(5);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}
