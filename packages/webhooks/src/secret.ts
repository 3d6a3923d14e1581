import { JobValidationError } from "@svc-jobs/core";

/** Internal: a signing secret must be a non-empty string; the message never echoes it. */
export function assertSecret(secret: unknown, field: string): asserts secret is string {
  if (typeof secret !== "string" || secret.length === 0) {
    throw new JobValidationError(
      field,
      `${field} must be a non-empty string, got ${secret === "" ? "an empty string" : typeof secret}: pass the webhook's shared secret (for Standard Webhooks a "whsec_<base64>" secret)`,
    );
  }
}

/** Internal: a list of one or more secrets (for rotation). */
export function secretList(secrets: unknown, field: string): string[] {
  const list = Array.isArray(secrets) ? secrets : [secrets];
  if (list.length === 0) {
    throw new JobValidationError(
      field,
      `${field} must hold at least one secret, got an empty array`,
    );
  }
  list.forEach((s, i) => {
    assertSecret(s, Array.isArray(secrets) ? `${field}[${i}]` : field);
  });
  return list as string[];
}
