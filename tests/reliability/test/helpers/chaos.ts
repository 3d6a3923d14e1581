import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { RedisJobQueue } from "@svc-jobs/redis";
import { startRedis, uniquePrefix } from "@svc-jobs/test-servers";
import { Redis } from "ioredis";
import { type ChaosCommonFigures, type ChaosRunOptions, runChaosDriver } from "./chaos-driver.js";

/** Options of {@link runChaos}. */
export interface ChaosOptions extends ChaosRunOptions {
  /** How workers are stopped every 1-2 s: a crash (SIGKILL) or a graceful stop (SIGTERM). */
  signal: "SIGKILL" | "SIGTERM";
}

/** What a chaos run measured; printed as one `CHAOS ...` line. */
export interface ChaosFigures extends ChaosCommonFigures {
  signal: "SIGKILL" | "SIGTERM";
  /** Redis SIGKILLed and restarted from its AOF. */
  redisRestarts: number;
  /** `CLIENT KILL` rounds, and the connections they dropped. */
  connectionDrops: number;
  connectionsKilled: number;
  /** Job hashes left in Redis that are not in the DLQ (should be 0: ack deletes them). */
  orphanHashes: number;
}

const require = createRequire(import.meta.url);
const cliPackage = require.resolve("@svc-jobs/cli/package.json");
/** The real `svc-jobs` binary (built by `pnpm --filter @svc-jobs/cli build`). */
export const SVC_JOBS_BIN = join(
  dirname(cliPackage),
  (JSON.parse(readFileSync(cliPackage, "utf8")) as { bin: Record<string, string> }).bin[
    "svc-jobs"
  ] as string,
);
const HANDLER = fileURLToPath(new URL("../fixtures/chaos-handler.mjs", import.meta.url));

/** Formats figures as the one line the test prints (and RELIABILITY.md quotes). */
export function formatFigures(f: ChaosFigures): string {
  return (
    `CHAOS signal=${f.signal} seed=${f.seed} jobs=${f.jobs} workers=${f.workers} ` +
    `concurrency=${f.concurrency} visibilityTimeoutSeconds=${f.visibilityTimeoutSeconds} ` +
    `kills=${f.kills} workerStarts=${f.workerStarts} redisRestarts=${f.redisRestarts} ` +
    `connectionDrops=${f.connectionDrops} connectionsKilled=${f.connectionsKilled} ` +
    `executions=${f.executions} succeeded=${f.succeeded} duplicates=${f.duplicates} ` +
    `duplicateBound=${f.duplicateBound} dlq=${f.dlq} dlqExpired=${f.dlqExpired} ` +
    `dlqAfterSuccess=${f.dlqAfterSuccess} effects=${f.effects} ` +
    `duplicateEffects=${f.duplicateEffects} lost=${f.lost} stuck=${f.stuck} ` +
    `orphanHashes=${f.orphanHashes} badExits=${f.badExits} seconds=${f.seconds.toFixed(1)}`
  );
}

/**
 * Runs 5,000 jobs through three real `svc-jobs run` processes on a private redis-server
 * (`appendonly yes`, `appendfsync always`), stopping a worker every 1-2 s with `signal`
 * and restarting it, crashing and restarting Redis once (reloading its AOF) and dropping
 * every worker connection once with `CLIENT KILL`, then checks the ledger and the queue.
 */
export function runChaos(options: ChaosOptions): Promise<ChaosFigures> {
  return runChaosDriver({
    ...options,
    workDirPrefix: "svc-jobs-chaos-",
    // `--concurrency` of each `svc-jobs run` worker: 4.
    defaults: { jobs: 5000, concurrency: 4, deadlineMs: 150_000 },
    backend: async ({ ledgerDir, jobs: jobCount, concurrency, visibilityTimeoutSeconds: vt }) => {
      const server = await startRedis({
        args: ["--appendonly", "yes", "--appendfsync", "always"],
      });
      const prefix = uniquePrefix("chaos");
      // Commands wait through the Redis restart instead of failing.
      const admin = new Redis(server.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
      admin.on("error", () => {});
      const queue = new RedisJobQueue(admin, { prefix });
      let redisRestarts = 0;
      let connectionDrops = 0;
      let connectionsKilled = 0;
      return {
        queue,
        enqueueBatch: 500,
        stats: () => queue.stats(),
        command: () => ({
          args: [
            SVC_JOBS_BIN,
            "run",
            "--handlers",
            HANDLER,
            "--concurrency",
            String(concurrency),
            "--grace",
            "10",
            "--poll-interval",
            "0.2",
            "--prefix",
            prefix,
            "--visibility-timeout",
            String(vt),
          ],
          env: {
            JOBS_DRIVER: "redis",
            REDIS_URL: server.url,
            CHAOS_LEDGER_DIR: ledgerDir,
            CHAOS_FAIL_RATE: "0.1",
            CHAOS_EFFECTS_URL: `${server.url}/1`,
            CHAOS_EFFECTS_PREFIX: prefix,
          },
        }),
        faults: [
          {
            at: 0.3,
            inject: async () => {
              redisRestarts++;
              await server.crash();
              await server.restart();
              const [, appendfsync] = (await admin.config("GET", "appendfsync")) as string[];
              if (appendfsync !== "always")
                throw new Error("chaos: Redis came back without appendfsync always");
              // The id counter is written by the same scripts as the jobs: it must have survived.
              const seq = Number(await admin.get(`${prefix}:seq`));
              if (seq !== jobCount)
                throw new Error(
                  `chaos: ${prefix}:seq is ${seq} after the AOF reload, not ${jobCount}`,
                );
            },
          },
          {
            at: 0.55,
            inject: async () => {
              connectionDrops++;
              connectionsKilled += Number(
                await admin.client("KILL", "TYPE", "normal", "SKIPME", "yes"),
              );
            },
          },
        ],
        expiredError: /visibility/i,
        effects: async () => {
          const ledgerDb = admin.duplicate({ db: 1 });
          const counts = Object.values(await ledgerDb.hgetall(`${prefix}:effects`)).map(Number);
          const inbox = new Set(await ledgerDb.smembers(`${prefix}:inbox`));
          ledgerDb.disconnect();
          return { counts, inbox };
        },
        figures: async ({ dead }) => {
          const deadIds = new Set(dead.map((j) => j.id));
          const hashKeys: string[] = [];
          let cursor = "0";
          do {
            const [next, keys] = await admin.scan(
              cursor,
              "MATCH",
              `${prefix}:job:*`,
              "COUNT",
              1000,
            );
            cursor = next;
            hashKeys.push(...keys);
          } while (cursor !== "0");
          const orphanHashes = hashKeys.filter(
            (k) => !deadIds.has(k.slice(`${prefix}:job:`.length)),
          ).length;
          return {
            signal: options.signal,
            redisRestarts,
            connectionDrops,
            connectionsKilled,
            orphanHashes,
          };
        },
        close: async () => {
          await queue.close().catch(() => {});
          admin.disconnect();
          await server.stop();
        },
      };
    },
  });
}
