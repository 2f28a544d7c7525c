import { createHash } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import type { Logger } from '../log/index.js';
import { createHashEncoder } from './hash/index.js';
import { createLocalEncoder } from './local/index.js';
import { createOpenAIEncoder } from './openai/index.js';
import { parseEncoderSpec } from './spec.js';
import { InputError } from '../errors.js';
import type { Encoder, EncoderIdentity } from './types.js';

/**
 * The options a version stores to make its encoder again (never secrets).
 * Only the keys meaningful to the provider are kept.
 */
export interface EncoderSettings {
  dimensions?: number;
  /** openai: the server (stored resolved, so the identity cannot drift with the environment). */
  baseURL?: string;
  /** local: the model folder, stored absolute. */
  modelPath?: string;
  pooling?: 'mean' | 'cls';
  normalize?: boolean;
  dtype?: string;
  allowRemote?: boolean;
}

export interface EncoderDeps {
  logger?: Logger;
  /** OPENAI_API_KEY / OPENAI_BASE_URL from the configuration (env or .env). */
  openaiApiKey?: string;
  openaiBaseUrl?: string;
  env?: Record<string, string | undefined>;
  /** Relative local model paths resolve against this. */
  cwd?: string;
  /** Test seam: a fetch for the OpenAI SDK. */
  fetch?: typeof fetch;
}

/** Settings as they will be stored: resolved against the environment now. */
export function resolveSettings(spec: string, settings: EncoderSettings, deps: EncoderDeps = {}): EncoderSettings {
  const { provider, model } = parseEncoderSpec(spec);
  const out: EncoderSettings = {};
  if (settings.dimensions !== undefined) out.dimensions = settings.dimensions;
  if (provider === 'openai') {
    const base = settings.baseURL ?? deps.openaiBaseUrl ?? deps.env?.OPENAI_BASE_URL;
    if (base) out.baseURL = credentialFreeUrl(base);
  } else if (provider === 'local') {
    const looksLikePath = model.startsWith('.') || model.startsWith('/') || model.includes('\\') || isAbsolute(model);
    out.modelPath = settings.modelPath ?? (looksLikePath ? resolve(deps.cwd ?? process.cwd(), model) : model);
    if (settings.pooling) out.pooling = settings.pooling;
    if (settings.normalize !== undefined) out.normalize = settings.normalize;
    if (settings.dtype) out.dtype = settings.dtype;
    if (settings.allowRemote) out.allowRemote = true;
  }
  return out;
}

/**
 * A base URL is stored with the version and printed by `versions show`: it
 * must not carry credentials (user:token@host, ?api-key=…).
 */
function credentialFreeUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InputError(`base URL "${url}" is not a valid URL`);
  }
  if (u.username || u.password || [...u.searchParams.keys()].some((k) => /key|token|secret|pass|sig/i.test(k))) {
    throw new InputError(
      'the base URL carries credentials: put the key in OPENAI_API_KEY (it is never stored), and give the URL without user:password@ or key parameters',
    );
  }
  return url;
}

/** Make the encoder a spec and its stored settings describe. */
export async function createEncoder(spec: string, settings: EncoderSettings, deps: EncoderDeps = {}): Promise<Encoder> {
  const { provider, model } = parseEncoderSpec(spec);
  switch (provider) {
    case 'hash':
      return createHashEncoder(model || undefined);
    case 'openai':
      return createOpenAIEncoder({
        model,
        dimensions: settings.dimensions,
        baseURL: settings.baseURL ?? deps.openaiBaseUrl,
        apiKey: deps.openaiApiKey,
        logger: deps.logger,
        env: deps.env,
        fetch: deps.fetch,
      });
    case 'local':
      return createLocalEncoder({
        model: settings.modelPath ?? model,
        pooling: settings.pooling,
        normalize: settings.normalize,
        dtype: settings.dtype,
        allowRemote: settings.allowRemote,
      });
  }
}

/** sha256 over the canonical identity: versions sharing it share vectors. */
export function identityHash(identity: EncoderIdentity): string {
  const settings = Object.fromEntries(Object.entries(identity.settings).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256')
    .update(JSON.stringify({ name: identity.name, revision: identity.revision, settings }))
    .digest('hex');
}
