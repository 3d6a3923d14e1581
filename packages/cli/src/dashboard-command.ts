import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { JobQueue } from "@svc-jobs/core";
import { CliError, EXIT_RUNTIME, EXIT_USAGE } from "./cli-error.js";
import { type AdminCommandTarget, withAdmin } from "./open-admin.js";

// `svc-jobs dashboard`: the operator dashboard (@svc-jobs/dashboard) on the configured
// backend, until SIGINT or SIGTERM.

/** The environment variable `svc-jobs dashboard` reads the token from. */
export const DASHBOARD_TOKEN_ENV = "SVC_JOBS_DASHBOARD_TOKEN";
/** The environment variable `svc-jobs dashboard` reads the basic-auth password from. */
export const DASHBOARD_PASSWORD_ENV = "SVC_JOBS_DASHBOARD_PASSWORD";

/** Options of {@link dashboardCommand}. */
export interface DashboardCommandOptions extends AdminCommandTarget {
  /** The queues to show: one prefix, or several separated by commas. */
  prefixes: string[];
  /** @default 8080 */
  port?: number;
  /** The address to listen on. @default "127.0.0.1" */
  host?: string;
  /** Bearer token (at least 16 characters). */
  token?: string;
  /** Basic-auth user name (with `password`). */
  username?: string;
  password?: string;
  /** Run without authentication (only behind a proxy that authenticates). @default false */
  noAuth?: boolean;
  /** Hide and refuse every action. @default false */
  readOnly?: boolean;
  /** Stops the server as SIGINT/SIGTERM do (for tools that embed the command). */
  signal?: AbortSignal;
  /** Called once the server listens, with its URL. */
  onListening?: (url: string) => void;
  /** Where the start line goes. @default process.stdout */
  out?: NodeJS.WritableStream;
}

/**
 * `svc-jobs dashboard`: serves the dashboard for `prefixes` on `host:port` until SIGINT or
 * SIGTERM (or `signal`), then closes the server and its connection and returns. Refuses
 * to start without `token`, `username` + `password`, or `noAuth`.
 */
export async function dashboardCommand(options: DashboardCommandOptions): Promise<void> {
  const out = options.out ?? process.stdout;
  const auth = resolveAuth(options);
  const { createDashboard } = await import("@svc-jobs/dashboard");
  await withAdmin(options, async (admin) => {
    const queues: Record<string, JobQueue> = {};
    for (const prefix of options.prefixes) queues[prefix] = admin.queue(prefix);
    let dashboard: ReturnType<typeof createDashboard>;
    try {
      dashboard = createDashboard({ queues, auth, readOnly: options.readOnly ?? false });
    } catch (error) {
      throw new CliError(error instanceof Error ? error.message : String(error), {
        code: "ERR_USAGE",
        exitCode: EXIT_USAGE,
        cause: error,
      });
    }
    const server = createServer(dashboard);
    const host = options.host ?? "127.0.0.1";
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port ?? 8080, host, () => {
          server.off("error", reject);
          resolve();
        });
      });
    } catch (error) {
      await dashboard.close();
      throw new CliError(
        `svc-jobs dashboard could not listen on ${host}:${options.port ?? 8080}: ${(error as Error).message}`,
        { code: "ERR_LISTEN", exitCode: EXIT_RUNTIME, cause: error },
      );
    }
    const { port } = server.address() as AddressInfo;
    const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}/`;
    const how = auth === false ? "no authentication" : "token" in auth ? "token" : "basic";
    // Never the token or password: only how the dashboard authenticates.
    out.write(
      `svc-jobs dashboard on ${url} (queues: ${options.prefixes.join(", ")}; auth: ${how}${options.readOnly ? "; read-only" : ""})\n`,
    );
    options.onListening?.(url);
    const stop = new AbortController();
    const abort = () => stop.abort();
    process.once("SIGINT", abort);
    process.once("SIGTERM", abort);
    options.signal?.addEventListener("abort", abort, { once: true });
    if (options.signal?.aborted) abort();
    try {
      await new Promise<void>((resolve) => {
        if (stop.signal.aborted) resolve();
        stop.signal.addEventListener("abort", () => resolve(), { once: true });
      });
    } finally {
      process.off("SIGINT", abort);
      process.off("SIGTERM", abort);
      options.signal?.removeEventListener("abort", abort);
      await dashboard.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
}

function resolveAuth(
  options: DashboardCommandOptions,
): { token: string } | { username: string; password: string } | false {
  const token = options.token ?? process.env[DASHBOARD_TOKEN_ENV];
  const password = options.password ?? process.env[DASHBOARD_PASSWORD_ENV];
  const given = [token !== undefined && token !== "", options.username !== undefined].filter(
    Boolean,
  );
  if (options.noAuth) {
    if (given.length > 0) {
      throw usage("svc-jobs dashboard takes --no-auth or credentials, not both");
    }
    return false;
  }
  if (given.length > 1) {
    throw usage("svc-jobs dashboard takes --token or --username/--password, not both");
  }
  if (token !== undefined && token !== "") return { token };
  if (options.username !== undefined) {
    if (password === undefined || password === "") {
      throw usage(
        `--username needs a password: --password or ${DASHBOARD_PASSWORD_ENV} (the variable keeps it out of ps)`,
      );
    }
    return { username: options.username, password };
  }
  throw usage(
    `svc-jobs dashboard refuses to start without authentication: set ${DASHBOARD_TOKEN_ENV} (or --token), or --username with ${DASHBOARD_PASSWORD_ENV}, or pass --no-auth behind a proxy that authenticates`,
  );
}

function usage(message: string): CliError {
  return new CliError(message, { code: "ERR_USAGE", exitCode: EXIT_USAGE });
}
