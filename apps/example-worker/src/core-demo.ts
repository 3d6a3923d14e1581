// A tour of the core queue in one process: enqueue, process, retry with backoff,
// dead-letter, inspect and requeue. Run it with `npm run demo:core` at the repo root
// (or `pnpm --filter @svc-jobs/example-worker demo:core`).
import { InMemoryJobQueue, type Job, WorkerRunner } from "@svc-jobs/core";

const queue = new InMemoryJobQueue({ visibilityTimeoutSeconds: 5 });
const failuresLeft = new Map<string, number>([["charge_card", 2]]);
const t0 = Date.now();
const say = (msg: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(2)}s] ${msg}`);

async function handler(job: Job): Promise<void> {
  switch (job.name) {
    case "send_email":
      say(`  sending email to ${job.payload.to}`);
      return;
    case "charge_card": {
      const left = failuresLeft.get(job.name) ?? 0;
      if (left > 0) {
        failuresLeft.set(job.name, left - 1);
        throw new Error(`payment gateway unavailable (attempt ${job.attempts})`);
      }
      say(`  charged order ${job.payload.order} on attempt ${job.attempts}`);
      return;
    }
    case "resize_image":
      throw new Error(`image ${job.payload.image} is corrupt`);
    default:
      throw new Error(`no handler for ${job.name}`);
  }
}

say("enqueue four jobs (backoff 0.2 s so retries happen quickly)");
await queue.enqueue("send_email", { to: "ada@example.com" });
await queue.enqueue("charge_card", { order: 42 }, { backoffSeconds: 0.2 });
await queue.enqueue("resize_image", { image: "cat.png" }, { maxAttempts: 3, backoffSeconds: 0.2 });
await queue.enqueue("send_email", { to: "later@example.com" }, { delaySeconds: 0.5 });
say(`stats: ${JSON.stringify(await queue.stats())}`);

const runner = new WorkerRunner(queue, handler, {
  concurrency: 2,
  pollIntervalSeconds: 0.1,
  onJobSettled: ({ job, status, error }) =>
    say(
      `job ${job.id} ${job.name} attempt ${job.attempts}/${job.maxAttempts}: ${status}` +
        (error ? ` (${(error as Error).message})` : ""),
    ),
});
const done = runner.start();

// Wait until nothing is left but the dead letter queue.
for (;;) {
  await new Promise((r) => setTimeout(r, 100));
  const s = await queue.stats();
  if (s.ready + s.delayed + s.processing === 0) break;
}
await runner.stop({ graceSeconds: 1 });
await done;

say(`stats: ${JSON.stringify(await queue.stats())}`);
for (const job of await queue.dlq.list()) {
  say(
    `dead letter: job ${job.id} ${job.name} after ${job.attempts} attempts, last error: ${job.lastError}`,
  );
}
say(`requeue the dead jobs: ${await queue.dlq.requeueAll()} moved back to ready`);
const again = await queue.reserveNext();
say(`reserved job ${again?.id} ${again?.name} again, attempts counted from ${again?.attempts}`);
await queue.ack(again!);
say(`final stats: ${JSON.stringify(await queue.stats())}`);
await queue.close();
