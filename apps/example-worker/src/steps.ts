/** What the app reports as it works; the demo prints these, the server logs them. */
export interface Step {
  kind:
    | "order.placed"
    | "outbox.relayed"
    | "confirmation.sent"
    | "webhook.attempt_failed"
    | "webhook.delivered"
    | "receiver.rejected"
    | "receiver.simulated_failure"
    | "receiver.verified"
    | "cleanup.ran"
    | "job.settled";
  message: string;
  orderId?: number;
  [key: string]: unknown;
}

/** Receives steps. */
export type StepListener = (step: Step) => void;
