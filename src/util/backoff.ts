/**
 * Retry delays: capped exponential backoff with jitter, never shorter than
 * what the server asked for (`Retry-After`), which is itself capped.
 * Pure: the random source is injected, no clock, no timers.
 */
export { parseRetryAfter, parseRetryAfterValue, parseResetDuration } from './retry-after.js';
export type { HeaderSource } from './retry-after.js';

export type Jitter = 'full' | 'decorrelated' | 'none';

export interface BackoffPolicy {
  /** First delay (and the floor of decorrelated jitter). Default 500 ms. */
  baseMs?: number;
  /** Cap of the computed (exponential) delay. Default 30 s. */
  maxMs?: number;
  /** Cap of a server-requested delay: we wait what the server asked, up to this. Default 120 s. */
  maxServerDelayMs?: number;
  /** Default 'full' (AWS "full jitter"). */
  jitter?: Jitter;
  /** Uniform in [0, 1). Default Math.random. */
  random?: () => number;
}

export interface BackoffInput {
  /** 1 for the first retry, 2 for the second, ... */
  attempt: number;
  /** What the server asked for, in ms (see parseRetryAfter), or null. */
  retryAfterMs?: number | null;
  /** The delay returned for the previous attempt (decorrelated jitter uses it). */
  previousDelayMs?: number;
}

export const DEFAULT_BACKOFF = { baseMs: 500, maxMs: 30_000, maxServerDelayMs: 120_000, jitter: 'full' } as const;

/**
 * Milliseconds to wait before retry number `attempt`.
 *
 * - full:         uniform in [0, min(maxMs, baseMs·2^(attempt-1))]
 * - decorrelated: min(maxMs, uniform in [baseMs, 3·previous]) (previous defaults to baseMs)
 * - none:         min(maxMs, baseMs·2^(attempt-1))
 *
 * With a server delay the result is max(computed, min(server, maxServerDelayMs)):
 * never less than the server asked (unless above the cap).
 */
export function backoffDelay(input: BackoffInput, policy: BackoffPolicy = {}): number {
  const baseMs = Math.max(0, policy.baseMs ?? DEFAULT_BACKOFF.baseMs);
  const maxMs = Math.max(0, policy.maxMs ?? DEFAULT_BACKOFF.maxMs);
  const maxServer = Math.max(0, policy.maxServerDelayMs ?? DEFAULT_BACKOFF.maxServerDelayMs);
  const jitter = policy.jitter ?? DEFAULT_BACKOFF.jitter;
  const random = policy.random ?? Math.random;
  const attempt = Math.max(1, Math.floor(input.attempt));
  const r = clamp01(random());

  // 2^(attempt-1) overflows to Infinity for large attempts; min() keeps it finite.
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 1000));
  let computed: number;
  if (jitter === 'none') computed = exp;
  else if (jitter === 'full') computed = r * exp;
  else {
    const prev = Math.max(baseMs, input.previousDelayMs ?? baseMs);
    computed = Math.min(maxMs, baseMs + r * (prev * 3 - baseMs));
  }

  const server = input.retryAfterMs;
  if (server != null && Number.isFinite(server) && server > 0) {
    computed = Math.max(computed, Math.min(server, maxServer));
  }
  return Math.ceil(computed);
}

function clamp01(x: number): number {
  if (!Number.isFinite(x) || x < 0) return 0;
  return x >= 1 ? 1 - Number.EPSILON : x;
}
