import { createServer, type Server, type Socket } from "node:net";
import { CliError, connectRedis } from "@svc-jobs/cli";
import { BackendError } from "@svc-jobs/core";
import { afterEach, describe, expect, it, vi } from "vitest";

describe("connectRedis", () => {
  let server: Server | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    vi.unstubAllEnvs();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server?.close(resolve));
  });

  it("a server that accepts but never answers is a CliError within the timeout, a BackendError as its cause", async () => {
    // CI sets REDIS_CLUSTER_NODES for the cluster tests; it would win over the url here.
    vi.stubEnv("REDIS_CLUSTER_NODES", "");
    // Accepts the connection and says nothing: PING never gets a reply.
    server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    const started = Date.now();
    const error = await connectRedis({ url: `redis://127.0.0.1:${port}/0`, timeoutSeconds: 0.3 })
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(CliError);
    expect(error).toMatchObject({
      code: "ERR_REDIS_UNREACHABLE",
      message: expect.stringContaining(
        `cannot reach Redis at redis://127.0.0.1:${port}/0 (no answer within 0.3s)`,
      ),
    });
    expect((error as CliError).cause).toBeInstanceOf(BackendError);
  });
});
