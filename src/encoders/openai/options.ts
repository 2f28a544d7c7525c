/**
 * Options of the `openai:<model>` encoder, resolved once: environment
 * fallbacks, defaults, and every problem reported together as an InputError.
 */
import { InputError } from '../../errors.js';
import type { Logger } from '../../log/index.js';
import type { BackoffPolicy } from '../../util/index.js';
import { resolveOpenAIConnection } from './connection.js';
import { knownModel, OPENAI_MAX_BATCH_ITEMS, OPENAI_MAX_BATCH_TOKENS, type KnownModel } from './models.js';

export { OPENAI_DEFAULT_BASE_URL, PLACEHOLDER_API_KEY } from './connection.js';

export interface OpenAIEncoderOptions {
  /** Model id, e.g. `text-embedding-3-small` or `nomic-embed-text` on a compatible server. */
  model: string;
  /** Output dimensions. Sent as the `dimensions` parameter for text-embedding-3 models (or with sendDimensions). */
  dimensions?: number;
  /** Send `dimensions` to the server. Default: true for text-embedding-3 models when dimensions is set. */
  sendDimensions?: boolean;
  /** Default: OPENAI_BASE_URL, else https://api.openai.com/v1. */
  baseURL?: string;
  /** Default: OPENAI_API_KEY. Required for the official API; a placeholder is used for custom servers. */
  apiKey?: string;
  /** Per-attempt timeout, whole request. Default 60 000 ms. */
  timeoutMs?: number;
  /** Attempts per batch, first included. Default 6. */
  maxAttempts?: number;
  /** Retry delays (see util/backoff.ts). */
  backoff?: BackoffPolicy;
  /** Texts above maxInputTokens: cut to the limit (default) or refuse the call. */
  longTextPolicy?: 'truncate' | 'reject';
  /** Token limit of one input. Default 8191 for OpenAI models, none for others. */
  maxInputTokens?: number;
  /** Default 2048. */
  maxBatchItems?: number;
  /** Token budget of one request. Default 300 000 (OpenAI's per-request limit). */
  maxBatchTokens?: number;
  /** Output vectors have unit norm. Default true for OpenAI models, false for others. */
  normalized?: boolean;
  /** Wire format asked for. Default base64 (smaller); float arrays are accepted either way. */
  encodingFormat?: 'base64' | 'float';
  logger?: Logger;
  /** A fetch implementation (tests). */
  fetch?: typeof fetch;
  /** Where OPENAI_* variables are read. Default process.env. */
  env?: Record<string, string | undefined>;
}

export interface ResolvedOpenAIOptions {
  model: string;
  known: KnownModel | undefined;
  baseURL: string;
  baseURLHost: string;
  official: boolean;
  apiKey: string;
  /** Declared or model-default dimensions, if known before the first call. */
  dimensions: number | undefined;
  dimensionsParam: number | undefined;
  timeoutMs: number;
  maxAttempts: number;
  longTextPolicy: 'truncate' | 'reject';
  maxInputTokens: number | undefined;
  maxBatchItems: number;
  maxBatchTokens: number;
  normalized: boolean;
  encodingFormat: 'base64' | 'float';
}

function isPositiveInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x > 0;
}

export function resolveOpenAIOptions(options: OpenAIEncoderOptions): ResolvedOpenAIOptions {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  const model = typeof options.model === 'string' ? options.model.trim() : '';
  if (!model) problems.push('model: required (e.g. openai:text-embedding-3-small)');
  const known = knownModel(model);

  const { baseURL, baseURLHost, official, apiKey } = resolveOpenAIConnection(
    { baseURL: options.baseURL, apiKey: options.apiKey },
    env,
    problems,
  );

  let dimensions: number | undefined = known?.dimensions;
  let dimensionsParam: number | undefined;
  if (options.dimensions !== undefined) {
    const d = options.dimensions;
    if (!isPositiveInt(d)) {
      problems.push('dimensions: must be a positive integer');
    } else if (known && !known.supportsDimensions && d !== known.dimensions) {
      problems.push(
        `dimensions: ${model} always returns ${known.dimensions} dimensions and does not accept the dimensions parameter`,
      );
    } else if (known && d > known.dimensions) {
      problems.push(`dimensions: ${model} returns at most ${known.dimensions} dimensions, not ${d}`);
    } else {
      dimensions = d;
      const send = options.sendDimensions ?? (known?.supportsDimensions === true && d !== undefined);
      if (send) dimensionsParam = d;
    }
  } else if (options.sendDimensions) {
    problems.push('sendDimensions: needs dimensions');
  }

  const num = (name: keyof OpenAIEncoderOptions, fallback: number | undefined): number | undefined => {
    const v = options[name];
    if (v === undefined) return fallback;
    if (!isPositiveInt(v)) {
      problems.push(`${name}: must be a positive integer`);
      return fallback;
    }
    return v;
  };
  const timeoutMs = num('timeoutMs', 60_000)!;
  const maxAttempts = num('maxAttempts', 6)!;
  const maxInputTokens = num('maxInputTokens', known?.maxInputTokens);
  const maxBatchItems = num('maxBatchItems', OPENAI_MAX_BATCH_ITEMS)!;
  const maxBatchTokens = num('maxBatchTokens', OPENAI_MAX_BATCH_TOKENS)!;
  if (maxInputTokens !== undefined && maxInputTokens > maxBatchTokens) {
    problems.push(`maxBatchTokens: ${maxBatchTokens} is below one input's limit (${maxInputTokens})`);
  }
  const longTextPolicy = options.longTextPolicy ?? 'truncate';
  if (longTextPolicy !== 'truncate' && longTextPolicy !== 'reject') {
    problems.push(`longTextPolicy: must be 'truncate' or 'reject'`);
  }
  const encodingFormat = options.encodingFormat ?? 'base64';
  if (encodingFormat !== 'base64' && encodingFormat !== 'float') {
    problems.push(`encodingFormat: must be 'base64' or 'float'`);
  }

  if (problems.length) {
    const name = model ? `openai:${model}` : 'openai encoder';
    throw new InputError(
      problems.length === 1 ? `${name}: ${problems[0]}` : `${name}: ${problems.length} problems in its options`,
      problems,
    );
  }
  return {
    model,
    known,
    baseURL,
    baseURLHost,
    official,
    apiKey,
    dimensions,
    dimensionsParam,
    timeoutMs,
    maxAttempts,
    longTextPolicy,
    maxInputTokens,
    maxBatchItems,
    maxBatchTokens,
    normalized: options.normalized ?? known !== undefined,
    encodingFormat,
  };
}
