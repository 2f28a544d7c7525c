/**
 * Which measures a version evaluation computes: for every cutoff K,
 * P@K, R@K, nDCG@K, hit@K and Judged@K, plus MRR, MAP, bpref and infAP (the
 * two measures built for incomplete judgments), plus any other
 * measure a gate names. Values are keyed by trec_eval names.
 */
import { InputError } from '../errors.js';
import { parseMeasure, toAlias } from '../trec/index.js';

export const DEFAULT_KS: readonly number[] = [1, 5, 10, 20, 100];

const PER_K = ['P', 'recall', 'ndcg_cut', 'success', 'judged'] as const;

/** Parse `-k 1,5,10`; every bad item is listed. */
export function parseKs(text: string): number[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = items.filter((s) => !/^\d+$/.test(s) || Number(s) < 1 || Number(s) > 1000);
  if (items.length === 0 || bad.length) {
    throw new InputError(
      `-k must be a comma-separated list of cutoffs from 1 to 1000, e.g. -k 1,5,10`,
      bad.map((s) => `bad cutoff "${s}"`),
    );
  }
  return normalizeKs(items.map(Number));
}

export function normalizeKs(ks: readonly number[]): number[] {
  return [...new Set(ks)].sort((a, b) => a - b);
}

/** The cutoff a measure needs (0 for measures without one). */
export function cutoffOf(measure: string): number {
  return parseMeasure(measure).k ?? 0;
}

/**
 * The measure list (trec names): MRR, MAP, then per K the five cutoff
 * families, then the extra measures (e.g. from gates) not already present.
 */
export function measureList(ks: readonly number[], extra: readonly string[] = []): string[] {
  const out = ['recip_rank', 'map', 'bpref', 'infAP'];
  for (const family of PER_K) for (const k of ks) out.push(`${family}_${k}`);
  for (const m of extra) {
    const name = parseMeasure(m).name;
    if (!out.includes(name) && !name.startsWith('num_')) out.push(name);
  }
  return out;
}

/** `nDCG@10` for `ndcg_cut_10`. */
export function label(measure: string): string {
  return toAlias(measure);
}
