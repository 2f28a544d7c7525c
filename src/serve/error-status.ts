import { EmbctlError, ReplicaBehindError, UnavailableError, type ErrorCode } from '../errors.js';
import { isConnectionLoss } from '../db/index.js';
import { HttpError } from './http-util.js';

export interface HttpAnswer {
  status: number;
  /** `error.code` of the JSON body (part of the HTTP API: stable). */
  error: string;
  /** Retry-After in seconds, on a 503. */
  retryAfter?: number;
}

/**
 * The HTTP answer to each error code. A client's mistake is a 4xx (bad input
 * 400, an unknown version 404, a refusal 409); the database or an encoder
 * being away is a 503 with Retry-After; a broken invariant is a bug of ours,
 * 500. In the service the only thing a client names that may not exist is a
 * version, hence `unknown_version`.
 */
export const HTTP_ANSWERS = {
  usage: { status: 400, error: 'invalid_request' },
  invalid_input: { status: 400, error: 'invalid_request' },
  not_found: { status: 404, error: 'unknown_version' },
  refused: { status: 409, error: 'refused' },
  retired: { status: 409, error: 'refused' },
  incomplete: { status: 409, error: 'refused' },
  index_missing: { status: 409, error: 'refused' },
  index_invalid: { status: 409, error: 'refused' },
  gate_failed: { status: 409, error: 'refused' },
  gate_missing: { status: 409, error: 'refused' },
  canary_failed: { status: 409, error: 'refused' },
  unavailable: { status: 503, error: 'database_unavailable', retryAfter: 2 },
  replica_behind: { status: 503, error: 'replica_behind', retryAfter: 1 },
  encoder_failed: { status: 503, error: 'unavailable', retryAfter: 5 },
  encoder_bad_output: { status: 503, error: 'unavailable', retryAfter: 5 },
  write_failed: { status: 503, error: 'unavailable', retryAfter: 5 },
  interrupted: { status: 503, error: 'unavailable', retryAfter: 5 },
  invariant: { status: 500, error: 'internal' },
} as const satisfies Record<ErrorCode, HttpAnswer>;

/**
 * Map any error to HTTP: an HttpError as it is, an EmbctlError by its code,
 * a driver error by what it means (connection lost 503, read-only 409, a
 * value the database could not take 400); anything else is a bug of ours, 500.
 */
export function toHttpError(e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  if (e instanceof EmbctlError) return fromEmbctlError(e);
  if (isConnectionLoss(e)) return databaseUnavailable(HTTP_ANSWERS.unavailable.retryAfter);
  const code = sqlState(e);
  if (code === '25006') {
    return new HttpError(
      409,
      'read_only',
      'the database is read-only (a hot standby, or default_transaction_read_only): send activate and rollback to the primary',
    );
  }
  // Class 22 (data exception): a value the database could not take, which came from the request.
  if (code?.startsWith('22')) {
    return new HttpError(
      400,
      'invalid_value',
      'a value in the request cannot be used: check the query, filters and version',
    );
  }
  return new HttpError(500, 'internal', 'internal error');
}

function fromEmbctlError(e: EmbctlError): HttpError {
  if (e instanceof UnavailableError) return databaseUnavailable(e.retryAfterSeconds);
  const answer: HttpAnswer = HTTP_ANSWERS[e.code];
  const retryAfter = e instanceof ReplicaBehindError ? e.retryAfterSeconds : answer.retryAfter;
  const headers: Record<string, string> = retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) };
  return new HttpError(answer.status, answer.error, e.brief, e.details, headers);
}

function databaseUnavailable(after: number): HttpError {
  return new HttpError(
    503,
    HTTP_ANSWERS.unavailable.error,
    `the database is unavailable right now: try again in ${after} s`,
    [],
    { 'retry-after': String(after) },
  );
}

function sqlState(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}
