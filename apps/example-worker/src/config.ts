import { ConfigError } from "@svc-jobs/core";

/** Everything the example app reads from the environment. */
export interface ExampleConfig {
  /** HTTP port of the API (and the local webhook receiver); 0 picks a free one. */
  port: number;
  /** Address the API binds. */
  host: string;
  /** PostgreSQL URL; when unset the app uses the SQLite file. */
  databaseUrl: string | undefined;
  /** SQLite file used without `DATABASE_URL`. */
  sqliteFile: string;
  /** Where order events are POSTed. Defaults to this app's own receiver. */
  webhookUrl: string | undefined;
  /** HMAC secret shared by the sender and the receiver. */
  webhookSecret: string;
  /** Base of the linear retry delay of webhook deliveries, in seconds. */
  webhookBackoffSeconds: number;
  /** How often the outbox relay runs, in seconds. */
  outboxIntervalSeconds: number;
  /** How often the cleanup task runs, in seconds. */
  cleanupIntervalSeconds: number;
  /** `all` (API, worker, scheduler in one process) or `api` (workers run as `svc-jobs run`). */
  role: "all" | "api";
  /** Worker concurrency in the `all` role. */
  concurrency: number;
  /**
   * Token of the dashboard at `/admin/jobs` (`SVC_JOBS_DASHBOARD_TOKEN`); unset, the app
   * makes a random one for the run.
   */
  dashboardToken: string | undefined;
}

/**
 * Reads the example's configuration. Every value has an embedded default, so the
 * app runs with no configuration at all (queue and orders in one SQLite file).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ExampleConfig {
  const role = (env.EXAMPLE_ROLE ?? "all").trim().toLowerCase();
  if (role !== "all" && role !== "api") {
    throw new ConfigError(
      `EXAMPLE_ROLE is ${JSON.stringify(env.EXAMPLE_ROLE)}: use "all" (API, worker and scheduler in one process) or "api" (run workers with svc-jobs run)`,
    );
  }
  return {
    port: number(env, "PORT", 3000, 0),
    host: env.HOST?.trim() || "127.0.0.1",
    databaseUrl: env.DATABASE_URL?.trim() || undefined,
    sqliteFile: env.SQLITE_FILE?.trim() || "./data/example.sqlite",
    webhookUrl: env.WEBHOOK_URL?.trim() || undefined,
    // A development default only; production sets its own (the app warns when it is used).
    webhookSecret: env.WEBHOOK_SECRET?.trim() || "dev-secret-change-me",
    webhookBackoffSeconds: number(env, "WEBHOOK_BACKOFF_SECONDS", 5, 0),
    outboxIntervalSeconds: number(env, "OUTBOX_INTERVAL_SECONDS", 1, 0.01),
    cleanupIntervalSeconds: number(env, "CLEANUP_INTERVAL_SECONDS", 3600, 0.01),
    role,
    concurrency: number(env, "WORKER_CONCURRENCY", 4, 1),
    dashboardToken: env.SVC_JOBS_DASHBOARD_TOKEN?.trim() || undefined,
  };
}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    throw new ConfigError(`${name} must be a number >= ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}
