import {
  CliError,
  connectRedis,
  createLogger,
  easyJobs,
  loadHandler,
  runCli,
  runWorker,
  startMetricsServer,
} from "@svc-jobs/cli";
import { workerMetrics } from "@svc-jobs/cli/command";
import { ConfigError, InMemoryJobQueue } from "@svc-jobs/core";
import { expectUnknownOptionRefused } from "@svc-jobs/test-servers/fixtures";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";

/** Resolves when `call` throws nothing, or throws an error of `type` (it got past its options). */
const passesOptions =
  (call: () => unknown, type?: abstract new (...args: never[]) => Error) => async () => {
    try {
      await call();
    } catch (error) {
      if (!type || !(error instanceof type)) throw error;
    }
  };

type Call = () => unknown;
/** [name, call with an unknown key, did-you-mean text, known keys, valid call] */
const cases: [string, Call, string, string, Call][] = [
  [
    "easyJobs",
    () => easyJobs({ driver: "memory", visibilityTimeout: 5 } as never),
    'did you mean "visibilityTimeoutSeconds"?',
    "known: driver, redisUrl, clusterNodes, prefix, visibilityTimeoutSeconds, tickIntervalSeconds, schedulerLogger, redisOptions, sqlitePath, databaseUrl, env",
    () => easyJobs({ driver: "memory", visibilityTimeoutSeconds: 5, env: {} }).close(),
  ],
  [
    "connectRedis",
    () => connectRedis({ redisUrl: "redis://127.0.0.1:1/0" } as never),
    'did you mean "url"?',
    "known: url, clusterNodes, timeoutSeconds",
    passesOptions(
      () => connectRedis({ url: "redis://127.0.0.1:1/0", clusterNodes: "", timeoutSeconds: 0.2 }),
      CliError,
    ),
  ],
  [
    "createLogger",
    () => createLogger({ levl: "silent" } as never),
    'did you mean "level"?',
    "known: level, destination",
    () => createLogger({ level: "silent" }),
  ],
  [
    "startMetricsServer",
    () => startMetricsServer({ port: 0, registries: [], isReady: () => true, hots: "x" } as never),
    'did you mean "host"?',
    "known: port, host, registries, isReady",
    async () =>
      (
        await startMetricsServer({
          port: 0,
          host: "127.0.0.1",
          registries: [],
          isReady: () => true,
        })
      ).close(),
  ],
  [
    "runWorker",
    () => runWorker({ handler: "./jobs.js", env: {} } as never),
    'did you mean "handlers"?',
    "known: handlers, concurrency, pollIntervalSeconds",
    // Past its options, runWorker asks for a handlers module: none is set here.
    passesOptions(() => runWorker({ env: {}, concurrency: 1 }), CliError),
  ],
  [
    "loadHandler",
    () => loadHandler("./jobs.js", { dir: "/" } as never),
    'did you mean "cwd"?',
    "known: cwd",
    // Past its options, loadHandler looks for the module: there is none here.
    passesOptions(() => loadHandler("./no-such-module.js", { cwd: "/" }), CliError),
  ],
  [
    "workerMetrics",
    () => workerMetrics(new Registry(), new InMemoryJobQueue(), { queue: "q" } as never),
    'did you mean "queueName"?',
    "known: metricPrefix, queueName",
    () => workerMetrics(new Registry(), new InMemoryJobQueue(), { queueName: "q" }),
  ],
  [
    "runCli",
    () => runCli(["--version"], { stderr: process.stderr } as never),
    'did you mean "err"?',
    "known: err, version",
    async () => {
      const out: string[] = [];
      const write = process.stdout.write;
      process.stdout.write = ((chunk: string) => out.push(chunk) > 0) as never;
      try {
        expect(await runCli(["--version"], { version: "9.9.9", err: process.stderr })).toBe(0);
      } finally {
        process.stdout.write = write;
      }
    },
  ],
];

describe("unknown options are refused", () => {
  it.each(cases)("%s", async (_name, call, meant, known, valid) => {
    await expectUnknownOptionRefused(call, { errorClass: ConfigError, meant, known });
    await valid();
  });
});
