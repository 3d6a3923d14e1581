import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createDashboard, type DashboardHandler, type DashboardOptions } from "../src/index.js";

export const TOKEN = "test-token-0123456789abcdef";
export const BEARER = { authorization: `Bearer ${TOKEN}` };

/** A dashboard served over real HTTP on loopback. */
export interface Served {
  url: string;
  dashboard: DashboardHandler;
  server: Server;
  close(): Promise<void>;
}

/** Serves `createDashboard(options)` on 127.0.0.1 (a free port), mounted like `mount` says. */
export async function serve(
  options: Partial<DashboardOptions> & Pick<DashboardOptions, "queues">,
  mount: (dashboard: DashboardHandler) => Parameters<typeof createServer>[1] = (d) => d,
): Promise<Served> {
  const dashboard = createDashboard({ auth: { token: TOKEN }, ...options } as DashboardOptions);
  const server = createServer(mount(dashboard));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    dashboard,
    server,
    async close() {
      await dashboard.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The viewer's CSRF token, as a page or `GET /api/session` gives it. */
export async function csrfOf(
  url: string,
  headers: Record<string, string> = BEARER,
): Promise<string> {
  const res = await fetch(`${url}/api/session`, { headers });
  const body = (await res.json()) as { csrfToken: string };
  return body.csrfToken;
}

/** POSTs an action as an API client: JSON back. */
export async function act(
  url: string,
  path: string,
  csrf: string | undefined,
  headers: Record<string, string> = BEARER,
): Promise<{ status: number; body: { ok?: boolean; message?: string; count?: number } }> {
  const res = await fetch(`${url}/api/queues/${path}`, {
    method: "POST",
    headers: { ...headers, ...(csrf === undefined ? {} : { "x-csrf-token": csrf }) },
  });
  return { status: res.status, body: (await res.json()) as { ok?: boolean; message?: string } };
}

/** Waits until `check` passes (or throws its last error after `timeoutMs`). */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
