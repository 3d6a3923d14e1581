import {
  ConfigError,
  defaultTimeoutSeconds,
  InMemoryJobQueue,
  JobsError,
  JobTimeoutError,
  JobValidationError,
  PayloadTooLargeError,
  QueueClosedError,
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
