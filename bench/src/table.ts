/**
 * What the Redis report (report.ts) and the SQL one (sql-run.ts) print alike: plain-text and
 * markdown tables, figures, ratio cells with their targets, and the list of every run's values.
 */

/** A figure's value: "-" when missing; ms with 2 decimals (whole ms from `wholeMsFrom` up), MB whole, else a whole number with thousands separators. */
export function formatValue(
  value: number | undefined,
  unit: string,
  wholeMsFrom = Infinity,
): string {
  if (value === undefined || Number.isNaN(value)) return "-";
  if (unit === "ms") return value < wholeMsFrom ? value.toFixed(2) : value.toFixed(0);
  if (unit === "MB") return value.toFixed(0);
  return Math.round(value).toLocaleString("en-US");
}

/** ours / theirs, or undefined when either is missing or theirs is 0. */
export function ratioOf(ours: number | undefined, theirs: number | undefined): number | undefined {
  if (ours === undefined || theirs === undefined || theirs === 0) return undefined;
  return ours / theirs;
}

/**
 * A ratio cell: "-" without a ratio, else `1.23x`, with the target and whether it was met
 * when there is one (`>=` for "higher" figures, `<=` for "lower" ones).
 */
export function ratioCell(
  r: number | undefined,
  target: number | undefined,
  better: "higher" | "lower",
  text: (r: number) => string = (x) => x.toFixed(2),
): string {
  if (r === undefined) return "-";
  if (target === undefined) return `${text(r)}x`;
  const higher = better === "higher";
  const met = higher ? r >= target : r <= target;
  return `${text(r)}x (${higher ? ">=" : "<="}${target} ${met ? "met" : "MISSED"})`;
}

/** A plain-text table for the terminal: the header, a rule, the rows, columns padded. */
export function textTable(columns: string[], rows: string[][]): string {
  const all = [columns, ...rows];
  const widths = columns.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ");
  return [line(columns), widths.map((w) => "-".repeat(w)).join("-|-"), ...rows.map(line)].join(
    "\n",
  );
}

/** A markdown table, the first column left-aligned and the others right-aligned. */
export function markdownTable(columns: string[], rows: string[][]): string {
  return [
    `| ${columns.join(" | ")} |`,
    `|${columns.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/** "Runs (every value, in run order)": one line per figure, each library's values. */
export function runsList(
  figures: { id: string; unit: string; values: Partial<Record<string, number[]>> }[],
  fmt: (value: number, unit: string) => string,
): string {
  return figures
    .map(
      (f) =>
        `- ${f.id}: ${Object.entries(f.values)
          .map(([lib, v]) => `${lib} [${(v ?? []).map((x) => fmt(x, f.unit)).join(", ")}]`)
          .join("; ")}`,
    )
    .join("\n");
}

/** The versions line: `name version, name version`. */
export function versionsLine(versions: Record<string, string>): string {
  return Object.entries(versions)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
}
