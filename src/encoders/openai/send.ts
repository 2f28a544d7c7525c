/**
 * One batch to the embeddings endpoint: the request and its validation; the
 * retries (Retry-After, backoff, events, abort) are retry.ts's.
 */
import type OpenAI from 'openai';
import type { Logger } from '../../log/index.js';
import type { BackoffPolicy } from '../../util/index.js';
import type { EncoderEvent } from '../types.js';
import { withRetries } from './retry.js';
import { validateEmbeddings } from './validate.js';

export { BatchFailure } from './retry.js';

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

export async function sendWithRetry(
  cfg: SendConfig,
  batch: SendBatch,
): Promise<{ vectors: Float32Array[]; dimensions: number; model?: string }> {
  return withRetries(
    { ...cfg, what: 'embeddings request' },
    {
      items: batch.texts.length,
      tokens: batch.tokens,
      signal: batch.signal,
      onEvent: batch.onEvent,
      logger: batch.logger,
    },
    async (signal) => {
      const body: OpenAI.EmbeddingCreateParams = {
        model: cfg.model,
        input: batch.texts,
        encoding_format: cfg.encodingFormat,
      };
      if (cfg.dimensionsParam !== undefined) body.dimensions = cfg.dimensionsParam;
      const response = await cfg.client.embeddings.create(body, { signal, timeout: cfg.timeoutMs, maxRetries: 0 });
      const value = validateEmbeddings(response, {
        count: batch.texts.length,
        dimensions: batch.dimensions,
        offset: batch.offset,
      });
      const tokens = typeof response.usage?.prompt_tokens === 'number' ? response.usage.prompt_tokens : undefined;
      const model = typeof response.model === 'string' ? response.model : undefined;
      return { value: { ...value, model }, tokens };
    },
  );
}
