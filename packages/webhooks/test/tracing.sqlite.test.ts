import { describe, it } from "vitest";
import { createSqliteDatabase } from "./helpers/databases.js";
import { runTracedOutbox, useSpans } from "./helpers/tracing.js";

const exporter = useSpans();

describe("tracing: outbox to webhook (docs/tracing.md)", () => {
  it("sqlite: the receiver sees the trace of the request that wrote the outbox row", async () => {
    await runTracedOutbox(exporter, createSqliteDatabase);
  }, 30_000);

  it("in memory: the same", async () => {
    await runTracedOutbox(exporter, "memory");
  }, 30_000);
});
