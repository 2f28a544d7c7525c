/**
 * A synthetic corpus for the scale benchmarks (bench/scale.ts,
 * bench/pglite-ceiling.ts): one-chunk JSONL documents of 16–31 pseudo-words
 * (a 5,000-word vocabulary, skewed towards its first words like a real
 * vocabulary) and the document number, all texts distinct, written to a
 * file in 1 MB blocks (never all in memory). Deterministic for a seed.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

/** Pseudo-words (consonant-vowel syllables), so that word and character n-gram features vary like text. */
export function vocabulary(n: number, rnd: () => number): string[] {
  const c = 'bcdfghklmnprstvz';
  const v = 'aeiou';
  const out = new Set<string>();
  while (out.size < n) {
    let w = '';
    const syl = 1 + Math.floor(rnd() * 3);
    for (let i = 0; i < syl; i++) w += c[Math.floor(rnd() * c.length)]! + v[Math.floor(rnd() * v.length)]!;
    out.add(w);
  }
  return [...out];
}

/** `n` one-chunk JSONL documents of ~24 words each, streamed to a file in blocks (never all in memory). */
export function writeCorpus(path: string, n: number, seed: number): number {
  let s = seed >>> 0 || 1;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  const words = vocabulary(5000, rnd);
  const fd = openSync(path, 'w');
  let bytes = 0;
  try {
    let block = '';
    for (let i = 0; i < n; i++) {
      const len = 16 + Math.floor(rnd() * 16);
      const text = Array.from({ length: len }, () => words[Math.floor(rnd() * rnd() * words.length)]!).join(' ');
      block += JSON.stringify({ id: `d${i}`, text: `${text} ${i}.`, metadata: { segment: `s${i % 7}` } }) + '\n';
      if (block.length > 1 << 20) {
        bytes += writeSync(fd, block);
        block = '';
      }
    }
    bytes += writeSync(fd, block);
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/** `n` queries of 2–4 words of the corpus vocabulary (same seed, same words). */
export function corpusQueries(n: number, seed: number): string[] {
  let s = seed >>> 0 || 1;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  const words = vocabulary(5000, rnd);
  return Array.from({ length: n }, () =>
    Array.from({ length: 2 + Math.floor(rnd() * 3) }, () => words[Math.floor(rnd() * rnd() * 500)]!).join(' '),
  );
}
