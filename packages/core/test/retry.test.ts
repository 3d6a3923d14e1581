import {
  exponentialRetry,
  InMemoryJobQueue,
  JobsError,
  JobValidationError,
  linearRetry,
  ManualClock,
  retryDelaySeconds,
} from "@svc-jobs/core";
import { validateRetryStrategy } from "@svc-jobs/core/backend";
import { describe, expect, it } from "vitest";

describe("retryDelaySeconds", () => {
  it("linear: backoffSeconds * attempts (the documented 60, 120, 180, 240)", () => {
    expect([1, 2, 3, 4].map((n) => retryDelaySeconds(linearRetry, n, 60))).toEqual([
      60, 120, 180, 240,
    ]);
  });

  it("exponential: doubles from the base, capped, without jitter when jitter is 0", () => {
    const s = exponentialRetry({ factor: 2, maxSeconds: 300, jitter: 0 });
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelaySeconds(s, n, 10))).toEqual([
      10, 20, 40, 80, 160, 300,
    ]);
  });

  it("exponential jitter removes at most the jitter share of the delay", () => {
    const s = exponentialRetry({ factor: 2, maxSeconds: 1000, jitter: 0.5 });
    expect(retryDelaySeconds(s, 3, 10, 0)).toBe(40);
    expect(retryDelaySeconds(s, 3, 10, 0.999999)).toBeCloseTo(20, 3);
    for (let i = 0; i < 100; i++) {
      const d = retryDelaySeconds(s, 3, 10);
      expect(d).toBeGreaterThan(20);
      expect(d).toBeLessThanOrEqual(40);
    }
  });

  it("rejects out-of-range parameters with a JobValidationError naming the field", () => {
    const cases: [() => unknown, string, RegExp][] = [
      [() => exponentialRetry({ factor: 0.5 }), "retry.factor", /factor must be .* >= 1/],
      [() => exponentialRetry({ jitter: 2 }), "retry.jitter", /jitter must be .* between 0 and 1/],
      [() => exponentialRetry({ maxSeconds: -1 }), "retry.maxSeconds", /maxSeconds must be/],
      [
        () => new InMemoryJobQueue({ retry: { kind: "fibonacci" } as never }),
        "retry",
        /unknown retry strategy kind "fibonacci"/,
      ],
      [() => validateRetryStrategy(null as never), "retry", /retry must be a retry strategy/],
    ];
    for (const [fn, field, message] of cases) {
      const error = catchError(fn);
      expect(error).toBeInstanceOf(JobValidationError);
      expect(error).toBeInstanceOf(JobsError);
      expect(error).not.toBeInstanceOf(RangeError);
      expect(error).toMatchObject({ code: "ERR_JOB_VALIDATION", field });
      expect((error as Error).message).toMatch(message);
    }
  });

  it("a queue with the exponential strategy schedules retries by it", async () => {
    const clock = new ManualClock();
    const queue = new InMemoryJobQueue({
      clock,
      retry: exponentialRetry({ jitter: 0, maxSeconds: 25 }),
    });
    await queue.enqueue("x", {}, { backoffSeconds: 10 });
    const expected = [10, 20, 25, 25];
    for (const delay of expected) {
      await queue.fail((await queue.reserveNext())!, new Error("e"));
      clock.advance(delay - 0.5);
      expect(await queue.reserveNext()).toBeNull();
      clock.advance(0.5);
    }
    expect((await queue.reserveNext())?.attempts).toBe(5);
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
