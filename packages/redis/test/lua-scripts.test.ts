import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { expect, it } from "vitest";
import { GENERATED_FILE, generateLuaModule } from "../scripts/gen-lua.mjs";
import * as generated from "../src/lua/scripts.generated.js";

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

// The scripts ship inside the JavaScript: src/lua/scripts.generated.ts is made from the
// .lua files by `pnpm --filter @svc-jobs/redis gen:lua` (the build runs it too).
it("the committed scripts.generated.ts is what gen:lua makes of src/lua (else run gen:lua)", () => {
  const committed = readFileSync(GENERATED_FILE, "utf8");
  expect(committed === generateLuaModule(), `${GENERATED_FILE} is out of date`).toBe(true);
});

it("every .lua file is a generated script, with its includes inlined", () => {
  const all = readdirSync(dir).filter((f) => f.endsWith(".lua"));
  const exported = Object.entries(generated).filter(([, v]) => typeof v === "object");
  expect(exported).toHaveLength(all.length);
  for (const file of all) {
    const name = file.replace(/-\d+\.lua$/, "").replace(/-([a-z])/g, (_m, c) => c.toUpperCase());
    const script = (generated as Record<string, { lua: string; numberOfKeys: number }>)[name];
    expect(script, file).toBeDefined();
    expect(script!.numberOfKeys).toBe(Number(/-(\d+)\.lua$/.exec(file)![1]));
    expect(script!.lua).not.toMatch(/^-- @include/m);
    const source = readFileSync(new URL(file, dir), "utf8");
    if (/^-- @include "common"$/m.test(source)) {
      expect(script!.lua).toContain(readFileSync(new URL("includes/common.lua", dir), "utf8"));
    } else {
      expect(script!.lua).toBe(source);
    }
  }
});

it("the generator refuses a missing include and a misnamed script", () => {
  const tmp = mkdtempSync(join(tmpdir(), "svc-jobs-lua-"));
  try {
    writeFileSync(join(tmp, "ok-1.lua"), '-- @include "nope"\nreturn 1\n');
    expect(() => generateLuaModule(pathToFileURL(`${tmp}/`))).toThrow(/includes\/nope\.lua/);
    rmSync(join(tmp, "ok-1.lua"));
    writeFileSync(join(tmp, "noKeys.lua"), "return 1\n");
    expect(() => generateLuaModule(pathToFileURL(`${tmp}/`))).toThrow(/numberOfKeys/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

it("src reads no files and imports no ioredis types: the scripts are in the JavaScript", () => {
  const srcDir = new URL("../src/", import.meta.url);
  const sources = readdirSync(srcDir, { recursive: true, encoding: "utf8" }).filter((f) =>
    f.endsWith(".ts"),
  );
  expect(sources.length).toBeGreaterThan(3);
  for (const file of sources) {
    const text = readFileSync(new URL(file, srcDir), "utf8");
    expect(text, file).not.toMatch(/from "(node:)?fs(\/promises)?"|import\.meta\.url|readFile/);
    expect(text, file).not.toMatch(/^import [^;]*from "ioredis"/m);
  }
});
