import { forEachWord, normalizeForHashing } from './analyze.js';
import { FeatureTable } from './feature-table.js';
import { Lexicon, SEED_BIGRAM, SEED_EMPTY, type LexEntry } from './lexicon.js';
import { murmur3Pair } from './murmur3.js';
import type { HashVariant } from './variants.js';

/**
 * Turns a text into feature counts in a reused FeatureTable. Not re-entrant:
 * one featurizer serves one synchronous loop at a time.
 */
export class Featurizer {
  readonly table = new FeatureTable();
  private readonly lexicon: Lexicon;
  private readonly all: LexEntry[] = [];
  private readonly content: LexEntry[] = [];
  private readonly distinct: LexEntry[] = [];
  private textSerial = 0;
  private readonly collect = (token: string): void => {
    const entry = this.lexicon.get(token);
    this.all.push(entry);
    if (!entry.stop) this.content.push(entry);
  };

  constructor(private readonly variant: HashVariant) {
    this.lexicon = new Lexicon(variant);
  }

  /** Count the features of `text` into `this.table`; returns its number of word tokens. */
  featurize(text: string): number {
    const { all, content, distinct, table, variant } = this;
    all.length = 0;
    content.length = 0;
    distinct.length = 0;
    const serial = (this.textSerial = (this.textSerial + 1) | 0);
    table.reset();
    forEachWord(normalizeForHashing(text), this.collect);
    // A text of stopwords only keeps them; a text with no word gets one fixed feature.
    const words = content.length > 0 ? content : all;
    if (words.length === 0) {
      table.add(SEED_EMPTY, 1);
      return 0;
    }
    const useChars = variant.charWeight > 0;
    const useBigrams = variant.bigramWeight > 0;
    const bigramWeight = Math.fround(variant.bigramWeight);
    let prev = 0;
    for (let i = 0; i < words.length; i++) {
      const entry = words[i]!;
      table.add(entry.wordHash, entry.wordWeight);
      if (useBigrams && i > 0) {
        table.add(murmur3Pair(prev, entry.wordHash, SEED_BIGRAM), bigramWeight);
      }
      if (entry.seenIn !== serial) {
        entry.seenIn = serial;
        entry.occurrences = 0;
        distinct.push(entry);
      }
      entry.occurrences++;
      prev = entry.wordHash;
    }
    // Character n-grams once per distinct word, counted as often as the word occurs.
    if (useChars) {
      for (const entry of distinct) {
        const { grams, gramWeight, occurrences } = entry;
        for (let g = 0; g < grams.length; g++) table.add(grams[g]!, gramWeight, occurrences);
      }
    }
    return all.length;
  }
}
