import { ConfigError, type JobsError } from "@svc-jobs/core";
import { type KnownKeys, rejectUnknownKeys } from "@svc-jobs/core/backend";

const TIMEOUT_HINTS = { timeout: "timeoutSeconds", timeoutMs: "timeoutSeconds (in seconds)" };
const TOLERANCE_HINTS = {
  tolerance: "toleranceSeconds",
  toleranceMs: "toleranceSeconds (in seconds)",
};

/** Internal: the keys of every options object of this package, for {@link checkOptionKeys}. */
export const OPTION_KEYS = {
  webhookHandler: {
    keys: [
      "outbox",
      "inbox",
      "getWebhookUrlForTopic",
      "getSecretForTopic",
      "headerName",
      "timeoutSeconds",
      "allowPrivateNetworks",
      "inboxTtlSeconds",
      "lookup",
      "userAgent",
      "clock",
    ],
    hints: {
      ...TIMEOUT_HINTS,
      header: "headerName",
      getUrl: "getWebhookUrlForTopic",
      getWebhookUrl: "getWebhookUrlForTopic",
      getSecret: "getSecretForTopic",
      allowPrivateNetwork: "allowPrivateNetworks",
      inboxTtl: "inboxTtlSeconds",
    },
    noun: "makeWebhookHandler option",
  },
  outboxTick: {
    keys: ["outbox", "queue", "topics", "jobNamePrefix", "batchSize", "jobOptions"],
    hints: {
      topic: "topics",
      prefix: "jobNamePrefix",
      limit: "batchSize",
      enqueueOptions: "jobOptions",
    },
    noun: "makeOutboxTick option",
  },
  outboxJobOptions: {
    keys: ["maxAttempts", "backoffSeconds"],
    hints: { attempts: "maxAttempts", backoff: "backoffSeconds" },
    noun: "job option",
  },
  markDeadLetters: {
    keys: ["outbox", "queue", "jobNamePrefix", "pageSize"],
    hints: { prefix: "jobNamePrefix", limit: "pageSize", batchSize: "pageSize" },
    noun: "markDeadLetters option",
  },
  kyselyOutboxStore: { keys: ["dialect", "clock"], noun: "KyselyOutboxStore option" },
  kyselyInboxStore: { keys: ["dialect", "clock"], noun: "KyselyInboxStore option" },
  inMemoryOutboxStore: { keys: ["clock"], noun: "InMemoryOutboxStore option" },
  inMemoryInboxStore: { keys: ["clock"], noun: "InMemoryInboxStore option" },
  migrate: {
    keys: ["dialect", "migrationTableName"],
    hints: { tableName: "migrationTableName", table: "migrationTableName" },
    noun: "migrateWebhookTables option",
  },
  verifyRequest: {
    keys: ["secrets", "scheme", "headerName", "toleranceSeconds", "clock", "maxBodyBytes", "body"],
    hints: {
      ...TOLERANCE_HINTS,
      secret: "secrets",
      header: "headerName",
      maxBodySize: "maxBodyBytes",
    },
    noun: "verifyWebhookRequest option",
  },
  verifyStandard: {
    keys: ["secrets", "toleranceSeconds", "clock"],
    hints: { ...TOLERANCE_HINTS, secret: "secrets" },
    noun: "verifyStandardWebhook option",
  },
  outboxEnqueue: {
    keys: ["trx", "dispatched"],
    hints: { transaction: "trx", tx: "trx", db: "trx", status: "dispatched" },
    noun: "outbox.enqueue option",
  },
  dispatchPending: {
    keys: ["limit", "topics"],
    hints: { topic: "topics", batchSize: "limit" },
    noun: "dispatchPending option",
  },
} as const satisfies Record<string, KnownKeys>;

/**
 * Internal: throws when an options object has a key `known` does not list (a
 * `JobValidationError` on `options.<key>`, or a `ConfigError` with `config`); anything
 * that is not an object is left to the caller's own checks.
 */
export function checkOptionKeys(
  options: unknown,
  known: KnownKeys,
  where: string,
  config = false,
): void {
  if (options === null || typeof options !== "object") return;
  const toError = config
    ? (_key: string, message: string): JobsError => new ConfigError(message)
    : undefined;
  rejectUnknownKeys(options, known, where, toError);
}
