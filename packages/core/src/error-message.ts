/** Longest `lastError` kept, in characters; longer messages are cut. */
export const MAX_ERROR_MESSAGE_LENGTH = 8192;

/** The `lastError` text recorded for a failure: the error's message. */
export function errorMessage(error: unknown): string {
  let text: string;
  if (error instanceof Error) text = error.message || error.name;
  else if (error === undefined) text = "failed";
  else if (typeof error === "string") text = error;
  else {
    try {
      text = JSON.stringify(error) ?? String(error);
    } catch {
      text = String(error);
    }
  }
  return text.length > MAX_ERROR_MESSAGE_LENGTH
    ? `${text.slice(0, MAX_ERROR_MESSAGE_LENGTH)}…`
    : text;
}

/** The `lastError` of a job whose visibility timeout ran out. */
export function visibilityExpiredMessage(attempts: number): string {
  return `visibility timeout expired during attempt ${attempts} (the worker crashed, hung, or did not ack in time)`;
}
