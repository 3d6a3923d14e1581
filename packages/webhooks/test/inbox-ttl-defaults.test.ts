import { type Job, ManualClock } from "@svc-jobs/core";
import {
  DEFAULT_INBOX_MARK_TTL_SECONDS,
  DEFAULT_INBOX_TTL_SECONDS,
  InMemoryInboxStore,
  InMemoryOutboxStore,
  makeWebhookHandler,
} from "@svc-jobs/webhooks";
import { afterEach, describe, expect, it } from "vitest";
import { type Receiver, startReceiver } from "./helpers/receiver.js";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const DAY = 24 * 60 * 60;

describe("inbox mark lifetimes", () => {
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  it("inbox.mark() without a ttl keeps a mark 24 h (DEFAULT_INBOX_MARK_TTL_SECONDS; the old name is an alias)", async () => {
    expect(DEFAULT_INBOX_MARK_TTL_SECONDS).toBe(DAY);
    expect(DEFAULT_INBOX_TTL_SECONDS).toBe(DEFAULT_INBOX_MARK_TTL_SECONDS);
    const clock = new ManualClock();
    const inbox = new InMemoryInboxStore({ clock });
    await inbox.mark("k");
    clock.advance(DAY - 1);
    expect(await inbox.isMarked("k")).toBe(true);
    clock.advance(1);
    expect(await inbox.isMarked("k")).toBe(false);
  });

  it("a delivered webhook's inbox mark lives 7 days unless inboxTtlSeconds says otherwise", async () => {
    receiver = await startReceiver(SECRET);
    const clock = new ManualClock();
    const inbox = new InMemoryInboxStore({ clock });
    const outbox = new InMemoryOutboxStore();
    const handler = makeWebhookHandler({
      outbox,
      inbox,
      getWebhookUrlForTopic: () => (receiver as Receiver).url,
      getSecretForTopic: () => SECRET,
      allowPrivateNetworks: true, // the receiver is on 127.0.0.1
    });
    try {
      const m = await outbox.enqueue("user.created", { user_id: 1 });
      const job: Job = {
        id: "1",
        name: "outbox.user.created",
        payload: { outbox_id: m.id, topic: m.topic, payload: m.payload },
        availableAt: new Date(clock.now()),
        attempts: 1,
        maxAttempts: 5,
        backoffSeconds: 60,
        lastError: null,
      };
      await handler(job, { signal: new AbortController().signal, progress: async () => {} });
      expect(receiver.accepted()).toHaveLength(1);
      clock.advance(7 * DAY - 1);
      expect(await inbox.isMarked(`webhook:${m.id}`)).toBe(true);
      clock.advance(1);
      expect(await inbox.isMarked(`webhook:${m.id}`)).toBe(false);
    } finally {
      await handler.close();
    }
  });
});
