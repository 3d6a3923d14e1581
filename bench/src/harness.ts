/**
 * The parent side that the Redis runner (run.ts) and the SQL one (sql-run.ts) share:
 * pinning with taskset, bundling a scenario with the svc-jobs sources, one measurement per
 * fresh `node` process, the measuring loop (libraries rotating each run), medians per
 * figure, and the JSON results file.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { median } from "./stats.js";

const here = dirname(fileURLToPath(import.meta.url));
export const benchDir = join(here, "..");
export const repoRoot = join(benchDir, "..");
export const buildDir = join(benchDir, ".build");

// ---- pinning ------------------------------------------------------------------

/** The database server on CPU 0, Node on CPU 1 (see TOOLCHAIN.md): sharing a CPU skews round trips 2-3x. */
export const SERVER_CPU = "0";
export const NODE_CPU = "1";

function hasTaskset(): boolean {
  try {
    execFileSync("taskset", ["-p", String(process.pid)], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
}

export const canPin = os.cpus().length >= 2 && hasTaskset();

/** Pins a process (and its threads) to `cpuList`, when it can. */
export function pin(pid: number, cpuList: string): void {
  if (canPin) execFileSync("taskset", ["-a", "-cp", cpuList, String(pid)], { stdio: "pipe" });
}

/** The measured process's command: `taskset -c 1 node` when pinning (and `pinned`), else node. */
export function nodeCommand(pinned = true): [string, string[]] {
  return pinned && canPin
    ? ["taskset", ["-c", NODE_CPU, process.execPath]]
    : [process.execPath, []];
}

// ---- bundling -----------------------------------------------------------------

/**
 * Bundles a scenario (`entry` in src/) with the svc-jobs sources into plain JavaScript at
 * `outfile`, so every library runs in a plain `node` process: no TypeScript loader in the
 * measured process (it would add CPU at startup and ~25 MB of RSS to svc-jobs only).
 * `external` stays out of the bundle. `packagesDir` (`--packages DIR`): @svc-jobs/core and
 * @svc-jobs/<backend> from DIR/core and DIR/<backend> instead of the working tree's.
 */
export async function bundleScenario(opts: {
  entry: string;
  outfile: string;
  external: string[];
  backend: "redis" | "sql";
  packagesDir?: string | undefined;
}): Promise<void> {
  const { packagesDir, backend } = opts;
  await build({
    entryPoints: [join(here, opts.entry)],
    outfile: opts.outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["@svc-jobs/source"],
    external: opts.external,
    logLevel: "warning",
    plugins: packagesDir
      ? [
          {
            name: "svc-jobs-packages",
            setup(b) {
              const entries: Record<string, string> = {
                "@svc-jobs/core": "core/src/index.ts",
                "@svc-jobs/core/backend": "core/src/backend.ts",
                [`@svc-jobs/${backend}`]: `${backend}/src/index.ts`,
              };
              const filter = new RegExp(`^@svc-jobs\\/(core|${backend})(\\/backend)?$`);
              b.onResolve({ filter }, (args) => {
                const entry = entries[args.path];
                return entry ? { path: join(packagesDir, entry) } : undefined;
              });
            },
          },
        ]
      : [],
  });
}

// ---- child processes ----------------------------------------------------------

/** A measurement running in its own process. */
export interface Child {
  /** The last JSON line it printed (rejects if it failed or printed none). */
  result: Promise<Record<string, number>>;
  /** Worker scenarios: it printed `{"ready":true}` (or died). */
  ready: Promise<void>;
  /** Lets a worker scenario go (a `go` line on its stdin). */
  go(): void;
}

/**
 * Runs `node <bundle> <spec as JSON>` (through `command`, e.g. `taskset -c 1 node`).
 * `label` names it in the error when it fails.
 */
export function startChild(
  command: [string, string[]],
  bundle: string,
  spec: object,
  label: string,
  stdin: "pipe" | "ignore" = "pipe",
): Child {
  const [cmd, args] = command;
  const child = spawn(cmd, [...args, bundle, JSON.stringify(spec)], {
    cwd: benchDir,
    stdio: [stdin, "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.includes('{"ready":true}')) markReady();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const result = new Promise<Record<string, number>>((resolve, reject) => {
    child.on("exit", (code) => {
      const last = stdout
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .pop();
      if (code !== 0 || !last) {
        reject(new Error(`${label} failed (exit ${code}):\n${stderr.slice(-2000)}`));
        return;
      }
      resolve(JSON.parse(last));
    });
  });
  // A child that dies before `ready` must not hang the run.
  result.catch(() => markReady());
  return { result, ready, go: () => child.stdin?.write("go\n") };
}

// ---- measuring ----------------------------------------------------------------

/** Every result of one measure, per library (in run order). */
export type ByLib<K extends string> = Map<K, Record<string, number>[]>;

/** Appends a run's result to `key`'s list. */
export function record<K extends string>(
  byLib: ByLib<K>,
  key: K,
  value: Record<string, number>,
): void {
  byLib.set(key, [...(byLib.get(key) ?? []), value]);
}

/**
 * Runs every measure `runs` times, each time for every library in an order that rotates
 * each run (so no library always runs first, or last, on a warm machine), with `clean()`
 * before each measurement. `beforeRun` runs at the start of each run (Redis: the rtt row).
 * Each result goes to stderr, tagged `[<tag><seconds>s]`.
 */
export async function measureAll<K extends string, L extends K>(opts: {
  measures: string[];
  runs: number;
  libs: (measure: string) => readonly L[];
  clean: () => Promise<void>;
  measure: (measure: string, lib: L) => Promise<Record<string, number>> | undefined;
  beforeRun?: (measure: string, byLib: ByLib<K>) => Promise<void>;
  t0: number;
  tag?: string;
}): Promise<Map<string, ByLib<K>>> {
  const tag = opts.tag ?? "";
  const measured = new Map<string, ByLib<K>>();
  for (const m of opts.measures) {
    const libs = opts.libs(m);
    const byLib: ByLib<K> = new Map();
    measured.set(m, byLib);
    for (let r = 0; r < opts.runs; r++) {
      const order = libs.map((_, i) => libs[(i + r) % libs.length] as L);
      await opts.beforeRun?.(m, byLib);
      for (const lib of order) {
        await opts.clean();
        const value = await opts.measure(m, lib);
        if (!value) throw new Error(`no ${tag}measure ${m}`);
        record(byLib, lib, value);
        process.stderr.write(
          `[${tag}${((Date.now() - opts.t0) / 1000).toFixed(0)}s] ${m} run ${r + 1}/${opts.runs} ${lib}: ${JSON.stringify(value)}\n`,
        );
      }
    }
  }
  return measured;
}

/** A figure's values (its `pick` from every result, per library) and their medians. */
export function summarize<K extends string>(
  byLib: ByLib<K>,
  pick: string,
): { values: Partial<Record<K, number[]>>; median: Partial<Record<K, number>> } {
  const values: Partial<Record<K, number[]>> = {};
  const med: Partial<Record<K, number>> = {};
  for (const [lib, list] of byLib) {
    const v = list.map((x) => x[pick] as number);
    values[lib] = v;
    med[lib] = median(v);
  }
  return { values, median: med };
}

// ---- results ------------------------------------------------------------------

/** The machine's CPUs, memory and OS (the first entries of a results file's `machine`). */
export function machine(): { cpus: number; cpuModel: string; memoryGb: number; os: string } {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "?",
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()}`,
  };
}

/** An installed package's version (bench/node_modules). */
export function version(pkg: string): string {
  const file = join(benchDir, "node_modules", pkg, "package.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

/** A workspace package's version (`packages/<name>/package.json`). */
export function workspaceVersion(name: string): string {
  return JSON.parse(readFileSync(join(repoRoot, "packages", name, "package.json"), "utf8")).version;
}

/** Writes bench/results/<name> (the JSON results) and says where. */
export function writeResults(name: string, results: object): string {
  const dir = join(benchDir, "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\nresults: ${file}\n`);
  return file;
}
