#!/usr/bin/env node
// `npm test`: installs everything, starts real servers on free loopback ports
// (redis-server, a 3-master Redis Cluster, PostgreSQL), runs every package's tests
// against them, stops what it started, and prints one summary line.
// With CI=true it also runs the type checker, the linter and a benchmark smoke first.
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { build, ensureServerPackages, installDependencies, log, pnpm, root } from "./bootstrap.mjs";

installDependencies();
ensureServerPackages();
build();
if (process.env.CI) {
  log("Type-checking");
  pnpm(["turbo", "run", "typecheck"]);
  log("Linting");
  pnpm(["biome", "check", "."]);
  // A small run of every benchmark scenario, so the benchmarks cannot rot. Its figures
  // are printed, never checked: speed is judged by `pnpm bench`, not by CI.
  log("Benchmark smoke (tiny N, figures not checked)");
  pnpm(["--filter", "@svc-jobs/bench", "bench:smoke"]);
}

const { startPostgres, startRedis, startRedisCluster } = await import(
  "../tools/test-servers/src/index.js"
);

log("Starting redis-server, a 3-master Redis Cluster and PostgreSQL on loopback");
const stops = [];
let status = 1;
try {
  const redis = await startRedis();
  stops.push(() => redis.stop());
  const cluster = await startRedisCluster({ masters: 3 });
  stops.push(() => cluster.stop());
  const pg = await startPostgres();
  stops.push(() => pg.stop());
  const env = {
    // Everything is built above: test setups must not rebuild dist/ under other tests.
    SVC_JOBS_BUILT: "1",
    REDIS_URL: redis.url,
    REDIS_CLUSTER_NODES: cluster.nodes.map((n) => `${n.host}:${n.port}`).join(","),
    PG_URL: pg.url,
  };
  console.log(
    `  REDIS_URL=${env.REDIS_URL}\n  REDIS_CLUSTER_NODES=${env.REDIS_CLUSTER_NODES}\n  PG_URL=${env.PG_URL}`,
  );

  for (const dir of packageDirs()) rmSync(path.join(dir, ".vitest-report.json"), { force: true });
  log("Running the tests");
  status = pnpm(
    [
      "turbo",
      "run",
      "test",
      "--concurrency=2",
      // Run every package's tests even when one fails, so the summary counts them all.
      "--continue",
      "--",
      "--reporter=default",
      "--reporter=json",
      "--outputFile.json=.vitest-report.json",
    ],
    { env, allowFail: true },
  );
} finally {
  for (const stop of stops.reverse()) {
    try {
      await stop();
    } catch (err) {
      console.error(`could not stop a server: ${err.message}`);
    }
  }
}

// One summary over every package, in the plain form "N passed, N failed".
let passed = 0;
let failed = 0;
let skipped = 0;
const reports = [];
for (const dir of packageDirs()) {
  const file = path.join(dir, ".vitest-report.json");
  if (!existsSync(file)) continue;
  const report = JSON.parse(readFileSync(file, "utf8"));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + (report.numTodoTests ?? 0);
  reports.push(
    `${path.relative(root, dir)}: ${report.numPassedTests} passed, ${report.numFailedTests} failed`,
  );
}
console.log(`\n${reports.join("\n")}`);
console.log(`\nTests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
if (passed === 0) {
  console.error("✖ No test ran.");
  process.exit(1);
}
if (skipped > 0) {
  console.error("✖ Some tests were skipped; every test must run.");
  status ||= 1;
}
process.exit(status === 0 && failed === 0 ? 0 : status || 1);

function packageDirs() {
  const dirs = [];
  for (const group of ["packages", "apps", "tools", "tests", "bench"]) {
    const base = path.join(root, group);
    if (!existsSync(base)) continue;
    if (group === "bench") {
      dirs.push(base);
      continue;
    }
    for (const name of readdirSync(base)) dirs.push(path.join(base, name));
  }
  return dirs;
}
