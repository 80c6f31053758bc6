// Errors the HTTP API answers with: HttpError carries a status, a stable code and a
// message a person can act on; Kafka errors from the bundled client are mapped to the
// HTTP status that says the same thing. Every error body is
// {"error": {"code": "...", "message": "..."}} (plus the details some errors name).

import { errorInfo } from '../../protocol/errors';
import { KafkaError } from '../client/cluster';
import { BufferExhaustedError } from '../client/producer';

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** More fields of the error body (an authorization refusal names the operation and resource). */
    readonly details: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function badRequest(message: string, code = 'bad-request'): HttpError {
  return new HttpError(400, code, message);
}

export function notFound(message: string, code = 'not-found'): HttpError {
  return new HttpError(404, code, message);
}

/** Kafka error names whose meaning has a closer HTTP status than 500. */
const STATUS_BY_KAFKA_NAME: Record<string, number> = {
  UNKNOWN_TOPIC_OR_PARTITION: 404,
  UNKNOWN_TOPIC_ID: 404,
  GROUP_ID_NOT_FOUND: 404,
  TOPIC_ALREADY_EXISTS: 409,
  NON_EMPTY_GROUP: 409,
  REBALANCE_IN_PROGRESS: 409,
  UNKNOWN_MEMBER_ID: 409,
  ILLEGAL_GENERATION: 409,
  POLICY_VIOLATION: 400,
  TOPIC_DELETION_DISABLED: 403,
  TOPIC_AUTHORIZATION_FAILED: 403,
  GROUP_AUTHORIZATION_FAILED: 403,
  CLUSTER_AUTHORIZATION_FAILED: 403,
  MESSAGE_TOO_LARGE: 413,
  RECORD_LIST_TOO_LARGE: 413,
  OFFSET_OUT_OF_RANGE: 416,
  UNSUPPORTED_VERSION: 501,
  REQUEST_TIMED_OUT: 504,
};

/** The HTTP status for a Kafka error code: INVALID_* 400, retriable 503, else 500. */
export function statusForKafkaError(code: number): number {
  const info = errorInfo(code);
  const mapped = STATUS_BY_KAFKA_NAME[info.name];
  if (mapped) return mapped;
  if (info.name.startsWith('INVALID_')) return 400;
  if (info.retriable || info.name === 'NOT_CONTROLLER') return 503;
  return 500;
}

/** An HttpError for a Kafka error code, with `what` saying what was being done. */
export function fromKafkaCode(code: number, what: string, detail?: string | null): HttpError {
  const info = errorInfo(code);
  const message = `${what}: ${detail && detail !== info.message ? `${detail} (${info.message})` : info.message}`;
  return new HttpError(statusForKafkaError(code), info.name, message);
}

/** Any error thrown by a route, as an HttpError (unexpected ones as 500 with their message). */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof KafkaError)
    return new HttpError(statusForKafkaError(error.code), errorInfo(error.code).name, error.summary);
  if (error instanceof BufferExhaustedError) return new HttpError(503, 'producer-busy', error.message);
  const message = error instanceof Error ? error.message : String(error);
  // Connection failures of the bundled client (refused, timed out) say the broker is not reachable.
  if (/ECONNREFUSED|timed out|timeout|connect|closed/i.test(message))
    return new HttpError(503, 'broker-unavailable', message);
  return new HttpError(500, 'internal-error', message);
}
