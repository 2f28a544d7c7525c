/**
 * Token counting and truncation. OpenAI models use tiktoken's cl100k_base
 * (ranks loaded lazily, once per process, ~1 MB). Other models get a stated
 * approximation: ceil(utf8 bytes / 4).
 */
import { createRequire } from 'node:module';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';

export interface Tokenizer {
  /** 'cl100k_base' or 'approx-bytes/4'. */
  readonly kind: string;
  count(text: string): number;
  /** The longest prefix of `text` that fits in `maxTokens`, and its token count. */
  truncate(text: string, maxTokens: number): { text: string; tokens: number };
}

let cl100k: Tiktoken | undefined;

function loadCl100k(): Tiktoken {
  if (!cl100k) {
    // Sync lazy load: countTokens is synchronous and most runs never need the ranks.
    const require = createRequire(import.meta.url);
    const ranks = require('js-tiktoken/ranks/cl100k_base') as TiktokenBPE | { default: TiktokenBPE };
    cl100k = new Tiktoken('bpe_ranks' in ranks ? ranks : ranks.default);
  }
  return cl100k;
}

/** Special-token strings (`<|endoftext|>`) in user text are plain text to the embeddings API. */
function encode(t: Tiktoken, text: string): number[] {
  return t.encode(text, [], []);
}

export const cl100kTokenizer: Tokenizer = {
  kind: 'cl100k_base',
  count(text) {
    return encode(loadCl100k(), text).length;
  },
  truncate(text, maxTokens) {
    const t = loadCl100k();
    const ids = encode(t, text);
    if (ids.length <= maxTokens) return { text, tokens: ids.length };
    let out = t.decode(ids.slice(0, maxTokens));
    // A cut inside a multi-byte character decodes to U+FFFD: drop the partial character.
    while (out.endsWith('\uFFFD') && !text.startsWith(out)) out = out.slice(0, -1);
    return { text: out, tokens: encode(t, out).length };
  },
};

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
