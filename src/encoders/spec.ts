import { InputError } from '../errors.js';

export type Provider = 'openai' | 'local' | 'hash';

export interface ParsedSpec {
  provider: Provider;
  /** Model id, folder or variant; empty for bare `hash`. */
  model: string;
}

const PROVIDERS: Provider[] = ['openai', 'local', 'hash'];

/** `openai:text-embedding-3-small`, `local:./models/minilm`, `hash:mixed-768`, `hash`. */
export function parseEncoderSpec(spec: string): ParsedSpec {
  const s = spec.trim();
  if (s === 'hash') return { provider: 'hash', model: '' };
  const i = s.indexOf(':');
  const provider = (i < 0 ? s : s.slice(0, i)) as Provider;
  const model = i < 0 ? '' : s.slice(i + 1).trim();
  if (!PROVIDERS.includes(provider)) {
    throw new InputError(
      `unknown encoder "${spec}": use openai:<model>, local:<model folder or id>, or hash[:<variant>]`,
    );
  }
  if (!model && provider !== 'hash') {
    throw new InputError(
      `encoder "${spec}" names no model: e.g. ${provider === 'openai' ? 'openai:text-embedding-3-small' : 'local:./models/all-MiniLM-L6-v2'}`,
    );
  }
  return { provider, model };
}
