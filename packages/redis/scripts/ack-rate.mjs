// Ack rate against jobs in flight: reserves N jobs, then acks 2,000 of them (all when N is
// smaller) oldest first, and in a fresh run in random order, and prints acks/s for each. Layout version 2 keeps a
// svc-jobs reservation in processing_vt only, so the rate should not fall as N grows.
//
//   REDIS_URL=redis://127.0.0.1:6379/0 node --conditions=@svc-jobs/source \
//     --import tsx packages/redis/scripts/ack-rate.mjs 1000 50000
//
// (or against the built package: node packages/redis/scripts/ack-rate.mjs). It writes
// under a fresh prefix and deletes it afterwards.
import { RedisJobQueue } from "@svc-jobs/redis";
import { Redis } from "ioredis";

const ACKS = 2000;
const client = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0");
const sizes = process.argv.slice(2).map(Number);

async function deletePrefix(prefix) {
  let cursor = "0";
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length) await client.unlink(...keys);
  } while (cursor !== "0");
}

async function measure(inFlight, order) {
  const prefix = `ackrate-${process.pid}-${inFlight}-${order}`;
  const queue = new RedisJobQueue(client, { prefix, visibilityTimeoutSeconds: 3600 });
  for (let i = 0; i < inFlight; i += 1000) {
    const n = Math.min(1000, inFlight - i);
    await queue.enqueueMany(Array.from({ length: n }, (_, k) => ({ name: "x", payload: { k } })));
  }
  const held = [];
  while (held.length < inFlight) held.push(...(await queue.reserveMany(1000)));
  const acks = Math.min(ACKS, inFlight);
  let picked = held.slice(0, acks);
  if (order === "random") {
    const copy = held.slice();
    picked = [];
    for (let i = 0; i < acks; i++) {
      picked.push(copy.splice(Math.floor(Math.random() * copy.length), 1)[0]);
    }
  }
  const started = process.hrtime.bigint();
  for (const job of picked) await queue.ack(job);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await queue.close();
  await deletePrefix(prefix);
  return Math.round(acks / seconds);
}

await measure(2000, "warm-up"); // loads the scripts and warms the JIT; not reported
for (const n of sizes.length ? sizes : [1000, 50000]) {
  for (const order of ["oldest-first", "random"]) {
    console.log(`${n} in flight, ${order}: ${await measure(n, order)} acks/s`);
  }
}
await client.quit();
