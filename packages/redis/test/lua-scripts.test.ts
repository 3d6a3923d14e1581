import { readdirSync, readFileSync } from "node:fs";
import { expect, it } from "vitest";

// The queue's scripts (leader-*.lua belong to RedisLeader) follow the BullMQ layout:
// <camelName>-<numberOfKeys>.lua opening with a header that lists KEYS, ARGV and the reply.
const dir = new URL("../src/lua/", import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith(".lua") && !f.startsWith("leader-"));

it("has a script per transition", () => {
  const names = files.map((f) => f.replace(/-\d+\.lua$/, ""));
  for (const transition of [
    "enqueue",
    "reserve",
    "ack",
    "fail",
    "release",
    "extendVisibility",
    "housekeep",
    "dlqRequeue",
    "dlqPurge",
  ]) {
    expect(names).toContain(transition);
  }
});

it.each(files)(
  "%s documents exactly the KEYS its name declares, its ARGV and its output",
  (file) => {
    const match = /^[a-z][A-Za-z]*-(\d+)\.lua$/.exec(file);
    expect(match, "file name must be <camelName>-<numberOfKeys>.lua").not.toBeNull();
    const lua = readFileSync(new URL(file, dir), "utf8");
    const header = /^--\[\[([\s\S]*?)\]\]/.exec(lua)?.[1] ?? "";
    const keys = header.match(/^\s*KEYS\[\d+\]/gm) ?? [];
    expect(keys).toHaveLength(Number(match![1]));
    expect(header).toMatch(/ARGV\[1\]/);
    expect(header).toMatch(/Output:/);
    // Time comes from the caller's clock, never from Redis.
    expect(lua).not.toMatch(/redis\.call\(\s*'TIME'/i);
  },
);
