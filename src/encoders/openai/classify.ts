/**
 * Turning whatever one attempt threw into a decision: retry (and after how
 * long the server asked), or fail at once. Messages are one line and scrubbed
 * of the API key.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { scrubSecrets } from '../../log/index.js';
import { parseRetryAfter } from '../../util/index.js';
import { InvalidResponse } from './validate.js';

export interface Failure {
  retryable: boolean;
  rateLimited: boolean;
  /** HTTP status, when there was a response. */
  status?: number;
  /** What the server asked us to wait, in ms. */
  retryAfterMs: number | null;
  /** Short one-line reason, safe to log: "429 rate limited: ...", "timed out after 5000 ms". */
  reason: string;
  /** The response was wrong (validation): fail at once, name what was wrong. */
  invalidResponse?: boolean;
  /** The vectors had the wrong size. */
  dimensions?: { actual: number; expected: number };
  /** The text (position in the caller's list) whose vector was wrong. */
  textIndex?: number;
}

export interface ClassifyContext {
  /** Our own per-attempt timer fired. */
  timedOut: boolean;
  timeoutMs: number;
  secrets: readonly string[];
}

/** One line, no secrets, bounded length. */
export function safeText(text: string, secrets: readonly string[], max = 300): string {
  const one = scrubSecrets(text, secrets).replace(/\s+/g, ' ').trim();
  return one.length > max ? one.slice(0, max - 1) + '…' : one;
}

export function classifyFailure(err: unknown, ctx: ClassifyContext): Failure {
  const none = { retryAfterMs: null, rateLimited: false } as const;
  if (err instanceof InvalidResponse) {
    return {
      ...none,
      retryable: false,
      invalidResponse: true,
      dimensions: err.dimensions,
      textIndex: err.textIndex,
      reason: safeText(err.message, ctx.secrets),
    };
  }
  if (ctx.timedOut || err instanceof APIConnectionTimeoutError) {
    return { ...none, retryable: true, reason: `timed out after ${ctx.timeoutMs} ms` };
  }
  if (err instanceof APIUserAbortError) {
    // Not the caller's signal (checked before) and not our timer: treat as a dropped connection.
    return { ...none, retryable: true, reason: 'request aborted' };
  }
  if (err instanceof APIConnectionError) {
    const cause = (err as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? `${cause.message}${causeCode(cause)}` : err.message;
    return { ...none, retryable: true, reason: safeText(`connection error: ${detail}`, ctx.secrets) };
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const status = err.status;
    const headers = err.headers;
    const retryAfterMs = parseRetryAfter(headers ?? null, { useRateLimitReset: status === 429 });
    const shouldRetry = headers?.get('x-should-retry');
    let retryable = status === 408 || status === 409 || status === 429 || status >= 500;
    if (shouldRetry === 'true') retryable = true;
    if (shouldRetry === 'false') retryable = false;
    const message = apiMessage(err);
    return {
      retryable,
      rateLimited: status === 429,
      status,
      retryAfterMs,
      reason: safeText(`${status} ${message}`, ctx.secrets),
    };
  }
  if (err instanceof SyntaxError) {
    // A 200 whose body is not JSON: a truncated or garbled response, like a dropped connection.
    return { ...none, retryable: true, reason: safeText(`malformed JSON response: ${err.message}`, ctx.secrets) };
  }
  const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { ...none, retryable: false, reason: safeText(msg, ctx.secrets) };
}

function apiMessage(err: APIError): string {
  const body = err.error as { message?: unknown } | undefined;
  if (body && typeof body.message === 'string' && body.message) return body.message;
  // APIError.message starts with the status; drop it since we print it ourselves.
  return err.message.replace(/^\d{3}\s*/, '') || 'no message';
}

function causeCode(e: Error): string {
  const code = (e as { code?: unknown }).code ?? (e as { cause?: { code?: unknown } }).cause?.code;
  return typeof code === 'string' ? ` (${code})` : '';
}
