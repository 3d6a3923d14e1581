import {
  ConfigError,
  DEFAULT_BACKOFF_SECONDS,
  DEFAULT_MAX_ATTEMPTS,
  InMemoryJobQueue,
  JobValidationError,
  ManualClock,
  PayloadTooLargeError,
} from "@svc-jobs/core";
import {
  createJob,
  describeValue,
  type KnownKeys,
  prepareEnqueue,
  prepareEnqueueMany,
  rejectUnknownKeys,
  serializePayload,
  validateEnqueueOptions,
  validateJobName,
} from "@svc-jobs/core/backend";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

/** The error `fn` throws (fails the test when it throws none). */
function thrown(fn: () => unknown): JobValidationError {
  try {
    fn();
  } catch (error) {
    return error as JobValidationError;
  }
  throw new Error("expected a throw");
}

describe("@svc-jobs/core/backend", () => {
  it("the backend helpers the main entry had are the same functions there, deprecated", async () => {
    const main: Record<string, unknown> = await import("@svc-jobs/core");
    const backend: Record<string, unknown> = await import("@svc-jobs/core/backend");
    const moved = [
      "jobIdOf",
      "prepareEnqueue",
      "prepareEnqueueMany",
      "resolveQueueOptions",
      "serializePayload",
      "validateEnqueueOptions",
      "validateInteger",
      "validateJobName",
      "validateRetryStrategy",
      "validateSeconds",
      "visibilityExpiredMessage",
    ] as const;
    for (const name of moved) {
      expect(backend[name], name).toBeTypeOf("function");
      expect(main[name], name).toBe(backend[name]);
    }
    // New helpers live only in the backend entry.
    for (const name of ["createJob", "describeValue", "rejectUnknownKeys"]) {
      expect(backend).toHaveProperty(name);
      expect(main).not.toHaveProperty(name);
    }
  });
});

describe("createJob", () => {
  it("fills in a new job's defaults and copies availableAt into a fresh Date", () => {
    const at = new Date(1_000);
    const job = createJob({ id: "1", name: "send", payload: { a: 1 }, availableAt: at });
    expect(job).toEqual({
      id: "1",
      name: "send",
      payload: { a: 1 },
      availableAt: new Date(1_000),
      attempts: 0,
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      backoffSeconds: DEFAULT_BACKOFF_SECONDS,
      lastError: null,
    });
    expect(job.availableAt).not.toBe(at);
    expect(Object.keys(job)).toEqual([
      "id",
      "name",
      "payload",
      "availableAt",
      "attempts",
      "maxAttempts",
      "backoffSeconds",
      "lastError",
      "traceContext",
    ]);
  });

  it("takes availableAt as epoch ms and keeps the fields it is given", () => {
    const job = createJob({
      id: "7",
      name: "n",
      payload: {},
      availableAt: 5_000,
      attempts: 2,
      maxAttempts: 3,
      backoffSeconds: 1.5,
      lastError: "boom",
    });
    expect(job.availableAt.getTime()).toBe(5_000);
    expect([job.attempts, job.maxAttempts, job.backoffSeconds, job.lastError]).toEqual([
      2,
      3,
      1.5,
      "boom",
    ]);
  });

  it("builds the jobs the memory queue hands out", async () => {
    const queue = new InMemoryJobQueue({ clock: new ManualClock(10_000) });
    const job = await queue.enqueue("n", { a: 1 }, { delaySeconds: 2, maxAttempts: 3 });
    expect(job).toEqual(
      createJob({ id: job.id, name: "n", payload: { a: 1 }, availableAt: 12_000, maxAttempts: 3 }),
    );
  });
});

describe("describeValue", () => {
  it("says what a value is, briefly", () => {
    const cases: [unknown, string][] = [
      [null, "null"],
      [undefined, "undefined"],
      ["x", '"x"'],
      ["y".repeat(70), `"${"y".repeat(60)}…"`],
      [-1.5, "-1.5"],
      [Number.NaN, "NaN"],
      [true, "true"],
      [10n, "10n (a BigInt)"],
      [[1], "an array"],
      [() => 1, "a function"],
      [Symbol("s"), "a symbol"],
      [{}, "an object"],
      [Object.create(null), "an object"],
      [new Date(0), "a Date"],
      [new Map(), "a Map"],
      [new Error("e"), "an Error"],
      [{ constructor: 5 }, "an object"],
    ];
    for (const [value, text] of cases) expect(describeValue(value)).toBe(text);
  });
});

describe("rejectUnknownKeys", () => {
  const known: KnownKeys = {
    keys: ["delaySeconds", "maxAttempts", "dedupeKey"],
    hints: { delay: "delaySeconds", delayMs: "delaySeconds (in seconds)", jobId: "dedupeKey" },
  };
  const message = (value: object, where = "opts") =>
    thrown(() => rejectUnknownKeys(value, known, where)).message;

  it("accepts known keys, and no keys", () => {
    rejectUnknownKeys({}, known, "opts");
    rejectUnknownKeys({ delaySeconds: 1, dedupeKey: "k" }, known, "opts");
  });

  it("names the key, where it was, what was meant and every key allowed", () => {
    const error = thrown(() => rejectUnknownKeys({ delaySeconds: 1, delay: 5 }, known, "opts"));
    expect(error).toBeInstanceOf(JobValidationError);
    expect(error.field).toBe("opts.delay");
    expect(error.message).toBe(
      'opts has an unknown option "delay": did you mean "delaySeconds"? (known: delaySeconds, maxAttempts, dedupeKey)',
    );
  });

  it("suggests from the hints, then ignoring case, _ and -, then within two typos", () => {
    expect(message({ delayMs: 1 })).toContain("did you mean delaySeconds (in seconds)?");
    expect(message({ jobId: "k" })).toContain('did you mean "dedupeKey"?');
    expect(message({ max_attempts: 1 })).toContain('did you mean "maxAttempts"?');
    expect(message({ "dedupe-key": 1 })).toContain('did you mean "dedupeKey"?');
    expect(message({ DELAYSECONDS: 1 })).toContain('did you mean "delaySeconds"?');
    expect(message({ maxAtempts: 1 })).toContain('did you mean "maxAttempts"?');
    expect(message({ dedupKee: 1 })).toContain('did you mean "dedupeKey"?');
  });

  it("guesses nothing rather than something wrong", () => {
    expect(message({ priority: 1 })).toBe(
      'opts has an unknown option "priority" (known: delaySeconds, maxAttempts, dedupeKey)',
    );
    expect(message({ toString: 1 })).not.toContain("did you mean");
    // Equally close to two keys: no pick.
    const twins: KnownKeys = { keys: ["limit1", "limit2"] };
    expect(thrown(() => rejectUnknownKeys({ limit3: 1 }, twins, "o")).message).not.toContain(
      "did you mean",
    );
    // Two letters are two edits from any other two letters.
    const short: KnownKeys = { keys: ["id", "at"] };
    expect(thrown(() => rejectUnknownKeys({ xy: 1 }, short, "o")).message).not.toContain(
      "did you mean",
    );
  });

  it("makes the error the caller asks for, with its own noun", () => {
    const error = thrown(() =>
      rejectUnknownKeys(
        { colour: "red" },
        { keys: ["color"], noun: "setting" },
        "new Thing()",
        (key, text) => new ConfigError(`${text} [${key}]`),
      ),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      'new Thing() has an unknown setting "colour": did you mean "color"? (known: color) [colour]',
    );
  });
});

describe("serializePayload: one walk finds every fault, at its path", () => {
  // Plain JSON data, and the same shapes with one value JSON cannot carry put somewhere.
  const json = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.string(),
      fc.boolean(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.constant(null),
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), tie("value"), { maxKeys: 4 }),
    ),
  })).value;
  const bad = fc.constantFrom<[unknown, RegExp]>(
    [undefined, /is undefined/],
    [Number.NaN, /is NaN/],
    [Number.NEGATIVE_INFINITY, /is -Infinity/],
    [3n, /is a BigInt/],
    [() => 1, /is a function/],
    [Symbol("s"), /is a symbol/],
    [new Date(0), /is a Date, .*date\.toISOString\(\)/],
    [new Map(), /is a Map, .*plain object/],
  );

  /** Puts `value` at a random place in `tree`; returns the new tree and the path of `value`. */
  function plant(tree: unknown, value: unknown, choices: number[]): [unknown, string] {
    const choice = choices.shift() ?? 0;
    if (Array.isArray(tree) && tree.length > 0 && choice % 3 !== 0) {
      const i = choice % tree.length;
      const [inner, path] = plant(tree[i], value, choices);
      const copy = [...tree];
      copy[i] = inner;
      return [copy, `[${i}]${path}`];
    }
    if (tree !== null && typeof tree === "object" && !Array.isArray(tree)) {
      const keys = Object.keys(tree);
      if (keys.length > 0 && choice % 3 !== 0) {
        const key = keys[choice % keys.length]!;
        const [inner, path] = plant((tree as Record<string, unknown>)[key], value, choices);
        return [{ ...tree, [key]: inner }, `.${key}${path}`];
      }
      // A key that sorts after the others keeps the planted value the first fault.
      return [{ ...tree, "~planted": value }, ".~planted"];
    }
    return [[value], "[0]"];
  }

  it("accepts plain JSON data and returns JSON.stringify's text", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), json, { maxKeys: 5 }), (payload) => {
        expect(serializePayload(payload)).toBe(JSON.stringify(payload));
      }),
    );
  });

  it("refuses a value JSON cannot carry wherever it is, naming its exact path", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), json, { maxKeys: 4 }),
        bad,
        fc.array(fc.nat(), { maxLength: 8 }),
        (payload, [value, text], choices) => {
          const [planted, path] = plant(payload, value, choices);
          const error = thrown(() => serializePayload(planted));
          expect(error).toBeInstanceOf(JobValidationError);
          expect(error.field).toBe(`payload${path}`);
          expect(error.message.startsWith(`payload${path} `)).toBe(true);
          expect(error.message).toMatch(text);
        },
      ),
    );
  });

  it("finds holes, symbol keys and cycles at any depth, and allows shared references", () => {
    // biome-ignore lint/suspicious/noSparseArray: a sparse array is the point
    expect(thrown(() => serializePayload({ a: [[1, , 3]] })).field).toBe("payload.a[0][1]");
    expect(thrown(() => serializePayload({ o: { [Symbol("k")]: 1 } })).message).toMatch(
      /^payload\.o has symbol keys/,
    );
    const shared = { x: 1 };
    expect(serializePayload({ a: shared, b: [shared] })).toBe('{"a":{"x":1},"b":[{"x":1}]}');
    let deep: Record<string, unknown> = { leaf: true };
    const bottom = deep;
    for (let i = 0; i < 200; i++) deep = { d: deep };
    expect(serializePayload(deep)).toBe(JSON.stringify(deep));
    bottom.back = deep;
    const error = thrown(() => serializePayload(deep));
    expect(error.field).toBe(`payload${".d".repeat(200)}.back`);
    expect(error.message).toMatch(/refers back to an object that contains it \(a cycle\)/);
  });

  it("refuses a payload that is not a plain object, and one over the size limit", () => {
    expect(thrown(() => serializePayload([1])).message).toBe(
      "payload must be a plain JSON object, got an array: wrap the value, e.g. { value: ... }",
    );
    expect(thrown(() => serializePayload(new Date(0))).message).toMatch(/^payload is a Date/);
    expect(thrown(() => serializePayload({ s: "é".repeat(6) }, 12))).toBeInstanceOf(
      PayloadTooLargeError,
    );
    expect(serializePayload({ s: "é".repeat(6) }, 21)).toBe('{"s":"éééééé"}');
  });
});

describe("prepareEnqueue and prepareEnqueueMany", () => {
  it("fill in the same defaults whether options are absent, null or empty", () => {
    const defaults = {
      delaySeconds: 0,
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      backoffSeconds: DEFAULT_BACKOFF_SECONDS,
      dedupeKey: null,
      priority: 0,
      group: null,
    };
    for (const opts of [undefined, null, {}]) {
      expect(prepareEnqueue("n", { a: 1 }, opts as never)).toEqual({
        name: "n",
        payload: { a: 1 },
        payloadJson: '{"a":1}',
        ...defaults,
      });
      expect(prepareEnqueueMany([{ name: "n", payload: {}, opts: opts as never }])[0]).toEqual({
        name: "n",
        payload: {},
        payloadJson: "{}",
        ...defaults,
      });
    }
    expect(validateEnqueueOptions(undefined)).toEqual(defaults);
    // Each call gets its own object.
    const mine = validateEnqueueOptions(undefined);
    mine.maxAttempts = 99;
    expect(validateEnqueueOptions(undefined).maxAttempts).toBe(DEFAULT_MAX_ATTEMPTS);
  });

  it("check name, payload, then options, naming fields with the prefix or the item", () => {
    const fields = (fn: () => unknown) => thrown(fn).field;
    expect(fields(() => prepareEnqueue("", { a: 1n }, { delay: 1 } as never))).toBe("name");
    expect(fields(() => prepareEnqueue("n", { a: 1n }, { delay: 1 } as never))).toBe("payload.a");
    expect(fields(() => prepareEnqueue("n", {}, { delay: 1 } as never))).toBe("opts.delay");
    expect(fields(() => prepareEnqueue("", {}, undefined, {}, "job."))).toBe("job.name");
    expect(fields(() => prepareEnqueue("n", [], undefined, {}, "job."))).toBe("job.payload");
    expect(fields(() => prepareEnqueue("n", {}, { maxAttempts: 0 }, {}, "job."))).toBe(
      "job.opts.maxAttempts",
    );
    const items = [
      { name: "ok", payload: {} },
      { name: "x", payload: {}, opts: { attempts: 3 } },
    ];
    const error = thrown(() => prepareEnqueueMany(items));
    expect(error.field).toBe("items[1].opts.attempts");
    expect(error.message).toBe(
      'items[1].opts has an unknown enqueue option "attempts": did you mean "maxAttempts"? (known: delaySeconds, maxAttempts, backoffSeconds, dedupeKey, priority, group, traceContext)',
    );
    expect(fields(() => prepareEnqueueMany([{ name: "x".repeat(513), payload: {} }]))).toBe(
      "items[0].name",
    );
  });

  it("validateJobName says whether a name is blank or too long", () => {
    expect(thrown(() => validateJobName(" ".repeat(600))).message).toMatch(/non-empty string/);
    expect(thrown(() => validateJobName("x".repeat(600))).message).toMatch(
      /600 characters, over the limit of 512/,
    );
  });
});
