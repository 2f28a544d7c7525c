import { murmur3Bytes } from './murmur3.js';
import { porterStem } from './porter-stemmer.js';
import { ENGLISH_STOPWORDS } from './stopwords.js';
import { Utf8Scratch } from './utf8.js';
import type { HashVariant } from './variants.js';

/** Hash seeds: one per feature kind, so a word and an n-gram with the same bytes differ. */
export const SEED_WORD = 0x5eed0001;
export const SEED_CHAR = 0x5eed0002;
export const SEED_BIGRAM = 0x5eed0003;
/** The feature of a text with no word at all (never a zero vector). */
export const SEED_EMPTY = 0x5eed0004;

const WORD_START = 0x02; // STX and ETX mark word boundaries in character n-grams;
const WORD_END = 0x03; //   they are never part of a word token.

/** What a variant derives from one lowercase word token; computed once per distinct token. */
export interface LexEntry {
  stop: boolean;
  /** Hash of the (stemmed) word. */
  wordHash: number;
  /** Weight of the word feature. */
  wordWeight: number;
  /** Weight of each of its character n-grams. */
  gramWeight: number;
  /** Hashes of the character n-grams of the (unstemmed) word with its boundary marks. */
  grams: Int32Array;
  /** Scratch for the featurizer: the text it was last seen in, and how often. */
  seenIn: number;
  occurrences: number;
}

const EMPTY_GRAMS: Int32Array = new Int32Array(0);
/** Tokens per generation of the memo: it holds at most two. */
const GENERATION = 32_768;

/**
 * A bounded memo of token -> LexEntry for one variant, in two generations:
 * new and recently used tokens go to the young one; when it is full it
 * becomes the old one and the previous old one is dropped. Frequent words
 * stay (each use brings them back to the young generation) while a corpus
 * of endless distinct tokens (ids, numbers) costs at most 2 × GENERATION
 * entries: bench/scale's backfill peaked at ~130 MB more with one flat memo
 * of 200k. An entry rebuilt after eviction is equal to the one dropped, so
 * vectors do not depend on what the memo holds.
 */
export class Lexicon {
  private young = new Map<string, LexEntry>();
  private old = new Map<string, LexEntry>();
  private readonly scratch = new Utf8Scratch();

  constructor(private readonly variant: HashVariant) {}

  /** Tokens held (both generations; a token in both counts twice). */
  get size(): number {
    return this.young.size + this.old.size;
  }

  get(token: string): LexEntry {
    const hit = this.young.get(token);
    if (hit !== undefined) return hit;
    const entry = this.old.get(token) ?? this.build(token);
    if (this.young.size >= GENERATION) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(token, entry);
    return entry;
  }

  private build(token: string): LexEntry {
    const v = this.variant;
    const stop = v.stopwords && ENGLISH_STOPWORDS.has(token);
    const sc = this.scratch;
    const stem = v.stem ? porterStem(token) : token;
    sc.encode(stem, WORD_START, WORD_END);
    const wordHash = murmur3Bytes(sc.bytes, sc.starts[1]!, sc.starts[sc.count - 1]!, SEED_WORD);
    let grams = EMPTY_GRAMS;
    if (v.charWeight > 0) {
      if (stem !== token) sc.encode(token, WORD_START, WORD_END);
      grams = charGrams(sc, v.charMin, v.charMax);
    }
    const wordWeight = Math.fround(v.wordWeight);
    const gramWeight = Math.fround(v.charWeight);
    return { stop, wordHash, wordWeight, gramWeight, grams, seenIn: 0, occurrences: 0 };
  }
}

function charGrams(sc: Utf8Scratch, min: number, max: number): Int32Array {
  const units = sc.count; // code points including both marks
  let total = 0;
  for (let n = min; n <= max; n++) if (units >= n) total += units - n + 1;
  const out = new Int32Array(total);
  let k = 0;
  for (let n = min; n <= max; n++) {
    for (let i = 0; i + n <= units; i++) {
      out[k++] = murmur3Bytes(sc.bytes, sc.starts[i]!, sc.starts[i + n]!, SEED_CHAR);
    }
  }
  return out;
}
