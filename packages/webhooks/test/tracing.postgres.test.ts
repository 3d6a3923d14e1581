import { it } from "vitest";
import { createPostgresDatabase } from "./helpers/databases.js";
import { runTracedOutbox, useSpans } from "./helpers/tracing.js";

const exporter = useSpans();

it("postgres: the receiver sees the trace of the request that wrote the outbox row (docs/tracing.md)", async () => {
  await runTracedOutbox(exporter, createPostgresDatabase);
}, 60_000);
