import { Writable } from "node:stream";
import { createLogger } from "@svc-jobs/cli";
import { describe, expect, it } from "vitest";

describe("createLogger", () => {
  it("writes pino JSON lines with the level, the service and secrets redacted", () => {
    let out = "";
    const destination = new Writable({
      write(chunk, _encoding, done) {
        out += String(chunk);
        done();
      },
    });
    const log = createLogger({ level: "debug", destination });
    log.debug({ jobId: "7", password: "hunter2", job: { token: "t" } }, "job completed");
    const line = JSON.parse(out.trim()) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 20,
      msg: "job completed",
      service: "svc-jobs",
      jobId: "7",
      password: "[redacted]",
      job: { token: "[redacted]" },
    });
  });
});
