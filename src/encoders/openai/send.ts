/**
 * One batch to the embeddings endpoint, with our own retries: the SDK's are
 * off so that we can honour Retry-After, report events and stop on abort,
 * including during a backoff sleep.
 */
import type OpenAI from 'openai';
import type { Logger } from '../../log/index.js';
import { backoffDelay, type BackoffPolicy } from '../../util/index.js';
import type { EncoderEvent } from '../types.js';
import { classifyFailure, type Failure } from './classify.js';
import { abortReason, sleep } from '../../util/index.js';
import { validateEmbeddings } from './validate.js';

export interface SendConfig {
  client: OpenAI;
  model: string;
  /** Sent as the `dimensions` parameter when set. */
  dimensionsParam: number | undefined;
  encodingFormat: 'base64' | 'float';
  timeoutMs: number;
  maxAttempts: number;
  backoff: BackoffPolicy;
  secrets: readonly string[];
  logger: Logger;
}

export interface SendBatch {
  texts: string[];
  tokens: number;
  /** Expected dimensions (declared or first seen). */
  dimensions: number | undefined;
  /** Position of the first text in the caller's list (for messages). */
  offset?: number;
  signal?: AbortSignal;
  onEvent?: (e: EncoderEvent) => void;
  /** Logger scoped to this batch (default cfg.logger). */
  logger?: Logger;
}

/** Thrown when a batch finally fails; the caller turns it into an embctl error. */
export class BatchFailure extends Error {
  constructor(
    readonly failure: Failure,
    readonly attempts: number,
  ) {
    super(failure.reason);
  }
}

function emit(onEvent: SendBatch['onEvent'], e: EncoderEvent, logger: Logger): void {
  if (!onEvent) return;
  try {
    onEvent(e);
  } catch (err) {
    logger.warn({ event: e.type, err: String(err) }, 'encoder event listener threw');
  }
}

export async function sendWithRetry(
  cfg: SendConfig,
  batch: SendBatch,
): Promise<{ vectors: Float32Array[]; dimensions: number }> {
  const { signal, onEvent } = batch;
  const logger = batch.logger ?? cfg.logger;
  let previousDelay: number | undefined;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw abortReason(signal);
    emit(onEvent, { type: 'request', items: batch.texts.length, tokens: batch.tokens }, logger);
    const started = Date.now();
    // One controller per attempt: our timeout (whole request, body included) or the caller's signal.
    const attemptCtl = new AbortController();
    let timedOut = false;
    const timeout = setTimeout(() => {
      timedOut = true;
      attemptCtl.abort();
    }, cfg.timeoutMs);
    const onAbort = () => attemptCtl.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const body: OpenAI.EmbeddingCreateParams = {
        model: cfg.model,
        input: batch.texts,
        encoding_format: cfg.encodingFormat,
      };
      if (cfg.dimensionsParam !== undefined) body.dimensions = cfg.dimensionsParam;
      const response = await cfg.client.embeddings.create(body, {
        signal: attemptCtl.signal,
        timeout: cfg.timeoutMs,
        maxRetries: 0,
      });
      const ms = Date.now() - started;
      const result = validateEmbeddings(response, {
        count: batch.texts.length,
        dimensions: batch.dimensions,
        offset: batch.offset,
      });
      const tokens = typeof response.usage?.prompt_tokens === 'number' ? response.usage.prompt_tokens : batch.tokens;
      emit(onEvent, { type: 'response', items: batch.texts.length, tokens, ms }, logger);
      logger.debug({ items: batch.texts.length, tokens, ms, attempt }, 'embeddings response');
      return result;
    } catch (err) {
      clearTimeout(timeout);
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) throw abortReason(signal);
      const failure = classifyFailure(err, { timedOut, timeoutMs: cfg.timeoutMs, secrets: cfg.secrets });
      if (failure.rateLimited) {
        emit(onEvent, { type: 'rate_limited', retryAfterMs: failure.retryAfterMs, attempt }, logger);
      }
      if (!failure.retryable || attempt >= cfg.maxAttempts) throw new BatchFailure(failure, attempt);
      const delayMs = backoffDelay(
        { attempt, retryAfterMs: failure.retryAfterMs, previousDelayMs: previousDelay },
        cfg.backoff,
      );
      previousDelay = delayMs;
      emit(onEvent, { type: 'retry', reason: failure.reason, delayMs, attempt }, logger);
      logger.warn(
        { attempt, maxAttempts: cfg.maxAttempts, delayMs, status: failure.status, retryAfterMs: failure.retryAfterMs },
        `embeddings request failed, retrying: ${failure.reason}`,
      );
      await sleep(delayMs, signal);
    } finally {
      clearTimeout(timeout);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
