import type { QueueStats } from "@svc-jobs/core";
import { type AdminCommandTarget, withAdmin } from "./open-admin.js";

/** Options of {@link statsCommand}. */
export interface StatsCommandOptions extends AdminCommandTarget {
  /** Queue prefixes to show. */
  prefixes: string[];
  /** Also show every queue prefix the backend holds (its driver lists them). @default false */
  all?: boolean;
  /** Print JSON instead of a table. @default false */
  json?: boolean;
  /** Refresh until interrupted. @default false */
  watch?: boolean;
  /** Seconds between refreshes with `watch`. @default 2 */
  intervalSeconds?: number;
  /** Where output goes. @default process.stdout */
  out?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** One row of `svc-jobs stats`. */
export interface PrefixStats extends QueueStats {
  prefix: string;
}

/**
 * `svc-jobs stats`: ready, delayed, processing, DLQ, kept completed and cancelled counts
 * and whether the queue is paused, per queue prefix,
 * once or refreshed live with `watch` (until SIGINT/SIGTERM).
 */
export async function statsCommand(options: StatsCommandOptions): Promise<void> {
  const out = options.out ?? process.stdout;
  await withAdmin(options, async (admin) => {
    const snapshot = async (): Promise<PrefixStats[]> => {
      const prefixes = [...options.prefixes];
      if (options.all) {
        for (const found of await admin.listPrefixes()) {
          if (!prefixes.includes(found)) prefixes.push(found);
        }
      }
      return Promise.all(
        prefixes.map(async (prefix) => ({ prefix, ...(await admin.queue(prefix).stats()) })),
      );
    };
    const print = (rows: PrefixStats[]) => {
      if (options.json) out.write(`${JSON.stringify(rows)}\n`);
      else out.write(formatStats(rows));
    };
    if (!options.watch) {
      print(await snapshot());
      return;
    }
    const intervalMs = (options.intervalSeconds ?? 2) * 1000;
    const stopped = new AbortController();
    const stop = () => stopped.abort();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    try {
      while (!stopped.signal.aborted) {
        const rows = await snapshot();
        if (out.isTTY && !options.json) out.write("\x1b[2J\x1b[H");
        if (!options.json) {
          out.write(`${new Date().toISOString()}  (every ${intervalMs / 1000}s, Ctrl-C to stop)\n`);
        }
        print(rows);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, intervalMs);
          stopped.signal.addEventListener(
            "abort",
            () => {
              clearTimeout(timer);
              resolve();
            },
            { once: true },
          );
        });
      }
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
  });
}

/** The stats rows as an aligned text table. */
export function formatStats(rows: PrefixStats[]): string {
  const header = [
    "prefix",
    "ready",
    "delayed",
    "processing",
    "dlq",
    "completed",
    "cancelled",
    "paused",
  ];
  const cells = rows.map((r) => [
    r.prefix,
    String(r.ready),
    String(r.delayed),
    String(r.processing),
    String(r.dlq),
    String(r.completed ?? 0),
    String(r.cancelled ?? 0),
    r.paused ? "yes" : "no",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]?.length ?? 0)));
  const line = (c: string[]) =>
    c
      .map((v, i) =>
        i === 0 || i === c.length - 1 ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0),
      )
      .join("  ")
      .trimEnd();
  return `${[line(header), ...cells.map(line)].join("\n")}\n`;
}
