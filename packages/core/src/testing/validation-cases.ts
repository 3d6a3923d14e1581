import { expect, it } from "vitest";
import { JobsError, JobValidationError } from "../errors.js";
import type { JobQueue } from "../job-queue.js";
import type { SuiteContext } from "./context.js";

/** Enqueues one good job, runs `bad`, and checks it threw a clear error and changed nothing. */
async function rejects(
  queue: JobQueue,
  bad: () => Promise<unknown>,
  field?: RegExp,
): Promise<void> {
  const before = await queue.stats();
  let error: unknown;
  try {
    await bad();
  } catch (e) {
    error = e;
  }
  expect(error, "expected the call to throw").toBeInstanceOf(JobValidationError);
  expect(error).toBeInstanceOf(JobsError);
  const e = error as JobValidationError;
  expect(e.code).toMatch(/^ERR_/);
  expect(e.message.length).toBeGreaterThan(20);
  if (field) expect(e.field).toMatch(field);
  expect(await queue.stats()).toEqual(before);
}

export function validationCases(ctx: SuiteContext): void {
  async function withGoodJob() {
    const made = await ctx.make();
    const good = await made.queue.enqueue("good", { keep: true });
    return { ...made, good };
  }

  it("rejects bad job names: empty, blank, not a string, too long", async () => {
    const { queue, good } = await withGoodJob();
    for (const name of ["", "   ", 42, null, undefined, {}, "x".repeat(10_000)]) {
      await rejects(queue, () => queue.enqueue(name as string, {}), /name/);
    }
    const job = await queue.reserveNext();
    expect(job).toMatchObject({ id: good.id, payload: { keep: true } });
  });

  it("rejects payloads JSON cannot carry, naming the offending path", async () => {
    const { queue } = await withGoodJob();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const bad: unknown[] = [
      undefined,
      null,
      "string",
      42,
      [1, 2],
      { f: () => 1 },
      { n: 10n },
      cyclic,
      { nan: Number.NaN },
      { inf: Number.POSITIVE_INFINITY },
      { u: undefined },
      { d: new Date() },
      { m: new Map() },
      { deep: { list: [1, { s: Symbol("x") }] } },
      // biome-ignore lint/suspicious/noSparseArray: a sparse array is the point
      { sparse: [1, , 3] },
    ];
    for (const payload of bad) {
      await rejects(queue, () => queue.enqueue("x", payload as never), /payload/);
    }
  });

  it("names the nested field of a bad payload value", async () => {
    const { queue } = await ctx.make();
    await expect(queue.enqueue("x", { user: { id: 10n } } as never)).rejects.toMatchObject({
      field: "payload.user.id",
    });
  });

  it("rejects a payload over the size limit (1 MiB by default)", async () => {
    const { queue } = await withGoodJob();
    const big = { blob: "x".repeat(1024 * 1024 + 10) };
    await rejects(queue, () => queue.enqueue("big", big));
    await expect(queue.enqueue("big", big)).rejects.toMatchObject({
      code: "ERR_PAYLOAD_TOO_LARGE",
    });
  });

  it("rejects negative, NaN or infinite delays, attempts and backoffs, and unknown options", async () => {
    const { queue } = await withGoodJob();
    const badOpts: unknown[] = [
      { delaySeconds: -1 },
      { delaySeconds: Number.NaN },
      { delaySeconds: Number.POSITIVE_INFINITY },
      { delaySeconds: "10" },
      { maxAttempts: 0 },
      { maxAttempts: -3 },
      { maxAttempts: 1.5 },
      { maxAttempts: Number.NaN },
      { maxAttempts: Number.POSITIVE_INFINITY },
      { backoffSeconds: -5 },
      { backoffSeconds: Number.NaN },
      { dedupeKey: "" },
      { dedupeKey: 5 },
      { delay: 10 },
      "fast",
    ];
    for (const opts of badOpts) {
      await rejects(queue, () => queue.enqueue("x", {}, opts as never), /opts/);
    }
  });

  it("enqueueMany validates every item before writing any", async () => {
    const { queue } = await withGoodJob();
    await rejects(
      queue,
      () =>
        queue.enqueueMany([
          { name: "ok", payload: {} },
          { name: "ok2", payload: {} },
          { name: "bad", payload: { n: 1n } as never },
        ]),
      /items\[2\]\.payload/,
    );
    await rejects(queue, () => queue.enqueueMany([{ name: "", payload: {} }]), /items\[0\]\.name/);
    await rejects(queue, () => queue.enqueueMany("nope" as never));
    expect((await queue.stats()).ready).toBe(1);
  });

  it("rejects a bad extendVisibility duration without touching the reservation", async () => {
    const { queue } = await withGoodJob();
    const job = await queue.reserveNext();
    for (const seconds of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await rejects(queue, () => queue.extendVisibility(job!, seconds));
    }
    await queue.ack(job!);
    expect((await queue.stats()).processing).toBe(0);
  });

  it("rejects a bad blockSeconds", async () => {
    const { queue } = await withGoodJob();
    await rejects(queue, () => queue.reserveNext({ blockSeconds: -1 }));
    await rejects(queue, () => queue.reserveNext({ blockSeconds: Number.NaN }));
    expect((await queue.stats()).ready).toBe(1);
  });
}
