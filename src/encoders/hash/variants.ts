import { InputError } from '../../errors.js';

/** Everything that shapes a `hash:<variant>` encoder's output. */
export interface HashVariant {
  /** The `<variant>` in `hash:<variant>`. */
  name: string;
  /** One line for `--help` and docs. */
  description: string;
  /** Output dimensions (hash buckets); at most 2000 (pgvector HNSW on `vector`). */
  dimensions: number;
  /** Drop English stopwords (unless a text has nothing else). */
  stopwords: boolean;
  /** Porter-stem word features. */
  stem: boolean;
  /** Weight of a (stemmed) word feature. */
  wordWeight: number;
  /** Weight of an adjacent word-pair feature; 0 turns bigrams off. */
  bigramWeight: number;
  /** Weight of a character n-gram feature; 0 turns them off. */
  charWeight: number;
  /** Character n-gram lengths (code points, counting the word-boundary marks). */
  charMin: number;
  charMax: number;
}

export const HASH_VARIANTS: readonly HashVariant[] = [
  {
    name: 'words-32',
    description: 'deliberately weak: 32 dims, words only (for demos of a failing gate)',
    dimensions: 32,
    stopwords: true,
    stem: true,
    wordWeight: 1,
    bigramWeight: 0,
    charWeight: 0,
    charMin: 0,
    charMax: 0,
  },
  {
    name: 'words-256',
    description: 'weak but sane: 256 dims, stemmed words only',
    dimensions: 256,
    stopwords: true,
    stem: true,
    wordWeight: 1,
    bigramWeight: 0,
    charWeight: 0,
    charMin: 0,
    charMax: 0,
  },
  {
    name: 'mixed-384',
    description: 'compact: 384 dims, words + word bigrams + character 3-5-grams',
    dimensions: 384,
    stopwords: true,
    stem: true,
    wordWeight: 1,
    bigramWeight: 0.5,
    charWeight: 0.25,
    charMin: 3,
    charMax: 5,
  },
  {
    name: 'mixed-768',
    description: 'strong: 768 dims, words + word bigrams + character 3-5-grams',
    dimensions: 768,
    stopwords: true,
    stem: true,
    wordWeight: 1,
    bigramWeight: 0.5,
    charWeight: 0.25,
    charMin: 3,
    charMax: 5,
  },
  {
    name: 'mixed-1536',
    description: 'strongest (default): 1536 dims, words + word bigrams + character 3-5-grams',
    dimensions: 1536,
    stopwords: true,
    stem: true,
    wordWeight: 1,
    bigramWeight: 0.5,
    charWeight: 0.25,
    charMin: 3,
    charMax: 5,
  },
];

/** The variant `hash` alone stands for. */
export const DEFAULT_HASH_VARIANT = 'mixed-1536';

/** Resolve a variant name (`undefined` or `''` = the default); unknown names are an InputError. */
export function resolveHashVariant(name: string | undefined): HashVariant {
  const wanted = name === undefined || name === '' ? DEFAULT_HASH_VARIANT : name;
  const found = HASH_VARIANTS.find((v) => v.name === wanted);
  if (!found) {
    throw new InputError(
      `unknown hash encoder variant '${wanted}'`,
      HASH_VARIANTS.map((v) => `hash:${v.name}  ${v.description}`),
    );
  }
  return found;
}
