/**
 * One request to an OpenAI-compatible endpoint, with our own retries: the
 * SDK's are off so that we can honour Retry-After, report events and stop on
 * abort, including during a backoff sleep. Shared by the embeddings encoder
 * (send.ts) and the chat judge (judges/openai/).
 */
import type { Logger } from '../../log/index.js';
import { abortReason, backoffDelay, sleep, type BackoffPolicy } from '../../util/index.js';
import type { EncoderEvent } from '../types.js';
import { classifyFailure, type Failure } from './classify.js';

export interface RetryConfig {
  /** Per-attempt timeout, whole request (body included). */
  timeoutMs: number;
  /** Attempts, first included. */
  maxAttempts: number;
  backoff: BackoffPolicy;
  /** Scrubbed from every reason. */
  secrets: readonly string[];
  logger: Logger;
  /** What is sent, for log lines: `embeddings request`, `chat request`. */
  what: string;
}

export interface RetryRequest {
  /** Items (texts, pairs) the request carries, for events. */
  items: number;
  /** Estimated input tokens, for events (the response's usage replaces it when known). */
  tokens: number;
  signal?: AbortSignal;
  onEvent?: (e: EncoderEvent) => void;
  /** Logger scoped to this request (default cfg.logger). */
  logger?: Logger;
}

/** What one successful attempt gives back: the value and, when the server said, the input tokens it billed. */
export interface AttemptResult<T> {
  value: T;
  tokens?: number;
}

/** Thrown when a request finally fails; the caller turns it into an embctl error. */
export class BatchFailure extends Error {
  constructor(
    readonly failure: Failure,
    readonly attempts: number,
  ) {
    super(failure.reason);
  }
}

export function emitEvent(onEvent: RetryRequest['onEvent'], e: EncoderEvent, logger: Logger): void {
  if (!onEvent) return;
  try {
    onEvent(e);
  } catch (err) {
    logger.warn({ event: e.type, err: String(err) }, 'encoder event listener threw');
  }
}

/**
 * Runs `attempt` until it succeeds, fails for good (not retryable, or the
 * last attempt) or the caller's signal aborts. Each attempt gets its own
 * signal (our timeout or the caller's abort). Emits `request` before each
 * attempt, `response` after a success, `rate_limited` on a 429 and `retry`
 * before each backoff sleep. Throws BatchFailure, or the caller's abort reason.
 */
export async function withRetries<T>(
  cfg: RetryConfig,
  req: RetryRequest,
  attempt: (signal: AbortSignal) => Promise<AttemptResult<T>>,
): Promise<T> {
  const { signal, onEvent } = req;
  const logger = req.logger ?? cfg.logger;
  let previousDelay: number | undefined;
  for (let n = 1; ; n++) {
    if (signal?.aborted) throw abortReason(signal);
    emitEvent(onEvent, { type: 'request', items: req.items, tokens: req.tokens }, logger);
    const started = Date.now();
    const attemptCtl = new AbortController();
    let timedOut = false;
    const timeout = setTimeout(() => {
      timedOut = true;
      attemptCtl.abort();
    }, cfg.timeoutMs);
    const onAbort = () => attemptCtl.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const result = await attempt(attemptCtl.signal);
      const ms = Date.now() - started;
      const tokens = result.tokens ?? req.tokens;
      emitEvent(onEvent, { type: 'response', items: req.items, tokens, ms }, logger);
      logger.debug({ items: req.items, tokens, ms, attempt: n }, `${cfg.what}: response`);
      return result.value;
    } catch (err) {
      clearTimeout(timeout);
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) throw abortReason(signal);
      const failure = classifyFailure(err, { timedOut, timeoutMs: cfg.timeoutMs, secrets: cfg.secrets });
      if (failure.rateLimited) {
        emitEvent(onEvent, { type: 'rate_limited', retryAfterMs: failure.retryAfterMs, attempt: n }, logger);
      }
      if (!failure.retryable || n >= cfg.maxAttempts) throw new BatchFailure(failure, n);
      const delayMs = backoffDelay(
        { attempt: n, retryAfterMs: failure.retryAfterMs, previousDelayMs: previousDelay },
        cfg.backoff,
      );
      previousDelay = delayMs;
      emitEvent(onEvent, { type: 'retry', reason: failure.reason, delayMs, attempt: n }, logger);
      logger.warn(
        {
          attempt: n,
          maxAttempts: cfg.maxAttempts,
          delayMs,
          status: failure.status,
          retryAfterMs: failure.retryAfterMs,
        },
        `${cfg.what} failed, retrying: ${failure.reason}`,
      );
      await sleep(delayMs, signal);
    } finally {
      clearTimeout(timeout);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
