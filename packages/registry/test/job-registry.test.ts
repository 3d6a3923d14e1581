import {
  ConfigError,
  JobTimeoutError as CoreJobTimeoutError,
  type Job,
  JobsError,
  JobValidationError,
  type JsonObject,
} from "@svc-jobs/core";
import {
  DuplicateHandlerError,
  InvalidJobResultError,
  JobFailedError,
  JobRegistry,
  type JobResult,
  JobTimeoutError,
  UnknownJobError,
} from "@svc-jobs/registry";
import { afterEach, describe, expect, it, vi } from "vitest";

let nextId = 1;
function makeJob<P extends JsonObject>(name: string, payload: P = {} as P): Job<P> {
  return {
    id: String(nextId++),
    name,
    payload,
    availableAt: new Date(),
    attempts: 1,
    maxAttempts: 5,
    backoffSeconds: 60,
    lastError: null,
  };
}

/** A handler that only ends when its signal fires, rejecting with the signal's reason. */
function untilAborted(seen: { signal?: AbortSignal } = {}) {
  return (_job: Job, { signal }: { signal: AbortSignal }) =>
    new Promise<undefined>((_, reject) => {
      seen.signal = signal;
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
}

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

describe("registration", () => {
  it("register, hasHandler, getHandler and listHandlers see the same handlers", () => {
    const registry = new JobRegistry({ metrics: false });
    const sendEmail = async () => ({ success: true, message: "sent" });
    const report = async () => {};
    expect(registry.register("send_email", sendEmail)).toBe(registry);
    registry.register("generate_report", report);

    expect(registry.hasHandler("send_email")).toBe(true);
    expect(registry.hasHandler("nope")).toBe(false);
    expect(registry.getHandler("send_email")).toBe(sendEmail);
    expect(registry.getHandler("generate_report")).toBe(report);
    expect(registry.getHandler("nope")).toBeUndefined();
    expect(registry.listHandlers()).toEqual(["send_email", "generate_report"]);
  });

  it("handler(name) registers the function and returns it unchanged", async () => {
    const registry = new JobRegistry({ metrics: false });
    const fn = async (job: Job<{ to: string }>): Promise<JobResult> => ({
      success: true,
      message: `sent to ${job.payload.to}`,
    });
    const returned = registry.handler("send_email")(fn);
    expect(returned).toBe(fn);
    expect(registry.getHandler("send_email")).toBe(fn);
    await expect(registry.dispatch(makeJob("send_email", { to: "a@b.c" }))).resolves.toEqual({
      success: true,
      message: "sent to a@b.c",
    });
  });

  it("registering a name twice throws DuplicateHandlerError and keeps the first handler", () => {
    const registry = new JobRegistry({ metrics: false });
    const first = () => {};
    registry.register("x", first);
    const error = catchError(() => registry.register("x", () => {}));
    expect(error).toBeInstanceOf(DuplicateHandlerError);
    expect(error).toBeInstanceOf(JobsError);
    expect(error).toMatchObject({ code: "ERR_DUPLICATE_HANDLER", jobName: "x" });
    expect((error as Error).message).toMatch(/replace: true/);
    expect(registry.getHandler("x")).toBe(first);
    expect(() => registry.handler("x")(() => {})).toThrow(DuplicateHandlerError);
    expect(registry.getHandler("x")).toBe(first);
  });

  it("{ replace: true } replaces a handler, in both forms", () => {
    const registry = new JobRegistry({ metrics: false });
    const second = () => {};
    const third = () => {};
    registry.register("x", () => {});
    registry.register("x", second, { replace: true });
    expect(registry.getHandler("x")).toBe(second);
    registry.handler("x", { replace: true })(third);
    expect(registry.getHandler("x")).toBe(third);
    expect(registry.listHandlers()).toEqual(["x"]);
  });

  it("unregister removes a handler", () => {
    const registry = new JobRegistry({ metrics: false });
    registry.register("x", () => {});
    expect(registry.unregister("x")).toBe(true);
    expect(registry.unregister("x")).toBe(false);
    expect(registry.hasHandler("x")).toBe(false);
    expect(registry.listHandlers()).toEqual([]);
  });

  it("rejects a bad name or a handler that is not a function, registering nothing", () => {
    const registry = new JobRegistry({ metrics: false });
    expect(() => registry.register("", () => {})).toThrow(JobValidationError);
    expect(() => registry.register(42 as unknown as string, () => {})).toThrow(JobValidationError);
    expect(() => registry.handler("  ")).toThrow(JobValidationError);
    const error = catchError(() => registry.register("x", "nope" as never));
    expect(error).toBeInstanceOf(JobValidationError);
    expect(error).toMatchObject({ field: "handler" });
    expect((error as Error).message).toMatch(/must be a function/);
    expect(registry.listHandlers()).toEqual([]);
  });

  it("rejects bad constructor options with ConfigError", () => {
    expect(() => new JobRegistry({ metricPrefix: "my-app" })).toThrow(ConfigError);
    expect(() => new JobRegistry({ metricPrefix: "1jobs" })).toThrow(/metricPrefix/);
    expect(() => new JobRegistry({ durationBuckets: [1, 0.5] })).toThrow(/durationBuckets/);
    expect(() => new JobRegistry({ durationBuckets: [] })).toThrow(ConfigError);
    expect(() => new JobRegistry({ timeoutSeconds: -1 })).toThrow(JobValidationError);
    expect(() => new JobRegistry({ timeoutSeconds: 0 })).toThrow(/timeoutSeconds/);
    expect(new JobRegistry({ metricPrefix: "myapp:jobs_2", metrics: false }).metricPrefix).toBe(
      "myapp:jobs_2",
    );
  });
});

describe("dispatch", () => {
  it("passes the job and a signal to the handler and resolves with its JobResult", async () => {
    const registry = new JobRegistry({ metrics: false });
    let seen: { job: Job; signal: AbortSignal } | undefined;
    registry.register("charge", (job, { signal }) => {
      seen = { job, signal };
      return { success: true, message: "charged", details: { amount: 5 } };
    });
    const job = makeJob("charge", { amount: 5 });
    const result = await registry.dispatch(job);
    expect(result).toEqual({ success: true, message: "charged", details: { amount: 5 } });
    expect(seen?.job).toBe(job);
    expect(seen?.signal).toBeInstanceOf(AbortSignal);
    expect(seen?.signal.aborted).toBe(false);
  });

  it("a handler returning nothing (sync or async) counts as success", async () => {
    const registry = new JobRegistry({ metrics: false });
    registry.register("sync", () => undefined);
    registry.register("async", async () => {});
    for (const name of ["sync", "async"]) {
      const result = await registry.dispatch(makeJob(name));
      expect(result.success).toBe(true);
      expect(result.message).toContain(name);
    }
  });

  it("resolves with success: false results instead of throwing", async () => {
    const registry = new JobRegistry({ metrics: false });
    registry.register("pay", async () => ({ success: false, message: "card declined" }));
    await expect(registry.dispatch(makeJob("pay"))).resolves.toEqual({
      success: false,
      message: "card declined",
    });
  });

  it("throws UnknownJobError (with jobName) for a name without a handler", async () => {
    const registry = new JobRegistry({ metrics: false });
    registry.register("known", () => {});
    const error = await registry.dispatch(makeJob("unknown")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownJobError);
    expect(error).toBeInstanceOf(JobsError);
    expect(error).toMatchObject({ code: "ERR_UNKNOWN_JOB", jobName: "unknown" });
    expect((error as Error).message).toMatch(/"unknown".*registered: known/);
  });

  it("rethrows what the handler throws, sync or async", async () => {
    const registry = new JobRegistry({ metrics: false });
    const boom = new TypeError("boom");
    registry.register("sync", () => {
      throw boom;
    });
    registry.register("async", async () => {
      throw boom;
    });
    await expect(registry.dispatch(makeJob("sync"))).rejects.toBe(boom);
    await expect(registry.dispatch(makeJob("async"))).rejects.toBe(boom);
  });

  it("times out: fires the handler's signal and rejects with JobTimeoutError", async () => {
    const registry = new JobRegistry({ metrics: false });
    const seen: { signal?: AbortSignal } = {};
    registry.register("slow", untilAborted(seen));
    const error = await registry
      .dispatch(makeJob("slow"), { timeoutSeconds: 0.05 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobTimeoutError);
    expect(error).toBeInstanceOf(JobsError);
    expect(error).toMatchObject({ code: "ERR_JOB_TIMEOUT", jobName: "slow", timeoutSeconds: 0.05 });
    expect(seen.signal?.aborted).toBe(true);
    expect(seen.signal?.reason).toBe(error);
  });

  it("re-exports core's JobTimeoutError class rather than a second one", () => {
    expect(JobTimeoutError).toBe(CoreJobTimeoutError);
  });

  it("reports a TimeoutError the handler throws itself as that error, not a registry timeout", async () => {
    const registry = new JobRegistry({ metrics: false });
    const own = new DOMException("upstream took too long", "TimeoutError");
    const nested = new CoreJobTimeoutError("inner", 1);
    registry.register("dom", async () => {
      throw own;
    });
    registry.register("nested", async () => {
      throw nested;
    });
    await expect(registry.dispatch(makeJob("dom"), { timeoutSeconds: 10 })).rejects.toBe(own);
    await expect(registry.dispatch(makeJob("nested"), { timeoutSeconds: 10 })).rejects.toBe(nested);
  });

  it("defaults to a 300 s timeout", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const registry = new JobRegistry({ metrics: false });
    const seen: { signal?: AbortSignal } = {};
    registry.register("slow", untilAborted(seen));
    const outcome = registry.dispatch(makeJob("slow")).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(299_900);
    expect(seen.signal?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    const error = await outcome;
    expect(error).toBeInstanceOf(JobTimeoutError);
    expect(error).toMatchObject({ timeoutSeconds: 300 });
  });

  it("takes its default timeout from the registry option or JOB_DEFAULT_TIMEOUT_SECONDS", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    vi.stubEnv("JOB_DEFAULT_TIMEOUT_SECONDS", "20");
    const fromEnv = new JobRegistry({ metrics: false }).register("slow", untilAborted());
    const fromOption = new JobRegistry({ metrics: false, timeoutSeconds: 7 }).register(
      "slow",
      untilAborted(),
    );
    const envOutcome = fromEnv.dispatch(makeJob("slow")).catch((e: unknown) => e);
    const optionOutcome = fromOption.dispatch(makeJob("slow")).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(await envOutcome).toMatchObject({ name: "JobTimeoutError", timeoutSeconds: 20 });
    expect(await optionOutcome).toMatchObject({ name: "JobTimeoutError", timeoutSeconds: 7 });

    vi.stubEnv("JOB_DEFAULT_TIMEOUT_SECONDS", "soon");
    expect(() => new JobRegistry({ metrics: false })).toThrow(ConfigError);
  });

  it("timeoutSeconds: Infinity means no timeout", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const registry = new JobRegistry({ metrics: false });
    const seen: { signal?: AbortSignal } = {};
    let finish: (() => void) | undefined;
    registry.register("long", (_job, { signal }) => {
      seen.signal = signal;
      return new Promise<undefined>((resolve) => {
        finish = () => resolve(undefined);
      });
    });
    const outcome = registry.dispatch(makeJob("long"), {
      timeoutSeconds: Number.POSITIVE_INFINITY,
    });
    await vi.advanceTimersByTimeAsync(10 * 86_400_000);
    expect(seen.signal?.aborted).toBe(false);
    finish?.();
    await expect(outcome).resolves.toMatchObject({ success: true });
  });

  it("rejects a bad timeout or a non-job before running anything", async () => {
    const registry = new JobRegistry({ metrics: false });
    const handler = vi.fn();
    registry.register("x", handler);
    await expect(registry.dispatch(makeJob("x"), { timeoutSeconds: 0 })).rejects.toThrow(
      JobValidationError,
    );
    await expect(registry.dispatch(makeJob("x"), { timeoutSeconds: Number.NaN })).rejects.toThrow(
      /timeoutSeconds/,
    );
    await expect(registry.dispatch(null as unknown as Job)).rejects.toThrow(JobValidationError);
    expect(handler).not.toHaveBeenCalled();
  });

  it("forwards an outer signal to the handler's signal", async () => {
    const registry = new JobRegistry({ metrics: false });
    const seen: { signal?: AbortSignal } = {};
    registry.register("slow", untilAborted(seen));
    const outer = new AbortController();
    const outcome = registry
      .dispatch(makeJob("slow"), { signal: outer.signal })
      .catch((e: unknown) => e);
    const reason = new Error("worker stopping");
    outer.abort(reason);
    expect(await outcome).toBe(reason);
    expect(seen.signal?.reason).toBe(reason);

    const already = AbortSignal.abort(reason);
    await expect(registry.dispatch(makeJob("slow"), { signal: already })).rejects.toBe(reason);
  });

  it("throws InvalidJobResultError when a handler returns something that is not a JobResult", async () => {
    const registry = new JobRegistry({ metrics: false });
    const bad: unknown[] = [
      42,
      "done",
      [],
      { ok: true },
      { success: "yes", message: "x" },
      { success: true },
      { success: true, message: "x", details: "nope" },
    ];
    for (const [i, value] of bad.entries()) {
      registry.register(`bad${i}`, (() => value) as never);
      const error = await registry.dispatch(makeJob(`bad${i}`)).catch((e: unknown) => e);
      expect(error, JSON.stringify(value)).toBeInstanceOf(InvalidJobResultError);
      expect(error).toMatchObject({ code: "ERR_INVALID_JOB_RESULT", jobName: `bad${i}` });
      expect((error as Error).message).toMatch(/return a JobResult/);
    }
  });
});

describe("asHandler", () => {
  it("returns a core handler that dispatches and throws JobFailedError on success: false", async () => {
    const registry = new JobRegistry({ metrics: false });
    registry.register("ok", () => ({ success: true, message: "fine" }));
    registry.register("bad", () => ({ success: false, message: "card declined" }));
    const handler = registry.asHandler();
    const signal = new AbortController().signal;
    const context = { signal, progress: async () => {} };
    await expect(handler(makeJob("ok"), context)).resolves.toEqual({
      success: true,
      message: "fine",
    });
    const error = await Promise.resolve(handler(makeJob("bad"), context)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error).toMatchObject({
      code: "ERR_JOB_FAILED",
      message: "card declined",
      jobName: "bad",
      result: { success: false, message: "card declined" },
    });
    await expect(Promise.resolve(handler(makeJob("nope"), context))).rejects.toThrow(
      UnknownJobError,
    );
  });

  it("validates its timeout up front", () => {
    const registry = new JobRegistry({ metrics: false });
    expect(() => registry.asHandler({ timeoutSeconds: -5 })).toThrow(JobValidationError);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}
