// An app bundled with esbuild carries the package's Lua scripts inside its JavaScript:
// the bundle runs from a folder outside the repository, with nothing beside it, against
// a real redis-server. It bundles the built dist (what users install), not src.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBuilt, runNodeScript } from "@svc-jobs/test-servers";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { build } from "esbuild";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const distDir = join(packageDir, "dist");
const coreDist = join(packageDir, "node_modules/@svc-jobs/core/dist/index.js");

/** Newest modification time (ms) of the files under `dir`. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const file of readdirSync(dir, { recursive: true, encoding: "utf8" })) {
    const stat = statSync(join(dir, file));
    if (stat.isFile()) newest = Math.max(newest, stat.mtimeMs);
  }
  return newest;
}

// What an app does with the package: a queue round trip and a leader lease, then exit.
const ENTRY = `
import { RedisJobQueue, RedisLeader } from "@svc-jobs/redis";
import { Redis } from "ioredis";

async function main() {
  const redis = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1 });
  const prefix = process.env.TEST_PREFIX;
  const queue = new RedisJobQueue(redis, { prefix });
  try {
    const job = await queue.enqueue("send_email", { to: "user@example.com" });
    console.log("enqueued", job.name);
    const got = await queue.reserveNext({ blockSeconds: 1 });
    console.log("reserved", got.id === job.id, got.name, JSON.stringify(got.payload));
    await queue.ack(got);
    console.log("acked", JSON.stringify(await queue.stats()));
    const leader = new RedisLeader(redis, { key: prefix + ":leader", ownerId: "bundle" });
    console.log("leader acquired", await leader.acquire(), leader.isLeader(), await redis.get(prefix + ":leader"));
    await leader.release();
    console.log("leader released", leader.isLeader(), await redis.exists(prefix + ":leader"));
  } finally {
    await queue.close();
    await redis.quit();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`;

const EXPECTED = [
  "enqueued send_email",
  'reserved true send_email {"to":"user@example.com"}',
  'acked {"ready":0,"delayed":0,"processing":0,"dlq":0,"completed":0,"cancelled":0,"paused":false}',
  "leader acquired true true bundle",
  "leader released false 0",
];

const redis = redisFixture(Redis);
let outDir: string;

beforeAll(async () => {
  // Build only when there is no dist, or it is older than the source (the root
  // `npm test` and turbo build first; this keeps `pnpm --filter` runs honest).
  const distIndex = join(distDir, "index.js");
  if (
    !existsSync(distIndex) ||
    !existsSync(coreDist) ||
    statSync(distIndex).mtimeMs < newestMtime(join(packageDir, "src"))
  ) {
    ensureBuilt("@svc-jobs/redis...");
  }
  outDir = mkdtempSync(join(tmpdir(), "svc-jobs-bundle-"));
});

afterAll(async () => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

describe("bundled with esbuild", () => {
  it.each([
    // ESM output needs `require` for the CommonJS it inlines (ioredis requires node:net).
    {
      format: "esm" as const,
      file: "app.mjs",
      banner:
        'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);',
    },
    { format: "cjs" as const, file: "app.cjs", banner: "" },
  ])(
    "a $format bundle of RedisJobQueue and RedisLeader runs from outside the repository",
    async ({ format, file, banner }) => {
      const outfile = join(outDir, file);
      expect(outfile.startsWith(packageDir)).toBe(false);
      const result = await build({
        // The entry resolves @svc-jobs/redis as an app's would: by its package exports,
        // without the workspace's source condition, so from dist.
        stdin: { contents: ENTRY, resolveDir: packageDir, sourcefile: "entry.mjs", loader: "js" },
        bundle: true,
        platform: "node",
        target: "node20",
        format,
        banner: { js: banner },
        outfile,
        metafile: true,
        logLevel: "silent",
      });
      expect(result.warnings).toEqual([]);
      const inputs = Object.keys(result.metafile.inputs);
      // The package's dist is what got bundled, ioredis with it.
      expect(inputs).toContain("dist/lua/scripts.generated.js");
      expect(inputs).toContain("dist/redis-leader.js");
      expect(inputs.some((i) => i.includes("/ioredis/"))).toBe(true);
      expect(inputs.filter((i) => !i.includes("node_modules") && /(^|\/)src\//.test(i))).toEqual(
        [],
      );
      expect(readdirSync(outDir)).toContain(file);

      const prefix = redis.prefix("bundle");
      const run = await runNodeScript(
        outfile,
        [],
        { REDIS_URL: redis.url, TEST_PREFIX: prefix },
        { cwd: outDir, timeoutMs: 15_000 },
      );
      expect(run.stderr).toBe("");
      expect(run.stdout.trim().split("\n")).toEqual(EXPECTED);
      expect(run.code).toBe(0);
    },
  );
});

it("the published types name no ioredis types (they differ between ioredis 5 and 6)", () => {
  const declarations = readdirSync(distDir, { recursive: true, encoding: "utf8" }).filter((f) =>
    f.endsWith(".d.ts"),
  );
  expect(declarations).toContain("index.d.ts");
  for (const file of declarations) {
    const text = readFileSync(join(distDir, file), "utf8");
    expect(text, file).not.toMatch(/^import [^;]*from ["']ioredis["']|import\(["']ioredis["']\)/m);
  }
});
