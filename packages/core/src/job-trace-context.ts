import { describeValue } from "./describe-value.js";
import { JobValidationError } from "./errors.js";

/**
 * The W3C Trace Context a job carries from the enqueue that made it to every attempt to
 * run it (docs/tracing.md): the `traceparent` of the producer span, and the `tracestate`
 * when there is one. Jobs enqueued without a trace (no `@opentelemetry/api` installed, no
 * tracer provider, or a Python svc-infra producer) have none.
 */
export interface JobTraceContext {
  /** W3C `traceparent`: `00-<trace id>-<parent span id>-<flags>`. */
  traceparent: string;
  /** W3C `tracestate` (vendor data), when the producer's context had one. */
  tracestate?: string;
}

/** W3C traceparent, version 00 (a later version may append fields after a dash). */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** Longest `tracestate` kept, in characters (W3C: 32 members of up to 256 characters; 512 is the usual limit). */
const MAX_TRACESTATE_LENGTH = 512;

/** Internal: a parsed `traceparent` (lowercase hex), or `undefined` when it is not a valid one. */
export interface ParsedTraceparent {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

/** The usual `traceparent`: version 00, lowercase, nothing around it (checked without captures). */
const CANONICAL_TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const ZERO_TRACE_ID = "0".repeat(32);
const ZERO_SPAN_ID = "0".repeat(16);

/**
 * Internal: parses a W3C `traceparent`. Refuses version ff, an all-zero trace or span id,
 * and extra fields on version 00, as the W3C Trace Context recommendation says. It runs
 * for every traced job a worker takes, so the usual form is read by position.
 */
export function parseTraceparent(text: unknown): ParsedTraceparent | undefined {
  if (typeof text !== "string") return undefined;
  let traceId: string;
  let spanId: string;
  let flags: string;
  if (text.length === 55 && CANONICAL_TRACEPARENT.test(text)) {
    traceId = text.slice(3, 35);
    spanId = text.slice(36, 52);
    flags = text.slice(53, 55);
  } else {
    const m = TRACEPARENT.exec(text.trim());
    if (!m) return undefined;
    const [, version, id, parent, f, rest] = m as unknown as string[];
    if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
    traceId = id as string;
    spanId = parent as string;
    flags = f as string;
  }
  if (traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return undefined;
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16) };
}

/** Internal: a version 00 `traceparent`. */
export function formatTraceparent(traceId: string, spanId: string, traceFlags: number): string {
  const flags =
    traceFlags === 1
      ? "01"
      : traceFlags === 0
        ? "00"
        : (traceFlags & 0xff).toString(16).padStart(2, "0");
  return `00-${traceId}-${spanId}-${flags}`;
}

/**
 * Internal: a stored or received trace context as a {@link JobTraceContext}, or
 * `undefined` when it holds no valid `traceparent` (a job carrying a broken one starts a
 * new trace rather than failing). A `tracestate` too long to keep is dropped.
 */
export function toJobTraceContext(
  traceparent: unknown,
  tracestate?: unknown,
): JobTraceContext | undefined {
  if (parseTraceparent(traceparent) === undefined) return undefined;
  const text = traceparent as string;
  const context: JobTraceContext = { traceparent: text.length === 55 ? text : text.trim() };
  if (
    typeof tracestate === "string" &&
    tracestate.trim() !== "" &&
    tracestate.length <= MAX_TRACESTATE_LENGTH
  ) {
    context.tracestate = tracestate.trim();
  }
  return context;
}

/**
 * Internal: checks the `traceContext` enqueue option: `{ traceparent, tracestate? }` with a
 * valid W3C `traceparent`. Throws a `JobValidationError` on `field` otherwise.
 */
export function validateTraceContext(value: unknown, field: string): JobTraceContext {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new JobValidationError(
      field,
      `${field} must be { traceparent, tracestate? } (W3C Trace Context), got ${describeValue(value)}`,
    );
  }
  const { traceparent, tracestate } = value as { traceparent?: unknown; tracestate?: unknown };
  if (parseTraceparent(traceparent) === undefined) {
    throw new JobValidationError(
      `${field}.traceparent`,
      `${field}.traceparent must be a W3C traceparent such as 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01, got ${describeValue(traceparent)}`,
    );
  }
  if (
    tracestate !== undefined &&
    (typeof tracestate !== "string" || tracestate.length > MAX_TRACESTATE_LENGTH)
  ) {
    throw new JobValidationError(
      `${field}.tracestate`,
      `${field}.tracestate must be a W3C tracestate string of at most ${MAX_TRACESTATE_LENGTH} characters, got ${describeValue(tracestate)}`,
    );
  }
  return Object.freeze(toJobTraceContext(traceparent, tracestate) as JobTraceContext);
}
