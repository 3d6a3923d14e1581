import { JobsError } from "@svc-jobs/core";

/**
 * A webhook destination was refused before any connection was made: a scheme other
 * than http(s), or a host that resolves to a loopback, private, link-local or otherwise
 * non-public address while `allowPrivateNetworks` is off.
 */
export class WebhookDestinationError extends JobsError {
  /** The destination without its query string (which may hold tokens). */
  readonly destination: string;
  /** The refused address, when the refusal came from one. */
  readonly address: string | undefined;

  constructor(
    destination: string,
    message: string,
    options?: { address?: string; cause?: unknown },
  ) {
    super(message, { code: "ERR_WEBHOOK_DESTINATION", cause: options?.cause });
    this.destination = destination;
    this.address = options?.address;
  }
}

/** A delivery did not end in a 2xx: a non-2xx status, a timeout or a network error. */
export class WebhookDeliveryError extends JobsError {
  /** The destination without its query string. */
  readonly destination: string;
  /** The HTTP status, or `null` for a timeout or network error. */
  readonly status: number | null;

  constructor(
    destination: string,
    status: number | null,
    message: string,
    options?: { code?: string; cause?: unknown },
  ) {
    super(message, { code: options?.code ?? "ERR_WEBHOOK_DELIVERY", cause: options?.cause });
    this.destination = destination;
    this.status = status;
  }
}

/**
 * A received webhook failed verification: missing headers, a bad signature, or a
 * timestamp outside the tolerance. `reason` is stable for branching and logging.
 */
export class WebhookVerificationError extends JobsError {
  readonly reason:
    | "missing_headers"
    | "invalid_signature"
    | "invalid_timestamp"
    | "timestamp_too_old"
    | "timestamp_too_new"
    | "body_too_large"
    | "invalid_body";

  constructor(reason: WebhookVerificationError["reason"], message: string) {
    super(message, { code: "ERR_WEBHOOK_VERIFICATION" });
    this.reason = reason;
  }
}
