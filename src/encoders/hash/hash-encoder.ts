import { EncoderOutputError, InputError } from '../../errors.js';
import type { EmbedOptions, Encoder, EncoderIdentity } from '../types.js';
import { countWords } from './analyze.js';
import { Featurizer } from './featurize.js';
import { project } from './project.js';
import type { HashVariant } from './variants.js';

/** Bump whenever any change could alter an output vector. */
export const HASH_ENCODER_REVISION = 'hash-v1';

const MAX_BATCH_ITEMS = 512;
const MAX_BATCH_TOKENS = 4_000_000;
/** Texts embedded between two looks at the abort signal. */
const ABORT_CHECK_EVERY = 64;

/** The built-in weight-free lexical encoder (`hash:<variant>`; README "Encoders"). */
export class HashEncoder implements Encoder {
  readonly spec: string;
  readonly identity: EncoderIdentity;
  readonly dimensions: number;
  readonly normalized = true;
  readonly maxBatchItems = MAX_BATCH_ITEMS;
  readonly maxBatchTokens = MAX_BATCH_TOKENS;
  private readonly featurizer: Featurizer;
  private readonly acc: Float64Array;

  constructor(
    spec: string,
    readonly variant: HashVariant,
  ) {
    this.spec = spec;
    this.dimensions = variant.dimensions;
    this.identity = {
      name: `hash:${variant.name}`,
      revision: HASH_ENCODER_REVISION,
      settings: variantSettings(variant),
    };
    this.featurizer = new Featurizer(variant);
    this.acc = new Float64Array(variant.dimensions);
  }

  countTokens(text: string): number {
    return countWords(text);
  }

  /** Embed one text synchronously (the core of `embed`, also handy in benchmarks). */
  embedOne(text: string): { vector: Float32Array; tokens: number } {
    const tokens = this.featurizer.featurize(text);
    return { vector: project(this.featurizer.table, this.acc), tokens };
  }

  async embed(texts: string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    const { signal, onEvent, label } = options;
    const where = label ? ` (${label})` : '';
    if (!Array.isArray(texts)) throw new InputError(`hash encoder: texts must be an array${where}`);
    if (texts.length > MAX_BATCH_ITEMS) {
      throw new InputError(`hash encoder: ${texts.length} texts in one call, at most ${MAX_BATCH_ITEMS}${where}`);
    }
    signal?.throwIfAborted();
    const started = performance.now();
    const out: Float32Array[] = new Array(texts.length);
    let tokens = 0;
    for (let i = 0; i < texts.length; i++) {
      if (i % ABORT_CHECK_EVERY === 0) signal?.throwIfAborted();
      const text = texts[i];
      if (typeof text !== 'string') throw new InputError(`hash encoder: text ${i} is not a string${where}`);
      const result = this.embedOne(text);
      tokens += result.tokens;
      if (tokens > MAX_BATCH_TOKENS) {
        throw new InputError(`hash encoder: batch exceeds ${MAX_BATCH_TOKENS} tokens${where}`);
      }
      checkVector(result.vector, this.dimensions, i);
      out[i] = result.vector;
    }
    onEvent?.({ type: 'request', items: texts.length, tokens });
    onEvent?.({ type: 'response', items: texts.length, tokens, ms: performance.now() - started });
    return out;
  }

  async close(): Promise<void> {}
}

export function variantSettings(v: HashVariant): EncoderIdentity['settings'] {
  return {
    variant: v.name,
    dimensions: v.dimensions,
    hash: 'murmur3_x86_32',
    tf: '1+ln(tf)',
    stopwords: v.stopwords ? 'en-small' : null,
    stemmer: v.stem ? 'porter' : null,
    wordWeight: v.wordWeight,
    bigramWeight: v.bigramWeight,
    charWeight: v.charWeight,
    charNgrams: v.charWeight > 0 ? `${v.charMin}-${v.charMax}` : null,
  };
}

function checkVector(vector: Float32Array, dims: number, index: number): void {
  if (vector.length !== dims)
    throw new EncoderOutputError(`hash encoder: vector ${index} has ${vector.length} dims, expected ${dims}`);
  for (let i = 0; i < dims; i++) {
    if (!Number.isFinite(vector[i]!))
      throw new EncoderOutputError(`hash encoder: vector ${index} has a non-finite component`);
  }
}
