/**
 * Token counting and truncation. OpenAI embedding models use tiktoken's
 * cl100k_base, GPT-4o/4.1 chat models o200k_base (ranks loaded lazily, once
 * per process, 1-2 MB). Other models get a stated
 * approximation: ceil(utf8 bytes / 4).
 */
import { createRequire } from 'node:module';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';

export interface Tokenizer {
  /** 'cl100k_base', 'o200k_base' or 'approx-bytes/4'. */
  readonly kind: string;
  count(text: string): number;
  /** The longest prefix of `text` that fits in `maxTokens`, and its token count. */
  truncate(text: string, maxTokens: number): { text: string; tokens: number };
}

const loaded = new Map<string, Tiktoken>();

function loadRanks(encoding: 'cl100k_base' | 'o200k_base'): Tiktoken {
  let t = loaded.get(encoding);
  if (!t) {
    // Sync lazy load: countTokens is synchronous and most runs never need the ranks.
    const require = createRequire(import.meta.url);
    const ranks = require(`js-tiktoken/ranks/${encoding}`) as TiktokenBPE | { default: TiktokenBPE };
    t = new Tiktoken('bpe_ranks' in ranks ? ranks : ranks.default);
    loaded.set(encoding, t);
  }
  return t;
}

/** Special-token strings (`<|endoftext|>`) in user text are plain text to the API. */
function encode(t: Tiktoken, text: string): number[] {
  return t.encode(text, [], []);
}

function tiktokenizer(encoding: 'cl100k_base' | 'o200k_base'): Tokenizer {
  return {
    kind: encoding,
    count(text) {
      return encode(loadRanks(encoding), text).length;
    },
    truncate(text, maxTokens) {
      const t = loadRanks(encoding);
      const ids = encode(t, text);
      if (ids.length <= maxTokens) return { text, tokens: ids.length };
      let out = t.decode(ids.slice(0, maxTokens));
      // A cut inside a multi-byte character decodes to U+FFFD: drop the partial character.
      while (out.endsWith('\uFFFD') && !text.startsWith(out)) out = out.slice(0, -1);
      return { text: out, tokens: encode(t, out).length };
    },
  };
}

/** OpenAI's embedding models and GPT-3.5/GPT-4 chat models. */
export const cl100kTokenizer: Tokenizer = tiktokenizer('cl100k_base');
/** GPT-4o and GPT-4.1 chat models. */
export const o200kTokenizer: Tokenizer = tiktokenizer('o200k_base');

export const approxTokenizer: Tokenizer = {
  kind: 'approx-bytes/4',
  count(text) {
    return Math.ceil(Buffer.byteLength(text, 'utf8') / 4);
  },
  truncate(text, maxTokens) {
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length <= maxTokens * 4) return { text, tokens: Math.ceil(bytes.length / 4) };
    let end = maxTokens * 4;
    while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--; // do not split a character
    const out = bytes.subarray(0, end).toString('utf8');
    return { text: out, tokens: Math.ceil(end / 4) };
  },
};
