import { ConfigError, InMemoryJobQueue, JobValidationError } from "@svc-jobs/core";
import { expectUnknownOptionRefused } from "@svc-jobs/test-servers/fixtures";
import {
  InMemoryInboxStore,
  InMemoryOutboxStore,
  KyselyInboxStore,
  KyselyOutboxStore,
  makeOutboxTick,
  makeWebhookHandler,
  markDeadLetters,
  migrateWebhookTables,
  signStandardWebhook,
  verifyStandardWebhook,
  verifyWebhookRequest,
} from "@svc-jobs/webhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSqliteDatabase, type TestDatabase } from "./helpers/databases.js";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const body = '{"a":1}';
const standardHeaders = () =>
  signStandardWebhook(SECRET, { id: "msg_1", timestamp: Math.floor(Date.now() / 1000), body });

let t: TestDatabase;
beforeAll(async () => {
  t = await createSqliteDatabase();
  await migrateWebhookTables(t.db);
});
afterAll(async () => {
  await t.destroy();
});

const handlerOptions = () => ({
  outbox: new InMemoryOutboxStore(),
  inbox: new InMemoryInboxStore(),
  getWebhookUrlForTopic: () => "https://example.com/hook",
  getSecretForTopic: () => SECRET,
});
const tickOptions = () => ({ outbox: new InMemoryOutboxStore(), queue: new InMemoryJobQueue() });

type Call = () => unknown;
type ErrorClass = abstract new (...args: never[]) => Error;
/** [name, call with an unknown key, error class, did-you-mean text, known keys, valid call] */
const cases: [string, Call, ErrorClass, string, string, Call][] = [
  [
    "makeWebhookHandler",
    () => makeWebhookHandler({ ...handlerOptions(), timeout: 5 } as never),
    JobValidationError,
    'did you mean "timeoutSeconds"?',
    "known: outbox, inbox, getWebhookUrlForTopic, getSecretForTopic, headerName",
    () => makeWebhookHandler({ ...handlerOptions(), timeoutSeconds: 5 }),
  ],
  [
    "makeOutboxTick",
    () => makeOutboxTick({ ...tickOptions(), batchSise: 5 } as never),
    JobValidationError,
    'did you mean "batchSize"?',
    "known: outbox, queue, topics, jobNamePrefix, batchSize, jobOptions",
    () => makeOutboxTick({ ...tickOptions(), batchSize: 5 })(),
  ],
  [
    "makeOutboxTick jobOptions (the tick sets the dedupe key and no delay)",
    () => makeOutboxTick({ ...tickOptions(), jobOptions: { delaySeconds: 5 } } as never),
    JobValidationError,
    'unknown job option "delaySeconds"',
    "known: maxAttempts, backoffSeconds",
    () => makeOutboxTick({ ...tickOptions(), jobOptions: { maxAttempts: 3, backoffSeconds: 1 } }),
  ],
  [
    "markDeadLetters",
    () => markDeadLetters({ ...tickOptions(), pagesize: 5 } as never),
    JobValidationError,
    'did you mean "pageSize"?',
    "known: outbox, queue, jobNamePrefix, pageSize",
    () => markDeadLetters({ ...tickOptions(), pageSize: 5 }),
  ],
  [
    "new InMemoryOutboxStore",
    () => new InMemoryOutboxStore({ clok: Date } as never),
    JobValidationError,
    'did you mean "clock"?',
    "known: clock",
    () => new InMemoryOutboxStore({ clock: { now: () => 0 } }),
  ],
  [
    "new InMemoryInboxStore",
    () => new InMemoryInboxStore({ clocks: Date } as never),
    JobValidationError,
    'did you mean "clock"?',
    "known: clock",
    () => new InMemoryInboxStore({ clock: { now: () => 0 } }),
  ],
  [
    "InMemoryOutboxStore.enqueue",
    () => new InMemoryOutboxStore().enqueue("t", {}, { transaction: {} } as never),
    JobValidationError,
    'did you mean "trx"?',
    "known: trx",
    () => new InMemoryOutboxStore().enqueue("t", {}, { trx: undefined }),
  ],
  [
    "InMemoryOutboxStore.dispatchPending",
    () => new InMemoryOutboxStore().dispatchPending({ limt: 1 } as never, async () => {}),
    JobValidationError,
    'did you mean "limit"?',
    "known: limit, topics",
    () => new InMemoryOutboxStore().dispatchPending({ limit: 1 }, async () => {}),
  ],
  [
    "new KyselyOutboxStore",
    () => new KyselyOutboxStore(t.db, { dialct: "sqlite" } as never),
    ConfigError,
    'did you mean "dialect"?',
    "known: dialect, clock",
    () => new KyselyOutboxStore(t.db, { dialect: "sqlite" }),
  ],
  [
    "new KyselyInboxStore",
    () => new KyselyInboxStore(t.db, { Dialect: "sqlite" } as never),
    ConfigError,
    'did you mean "dialect"?',
    "known: dialect, clock",
    () => new KyselyInboxStore(t.db, { dialect: "sqlite" }),
  ],
  [
    "KyselyOutboxStore.enqueue",
    () => new KyselyOutboxStore(t.db).enqueue("t", {}, { tx: t.db } as never),
    JobValidationError,
    'did you mean "trx"?',
    "known: trx",
    () => new KyselyOutboxStore(t.db).enqueue("t", {}, { trx: t.db }),
  ],
  [
    "migrateWebhookTables",
    () => migrateWebhookTables(t.db, { tableName: "x" } as never),
    ConfigError,
    'did you mean "migrationTableName"?',
    "known: dialect, migrationTableName",
    () => migrateWebhookTables(t.db, { dialect: "sqlite" }),
  ],
  [
    "verifyWebhookRequest",
    () =>
      verifyWebhookRequest(
        { headers: new Headers(standardHeaders()) } as never,
        {
          secret: SECRET,
          body,
        } as never,
      ),
    JobValidationError,
    'did you mean "secrets"?',
    "known: secrets, scheme, headerName, toleranceSeconds, clock, maxBodyBytes, body",
    () =>
      verifyWebhookRequest({ headers: new Headers(standardHeaders()) } as never, {
        secrets: SECRET,
        body,
      }),
  ],
  [
    "verifyStandardWebhook",
    () =>
      verifyStandardWebhook(body, standardHeaders(), { secrets: SECRET, tolerance: 5 } as never),
    JobValidationError,
    'did you mean "toleranceSeconds"?',
    "known: secrets, toleranceSeconds, clock",
    () => verifyStandardWebhook(body, standardHeaders(), { secrets: SECRET, toleranceSeconds: 5 }),
  ],
];

describe("unknown options are refused", () => {
  it.each(cases)("%s", async (_name, call, errorClass, meant, known, valid) => {
    await expectUnknownOptionRefused(call, {
      errorClass: errorClass,
      field: /^(opts|options|jobOptions)\./,
      meant,
      known,
    });
    await valid();
  });

  it("a refused outbox.enqueue writes nothing", async () => {
    const memory = new InMemoryOutboxStore();
    await expect(memory.enqueue("t", {}, { tx: 1 } as never)).rejects.toThrow(JobValidationError);
    const kysely = new KyselyOutboxStore(t.db);
    const before = await t.db.selectFrom("svc_jobs_outbox").select("id").execute();
    await expect(kysely.enqueue("t", {}, { tx: 1 } as never)).rejects.toThrow(JobValidationError);
    expect(await t.db.selectFrom("svc_jobs_outbox").select("id").execute()).toEqual(before);
    let sent = 0;
    await memory.dispatchPending({}, async (messages) => {
      sent += messages.length;
    });
    expect(sent).toBe(0);
  });
});
