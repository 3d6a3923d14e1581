import type { FlowLimits, GroupLimits, JobQueue, RateLimit } from "@svc-jobs/core";
import { MAX_GROUP_LENGTH } from "@svc-jobs/core";
import { validateGroupLimits, validateRateLimit } from "@svc-jobs/core/backend";
import { InvalidArgumentError } from "commander";
import { CliError, EXIT_USAGE } from "./cli-error.js";
import { type AdminCommandTarget, withAdmin } from "./open-admin.js";

// `svc-jobs limits show|set`: the CLI side of docs/contract.md, "Flow control": the queue's
// rate limit, the limits of every group, the per-group overrides and a queue hold.

/** Options shared by `svc-jobs limits show` and `svc-jobs limits set`. */
export interface LimitsCommandOptions extends AdminCommandTarget {
  prefix: string;
  /** Print `getLimits()` as JSON (ISO dates) instead of text. @default false */
  json?: boolean;
  /** Where output goes. @default process.stdout */
  out?: NodeJS.WritableStream;
}

/** Options of {@link limitsSetCommand}: what to change; what is left out stays as it is. */
export interface LimitsSetCommandOptions extends LimitsCommandOptions {
  /** The queue's rate limit (`--rate max/seconds`); `null` removes it (`--rate none`). */
  rate?: RateLimit | null;
  /** Jobs of one group processing at once (`--group-concurrency`); `null` removes that limit. */
  groupConcurrency?: number | null;
  /** Starts of one group per window (`--group-rate max/seconds`); `null` removes that limit. */
  groupRate?: RateLimit | null;
  /** Apply the group options (or `clear`) to this group only: its override. */
  group?: string;
  /** Remove the limits of every group, or with `group` that group's override. @default false */
  clear?: boolean;
}

/** Most starts per window and most jobs of a group at once the backends take. */
const MAX_COUNT = 1_000_000;
/** Longest window the backends take, in seconds (a year). */
const MAX_WINDOW_SECONDS = 365 * 24 * 3600;

/** `svc-jobs limits show`: the queue's flow control as stored in the backend. */
export async function limitsShowCommand(options: LimitsCommandOptions): Promise<void> {
  const out = options.out ?? process.stdout;
  await withAdmin(options, async (admin) => {
    const limits = await admin.queue(options.prefix).getLimits();
    out.write(
      options.json ? `${JSON.stringify(flowLimitsJson(limits))}\n` : formatLimits(limits, options),
    );
  });
}

/**
 * `svc-jobs limits set`: checks every option before connecting, changes the queue's rate
 * limit and the group limits (of every group, or one group's override), then prints what
 * is now in force. Group options merge into the current group limits (or the group's
 * override): `--group-concurrency 5` keeps a group rate limit already set.
 */
export async function limitsSetCommand(options: LimitsSetCommandOptions): Promise<void> {
  const out = options.out ?? process.stdout;
  const groupChange = options.groupConcurrency !== undefined || options.groupRate !== undefined;
  const clear = options.clear ?? false;
  if (options.group !== undefined) checkGroup(options.group);
  if (options.group !== undefined && !groupChange && !clear) {
    throw usage(
      `--group ${JSON.stringify(options.group)} says which group the group options apply to: add --group-concurrency <n> and/or --group-rate <max>/<seconds>, or --clear to remove its override`,
    );
  }
  if (options.rate === undefined && !groupChange && !clear) {
    throw usage(
      `svc-jobs limits set changes nothing without an option: give --rate <max>/<seconds> (or none), --group-concurrency <n>, --group-rate <max>/<seconds>, or --clear; e.g. svc-jobs limits set --rate 10/1`,
    );
  }
  if (clear && groupChange) {
    throw usage(
      `--clear removes the ${options.group === undefined ? "group limits" : "group's override"}, so it does not go with --group-concurrency or --group-rate: use one or the other (--group-rate none removes only the group rate limit)`,
    );
  }
  const rate =
    options.rate === undefined
      ? undefined
      : checked(() => validateRateLimit(options.rate, "--rate"));

  await withAdmin(options, async (admin) => {
    const queue = admin.queue(options.prefix);
    const before = await queue.getLimits();
    let groupLimits: GroupLimits | null | undefined;
    if (clear) groupLimits = null;
    else if (groupChange)
      groupLimits = mergeGroupLimits(currentGroupLimits(before, options.group), options);
    // Everything is checked before the first write: bad input changes nothing.
    if (rate !== undefined) await queue.setRateLimit(rate);
    if (groupLimits !== undefined) await setGroupLimits(queue, groupLimits, options.group);
    const after = await queue.getLimits();
    if (options.json) {
      out.write(`${JSON.stringify(flowLimitsJson(after))}\n`);
      return;
    }
    out.write(formatLimits(after, options));
    const note = overrideNote(after, options.group);
    if (note) out.write(`${note}\n`);
  });
}

/** {@link FlowLimits} as JSON: `heldUntil` as an ISO 8601 string. */
export function flowLimitsJson(limits: FlowLimits) {
  return {
    ...limits,
    heldUntil: limits.heldUntil === null ? null : limits.heldUntil.toISOString(),
  };
}

/** The limits as lines, then the overrides as a table. */
export function formatLimits(limits: FlowLimits, options: { prefix: string }): string {
  const overrides = Object.entries(limits.groupOverrides);
  const lines: [string, string][] = [
    [
      "rate limit",
      limits.rateLimit === null
        ? "none"
        : `${rateText(limits.rateLimit)} (at most ${limits.rateLimit.max} job(s) start in any ${limits.rateLimit.perSeconds}s)`,
    ],
    [
      "group limits",
      limits.groupLimits === null
        ? "none"
        : `${groupLimitsText(limits.groupLimits)} (each group without an override)`,
    ],
    ["group overrides", overrides.length === 0 ? "none" : `${overrides.length} group(s), below`],
    [
      "held until",
      limits.heldUntil === null
        ? "- (not held)"
        : `${limits.heldUntil.toISOString()} (a handler's RateLimitError with scope "queue")`,
    ],
  ];
  const width = Math.max(...lines.map(([k]) => k.length)) + 1;
  let text = `limits of queue "${options.prefix}":\n${lines
    .map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}`)
    .join("\n")}\n`;
  if (overrides.length > 0) {
    text += table(
      ["group", "concurrency", "rate"],
      overrides.map(([group, l]) => [
        group,
        l.concurrency === undefined ? "none" : String(l.concurrency),
        l.max === undefined || l.perSeconds === undefined
          ? "none"
          : rateText({ max: l.max, perSeconds: l.perSeconds }),
      ]),
    );
  }
  return text;
}

/**
 * What `none` parses to: commander turns an option value of `null` into `""`, so the
 * parsers return this and the command maps it to `null`.
 */
export const NONE = "none";

/** `--rate` and `--group-rate`: `<max>/<seconds>` (e.g. `10/1`), or `none` ({@link NONE}). */
export function rateOption(flag: string, what: string) {
  return (value: string): RateLimit | typeof NONE => {
    const text = value.trim();
    if (text.toLowerCase() === NONE) return NONE;
    const match = /^(\d+)\s*\/\s*(\d*\.?\d+)\s*s?$/i.exec(text);
    if (!match) {
      throw new InvalidArgumentError(
        `${flag} must be <max>/<seconds>, e.g. ${flag} 10/1 (at most 10 ${what} start in any 1 second) or ${flag} 100/60, or none to remove the limit; got ${JSON.stringify(value)}`,
      );
    }
    const max = Number(match[1]);
    const perSeconds = Number(match[2]);
    if (!Number.isSafeInteger(max) || max < 1 || max > MAX_COUNT) {
      throw new InvalidArgumentError(
        `${flag} <max> (before the /) must be a whole number from 1 to ${MAX_COUNT}, got ${JSON.stringify(value)}; to stop ${what} from starting, pause the queue (svc-jobs pause), to remove the limit pass ${flag} none`,
      );
    }
    if (!Number.isFinite(perSeconds) || perSeconds <= 0 || perSeconds > MAX_WINDOW_SECONDS) {
      throw new InvalidArgumentError(
        `${flag} <seconds> (after the /) must be more than 0 and at most ${MAX_WINDOW_SECONDS} (fractions allowed, e.g. ${flag} 5/0.5), got ${JSON.stringify(value)}`,
      );
    }
    return { max, perSeconds };
  };
}

/** `--group-concurrency`: a whole number from 1 to 1,000,000, or `none` ({@link NONE}). */
export function concurrencyOption(flag: string) {
  return (value: string): number | typeof NONE => {
    const text = value.trim();
    if (text.toLowerCase() === NONE) return NONE;
    const n = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1 || n > MAX_COUNT) {
      throw new InvalidArgumentError(
        `${flag} must be a whole number from 1 to ${MAX_COUNT} (jobs of one group processing at once), or none to remove that limit; got ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
}

function rateText(rate: RateLimit): string {
  return `${rate.max} per ${rate.perSeconds}s`;
}

function groupLimitsText(limits: GroupLimits): string {
  const parts: string[] = [];
  if (limits.concurrency !== undefined) parts.push(`concurrency ${limits.concurrency}`);
  if (limits.max !== undefined && limits.perSeconds !== undefined) {
    parts.push(`rate ${rateText({ max: limits.max, perSeconds: limits.perSeconds })}`);
  }
  return parts.join(", ");
}

function currentGroupLimits(limits: FlowLimits, group: string | undefined): GroupLimits {
  if (group === undefined) return limits.groupLimits ?? {};
  return Object.hasOwn(limits.groupOverrides, group) ? (limits.groupOverrides[group] ?? {}) : {};
}

/** The group options applied over `current`; `null` when no limit is left. */
function mergeGroupLimits(
  current: GroupLimits,
  options: LimitsSetCommandOptions,
): GroupLimits | null {
  const next: GroupLimits = {};
  const concurrency =
    options.groupConcurrency === undefined ? current.concurrency : options.groupConcurrency;
  if (concurrency !== null && concurrency !== undefined) next.concurrency = concurrency;
  const rate =
    options.groupRate === undefined
      ? current.max !== undefined && current.perSeconds !== undefined
        ? { max: current.max, perSeconds: current.perSeconds }
        : null
      : options.groupRate;
  if (rate !== null) {
    next.max = rate.max;
    next.perSeconds = rate.perSeconds;
  }
  if (next.concurrency === undefined && next.max === undefined) return null;
  return checked(() => validateGroupLimits(next, "group limits"));
}

function setGroupLimits(
  queue: JobQueue,
  limits: GroupLimits | null,
  group: string | undefined,
): Promise<void> {
  return group === undefined
    ? queue.setGroupLimits(limits)
    : queue.setGroupLimits(limits, { group });
}

/** When a group's override lacks a limit every other group has, say so: it replaces them. */
function overrideNote(limits: FlowLimits, group: string | undefined): string | undefined {
  if (group === undefined || limits.groupLimits === null) return undefined;
  if (!Object.hasOwn(limits.groupOverrides, group)) return undefined;
  const override = limits.groupOverrides[group] ?? {};
  const missing: string[] = [];
  if (override.concurrency === undefined && limits.groupLimits.concurrency !== undefined) {
    missing.push("--group-concurrency");
  }
  if (override.max === undefined && limits.groupLimits.max !== undefined) {
    missing.push("--group-rate");
  }
  if (missing.length === 0) return undefined;
  return `note: the override of group ${JSON.stringify(group)} replaces the limits of every group, so it has no ${missing.map((m) => m.replace("--group-", "")).join(" or ")} limit now; add ${missing.join(" and ")} with --group ${group} to give it one`;
}

function checkGroup(group: string): void {
  if (group.length === 0 || group.length > MAX_GROUP_LENGTH) {
    throw usage(
      `--group must name a group (the enqueue's group: a tenant or customer id) of 1 to ${MAX_GROUP_LENGTH} characters, got ${JSON.stringify(group)}`,
    );
  }
}

/** Runs a core check, turning its error into a usage error. */
function checked<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error), {
      code: "ERR_USAGE",
      exitCode: EXIT_USAGE,
      cause: error,
    });
  }
}

function usage(message: string): CliError {
  return new CliError(message, { code: "ERR_USAGE", exitCode: EXIT_USAGE });
}

/** An aligned table, the last column not padded (as in jobs-command.ts). */
function table(header: string[], cells: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]?.length ?? 0)));
  const line = (c: string[]) =>
    c
      .map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return `${[line(header), ...cells.map(line)].join("\n")}\n`;
}
