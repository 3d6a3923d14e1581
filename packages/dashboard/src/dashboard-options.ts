import type { JobQueue } from "@svc-jobs/core";
import type { KnownKeys } from "@svc-jobs/core/backend";

/** Bearer-token authentication: `Authorization: Bearer <token>`, or the login page in a browser. */
export interface DashboardTokenAuth {
  /** The token operators present; at least 16 characters. Keep it out of source control. */
  token: string;
}

/** HTTP Basic authentication: the browser asks for these credentials. */
export interface DashboardBasicAuth {
  username: string;
  password: string;
}

/**
 * Who may use the dashboard: a token, basic credentials, or `false` for nobody checked
 * (only behind something that authenticates already, such as an SSO proxy).
 */
export type DashboardAuth = DashboardTokenAuth | DashboardBasicAuth | false;

/** Options of {@link createDashboard}. */
export interface DashboardOptions {
  /**
   * The queues to show, by the name the dashboard gives them (`{ emails, webhooks }`), or
   * one queue, shown as `default`.
   */
  queues: Record<string, JobQueue> | JobQueue;
  /**
   * Required: a token, basic credentials, or `false` to turn authentication off
   * explicitly. There is no default: a dashboard without it refuses to start.
   */
  auth: DashboardAuth;
  /** Show everything, hide every action, and answer 403 to any action. @default false */
  readOnly?: boolean;
  /**
   * The path the dashboard is mounted at, as the browser sees it (`"/admin/jobs"`): links
   * and forms start with it. A request whose URL starts with it has it stripped; one
   * whose URL does not (Express's `app.use(path, handler)` strips it already) is served
   * as it is. @default ""
   */
  basePath?: string;
  /** The page title and header. @default "svc-jobs" */
  title?: string;
  /**
   * Signs the session cookie of token auth and the CSRF tokens. Give every replica
   * behind one load balancer the same secret (at least 32 characters); otherwise a
   * random one per process is used, and a restart asks browsers to log in again.
   * @default a random secret per process
   */
  secret?: string;
  /**
   * How many recent events of each queue the dashboard keeps in memory for job pages
   * and the event log. @default 2000
   */
  eventBufferSize?: number;
  /**
   * Where errors the dashboard cannot show a user go (a queue that fails, a lost event
   * subscription). Never given payloads or credentials. @default console
   */
  logger?: DashboardLogger;
}

/** What the dashboard logs with: pino, console or anything with these methods. */
export interface DashboardLogger {
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** The keys of {@link DashboardOptions}, for the unknown-key check. */
export const DASHBOARD_OPTION_KEYS: KnownKeys = {
  keys: ["queues", "auth", "readOnly", "basePath", "title", "secret", "eventBufferSize", "logger"],
  hints: {
    queue: "queues",
    readonly: "readOnly",
    readOnlyMode: "readOnly",
    path: "basePath",
    prefix: "basePath",
    mountPath: "basePath",
    base: "basePath",
    token: "auth: { token }",
    username: "auth: { username, password }",
    password: "auth: { username, password }",
    noAuth: "auth: false",
    csrfSecret: "secret",
    sessionSecret: "secret",
  },
  noun: "createDashboard option",
};
