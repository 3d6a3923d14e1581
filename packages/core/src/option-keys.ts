import type { KnownKeys } from "./reject-unknown-keys.js";

/** The keys of `ReserveOptions` (`reserveNext`, `reserveMany`), for `rejectUnknownKeys`. */
export const RESERVE_OPTIONS: KnownKeys = Object.freeze({
  keys: Object.freeze(["blockSeconds", "signal"]),
  hints: Object.freeze({
    block: "blockSeconds",
    timeout: "blockSeconds",
    blockMs: "blockSeconds (in seconds)",
  }),
  noun: "reserve option",
});

/** The keys of `DlqListOptions` (`dlq.list`), for `rejectUnknownKeys`. */
export const DLQ_LIST_OPTIONS: KnownKeys = Object.freeze({
  keys: Object.freeze(["limit", "offset"]),
  hints: Object.freeze({ skip: "offset", count: "limit", max: "limit" }),
  noun: "dlq.list option",
});
