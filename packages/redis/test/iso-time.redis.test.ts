// available_at is ISO-8601 UTC in layout version 2 (docs/redis-layout.md): the Lua side
// (isoUtc in includes/common.lua, for a retry's due time and the upgrade) and the client
// (job-hash.ts) must write the same text, and the client must read what Python writes.
import { readFileSync } from "node:fs";
import { redisFixture } from "@svc-jobs/test-servers/fixtures";
import { Redis } from "ioredis";
import { expect, it } from "vitest";
import { isoUtc, parseAvailableAt } from "../src/job-hash.js";

const redis = redisFixture(Redis);
const common = readFileSync(new URL("../src/lua/includes/common.lua", import.meta.url), "utf8");

it("Lua's isoUtc writes what the client's isoUtc writes, leap days and fractions included", async () => {
  const times = [
    0,
    Date.UTC(2000, 1, 29, 12, 0, 0, 500),
    Date.UTC(2028, 1, 29, 23, 59, 59, 999),
    Date.UTC(2100, 2, 1),
    Date.UTC(2030, 0, 1) + 1500,
    Date.UTC(2026, 11, 2, 3, 17, 13, 123),
  ];
  for (let i = 0; i < 200; i++) times.push(Math.floor(Math.random() * 4_102_444_800_000));
  const texts = (await redis.client.eval(
    `${common}\nlocal out = {}\nfor i = 1, #ARGV do out[i] = isoUtc(tonumber(ARGV[i])) end\nreturn out`,
    0,
    ...times.map((ms) => String(ms / 1000)),
  )) as string[];
  expect(texts).toEqual(times.map((ms) => isoUtc(ms)));
  for (const [i, ms] of times.entries()) expect(parseAvailableAt(texts[i])).toBe(ms);
});

it("reads available_at as Python's isoformat() writes it, and version 1's epoch ms", () => {
  expect(isoUtc(Date.UTC(2026, 11, 2, 3, 17, 13, 123))).toBe("2026-12-02T03:17:13.123000+00:00");
  expect(parseAvailableAt("2026-12-02T03:17:13.123456+00:00")).toBe(
    Date.UTC(2026, 11, 2, 3, 17, 13, 123) + 0.456,
  );
  // isoformat() leaves the fraction out when it is zero.
  expect(parseAvailableAt("2026-12-02T03:17:13+00:00")).toBe(Date.UTC(2026, 11, 2, 3, 17, 13));
  expect(parseAvailableAt("2026-12-02T03:17:13Z")).toBe(Date.UTC(2026, 11, 2, 3, 17, 13));
  expect(parseAvailableAt("2026-12-02T05:17:13+02:00")).toBe(Date.UTC(2026, 11, 2, 3, 17, 13));
  expect(parseAvailableAt("2026-12-02T03:17:13")).toBe(Date.UTC(2026, 11, 2, 3, 17, 13));
  expect(parseAvailableAt("1893456000000")).toBe(1893456000000);
  expect(parseAvailableAt("soon")).toBeNaN();
});
