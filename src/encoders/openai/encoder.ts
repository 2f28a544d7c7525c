/**
 * The `openai:<model>` encoder: the official SDK against api.openai.com or
 * any OpenAI-compatible server. Splits inputs into valid batches, retries
 * with backoff that honours Retry-After, validates every vector, and keeps
 * the API key out of every log line and error.
 */
import { EncoderOutputError, InputError } from '../../errors.js';
import { silentLogger } from '../../log/index.js';
import type { EmbedOptions, Encoder, EncoderIdentity } from '../types.js';
import { planRequests } from './batches.js';
import { createOpenAIClient } from './connection.js';
import { toEncoderError } from './errors.js';
import { resolveOpenAIOptions, type OpenAIEncoderOptions } from './options.js';
import { prepareTexts } from './prepare.js';
import { sendWithRetry, type SendConfig } from './send.js';
import { approxTokenizer, cl100kTokenizer, type Tokenizer } from './tokens.js';

export type { OpenAIEncoderOptions } from './options.js';

export interface OpenAIEncoder extends Encoder {
  /** The tokenizer behind countTokens: 'cl100k_base' or 'approx-bytes/4'. */
  readonly tokenizer: string;
  /** The server's host (no scheme, path or credentials). */
  readonly baseURLHost: string;
}

export function createOpenAIEncoder(options: OpenAIEncoderOptions): OpenAIEncoder {
  const cfg = resolveOpenAIOptions(options);
  const name = `openai:${cfg.model}`;
  const tokenizer: Tokenizer = cfg.known ? cl100kTokenizer : approxTokenizer;
  const secrets = cfg.apiKey.length >= 4 ? [cfg.apiKey] : [];
  const logger = (options.logger ?? silentLogger()).child({ encoder: name, host: cfg.baseURLHost });

  const client = createOpenAIClient(cfg, cfg.timeoutMs, options.fetch);

  const send: SendConfig = {
    client,
    model: cfg.model,
    dimensionsParam: cfg.dimensionsParam,
    encodingFormat: cfg.encodingFormat,
    timeoutMs: cfg.timeoutMs,
    maxAttempts: cfg.maxAttempts,
    backoff: options.backoff ?? {},
    secrets,
    logger,
  };

  let seenDimensions: number | undefined;
  let reportedModel: string | undefined;
  const identity: EncoderIdentity = {
    name,
    revision: cfg.model,
    settings: { dimensions: cfg.dimensions ?? null, baseURLHost: cfg.baseURLHost },
  };

  const countTokens = (text: string): number => {
    const n = tokenizer.count(text);
    return cfg.longTextPolicy === 'truncate' && cfg.maxInputTokens !== undefined ? Math.min(n, cfg.maxInputTokens) : n;
  };

  async function embed(texts: string[], opts: EmbedOptions = {}): Promise<Float32Array[]> {
    if (!Array.isArray(texts)) throw new InputError(`${name}: embed expects a list of texts`);
    if (texts.length === 0) return [];
    const where = opts.label ? ` (${opts.label})` : '';
    const prepared = prepareTexts(texts, cfg, tokenizer, name, where);
    if (prepared.truncated > 0) {
      logger.warn(
        { batch: opts.label, truncated: prepared.truncated, maxInputTokens: cfg.maxInputTokens },
        'texts above the model token limit were truncated',
      );
    }
    const log = opts.label ? logger.child({ batch: opts.label }) : logger;
    const ranges = planRequests(prepared.tokens, { maxItems: cfg.maxBatchItems, maxTokens: cfg.maxBatchTokens });
    const out: Float32Array[] = new Array(texts.length);
    for (let b = 0; b < ranges.length; b++) {
      const r = ranges[b]!;
      const part =
        ranges.length > 1 ? `${opts.label ? `${opts.label}, ` : ''}request ${b + 1} of ${ranges.length}` : opts.label;
      const at = part ? ` (${part})` : '';
      const expected = cfg.dimensions ?? seenDimensions;
      let result: { vectors: Float32Array[]; dimensions: number; model?: string };
      try {
        result = await sendWithRetry(send, {
          texts: prepared.texts.slice(r.start, r.end),
          tokens: r.tokens,
          dimensions: expected,
          offset: r.start,
          signal: opts.signal,
          onEvent: opts.onEvent,
          logger: log,
        });
      } catch (err) {
        throw toEncoderError(err, name, at, cfg);
      }
      if (result.model !== undefined) reportedModel = result.model;
      if (seenDimensions === undefined) seenDimensions = result.dimensions;
      else if (result.dimensions !== seenDimensions) {
        throw new EncoderOutputError(
          `${name} returned ${result.dimensions} dimensions, expected ${seenDimensions}${at}`,
        );
      }
      for (let i = 0; i < result.vectors.length; i++) out[r.start + i] = result.vectors[i]!;
    }
    return out;
  }

  return {
    spec: name,
    identity,
    get dimensions() {
      return cfg.dimensions ?? seenDimensions;
    },
    normalized: cfg.normalized,
    get reportedModel() {
      return reportedModel;
    },
    maxBatchItems: cfg.maxBatchItems,
    maxBatchTokens: cfg.maxBatchTokens,
    tokenizer: tokenizer.kind,
    baseURLHost: cfg.baseURLHost,
    countTokens,
    embed,
    async close() {
      /* fetch keeps no per-client resources to release */
    },
  };
}
