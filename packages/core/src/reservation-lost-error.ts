import { JobsError } from "./errors.js";

/**
 * The reason a handler's `AbortSignal` fires when its worker finds it no longer holds
 * the job's reservation (`checkReservations` said `lost`): the reservation expired (the
 * expiry counted as a failed attempt and the job went back to the queue) or the job is
 * gone. Another worker may run the job now; this run's result is discarded and the
 * worker neither acks nor fails it (docs/contract.md, "Seeing and controlling jobs").
 */
export class ReservationLostError extends JobsError {
  readonly jobId: string;

  constructor(jobId: string) {
    super(
      `the reservation of job ${jobId} was lost (it expired, so the job went back to the queue, or the job is gone): another worker may run it, so this run was aborted and its result is discarded; if this recurs, the visibility timeout is too short for the heartbeat to reach the backend`,
      { code: "ERR_RESERVATION_LOST" },
    );
    this.jobId = jobId;
  }
}
