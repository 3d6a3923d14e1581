import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { checkOptionKeys, OPTION_KEYS } from "./option-keys.js";

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** Address to bind. @default "0.0.0.0" (reachable by Prometheus and the kubelet) */
  host?: string;
  /** Registries whose metrics `/metrics` serves, concatenated. */
  registries: Registry[];
  /** Whether `/readyz` answers 200 (taking jobs, backend reachable). */
  isReady: () => boolean | Promise<boolean>;
}

/** A running metrics server. */
export interface MetricsServer {
  /** The port it listens on. */
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `/metrics` (Prometheus text), `/healthz` (200 while the process runs) and
 * `/readyz` (200 while the worker takes jobs, 503 while it drains or its backend is
 * down) for the worker.
 *
 * @example
 * ```ts
 * const server = await startMetricsServer({ port: 9464, registries: [register], isReady: () => true });
 * ```
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  checkOptionKeys(options, OPTION_KEYS.metricsServer, "startMetricsServer options");
  const registries = [...new Set(options.registries)];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const reply = (status: number, body: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return reply(405, "method not allowed\n");
    if (path === "/healthz") return reply(200, "ok\n");
    if (path === "/readyz") {
      Promise.resolve(options.isReady())
        .then((ready) => reply(ready ? 200 : 503, ready ? "ready\n" : "not ready\n"))
        .catch(() => reply(503, "not ready\n"));
      return;
    }
    if (path === "/metrics") {
      Promise.all(registries.map((r) => r.metrics()))
        .then((texts) =>
          reply(
            200,
            texts.filter((t) => t.trim() !== "").join("\n"),
            registries[0]?.contentType ?? "text/plain; version=0.0.4; charset=utf-8",
          ),
        )
        .catch((error: unknown) => reply(500, `metrics failed: ${String(error)}\n`));
      return;
    }
    reply(404, "not found: try /metrics, /healthz or /readyz\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
