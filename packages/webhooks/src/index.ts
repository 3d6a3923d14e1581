export { canonicalJson, canonicalJsonFromText } from "./canonical-json.js";
export {
  assertPublicDestination,
  type DestinationOptions,
  type HostLookup,
  isPrivateAddress,
  type ResolvedAddress,
  systemLookup,
} from "./destination-guard.js";
export {
  WebhookDeliveryError,
  WebhookDestinationError,
  WebhookVerificationError,
} from "./errors.js";
export {
  InMemoryInboxStore,
  type InMemoryInboxStoreOptions,
} from "./in-memory-inbox-store.js";
export {
  InMemoryOutboxStore,
  type InMemoryOutboxStoreOptions,
} from "./in-memory-outbox-store.js";
export {
  DEFAULT_INBOX_MARK_TTL_SECONDS,
  DEFAULT_INBOX_TTL_SECONDS,
  type InboxStore,
} from "./inbox-store.js";
export { KyselyInboxStore, type KyselyInboxStoreOptions } from "./kysely-inbox-store.js";
export { KyselyOutboxStore, type KyselyOutboxStoreOptions } from "./kysely-outbox-store.js";
export { makeOutboxTick, type OutboxTickOptions } from "./make-outbox-tick.js";
export {
  makeWebhookHandler,
  type WebhookHandler,
  type WebhookHandlerOptions,
  type WebhookJobPayload,
} from "./make-webhook-handler.js";
export { type MarkDeadLettersOptions, markDeadLetters } from "./mark-dead-letters.js";
export type {
  DispatchPendingOptions,
  OutboxEnqueueOptions,
  OutboxMessage,
  OutboxStatus,
  OutboxStore,
} from "./outbox-store.js";
export { sign } from "./sign.js";
export {
  type StandardWebhookHeaders,
  type StandardWebhookMessage,
  signStandardWebhook,
} from "./sign-standard-webhook.js";
export type { HeaderSource } from "./standard-webhook-key.js";
export { verify, verifyAny } from "./verify.js";
export {
  type VerifiedStandardWebhook,
  type VerifyStandardWebhookOptions,
  verifyStandardWebhook,
} from "./verify-standard-webhook.js";
export {
  type FetchLikeRequest,
  type VerifiedWebhookRequest,
  type VerifyWebhookRequestOptions,
  verifyWebhookRequest,
} from "./verify-webhook-request.js";
export {
  type MigrateWebhookTablesOptions,
  migrateWebhookTables,
  type WebhookMigration,
  webhookMigrations,
} from "./webhook-migrations.js";
export {
  type AnyKysely,
  INBOX_TABLE,
  OUTBOX_TABLE,
  type WebhookDialect,
} from "./webhook-tables.js";
