/**
 * Measure names as trec_eval spells them (`P_10`, `ndcg_cut_10`, ...), the
 * friendly aliases our gates use (`P@10`, `nDCG@10`, ...), and the mapping
 * between them.
 */
import { InputError } from '../errors.js';

export type MeasureFamily =
  | 'map' | 'recip_rank' | 'ndcg' | 'num_ret' | 'num_rel' | 'num_rel_ret'
  | 'P' | 'recall' | 'ndcg_cut' | 'success' | 'judged';

export interface MeasureSpec {
  family: MeasureFamily;
  /** The cutoff of a cutoff family (P, recall, ndcg_cut, success, judged). */
  k?: number;
  /** trec_eval name, e.g. `ndcg_cut_10`. */
  name: string;
}

export const SIMPLE_FAMILIES = ['num_ret', 'num_rel', 'num_rel_ret', 'map', 'recip_rank', 'ndcg'] as const;
export const CUTOFF_FAMILIES = ['P', 'recall', 'ndcg_cut', 'success', 'judged'] as const;
export type CutoffFamily = (typeof CUTOFF_FAMILIES)[number];

/** trec_eval's default cutoffs (judged follows trec_eval's `unj`). */
export const DEFAULT_CUTOFFS: Record<CutoffFamily, readonly number[]> = {
  P: [5, 10, 15, 20, 30, 100, 200, 500, 1000],
  recall: [5, 10, 15, 20, 30, 100, 200, 500, 1000],
  ndcg_cut: [5, 10, 15, 20, 30, 100, 200, 500, 1000],
  success: [1, 5, 10],
  judged: [5, 10, 20],
};

/** Measures reported as sums (not means) in the aggregate, like trec_eval. */
export const SUMMED = new Set<string>(['num_ret', 'num_rel', 'num_rel_ret']);

const ALIAS_TO_FAMILY: Record<string, CutoffFamily> = {
  'p': 'P', 'r': 'recall', 'recall': 'recall', 'ndcg': 'ndcg_cut', 'hit': 'success', 'success': 'success', 'judged': 'judged',
};
const FAMILY_TO_ALIAS: Record<CutoffFamily, string> = {
  P: 'P', recall: 'R', ndcg_cut: 'nDCG', success: 'hit', judged: 'Judged',
};
const SIMPLE_ALIASES: Record<string, string> = { mrr: 'recip_rank', map: 'map', ndcg: 'ndcg' };

/**
 * Map a measure name or alias to its trec_eval name: `P@10`→`P_10`, `R@100`→`recall_100`,
 * `nDCG@10`→`ndcg_cut_10`, `MRR`→`recip_rank`, `MAP`→`map`, `hit@5`→`success_5`,
 * `Judged@10`→`judged_10`. trec names pass through. Aliases are case-insensitive.
 * Throws InputError for an unknown name.
 */
export function toTrecName(name: string): string {
  return parseMeasure(name).name;
}

/** Map a trec_eval name to the friendly alias (`ndcg_cut_10`→`nDCG@10`); names without an alias pass through. */
export function toAlias(trecName: string): string {
  const spec = tryParse(trecName);
  if (!spec) return trecName;
  if (spec.k !== undefined) return `${FAMILY_TO_ALIAS[spec.family as CutoffFamily]}@${spec.k}`;
  if (spec.family === 'recip_rank') return 'MRR';
  if (spec.family === 'map') return 'MAP';
  return spec.name;
}

/** Parse a trec name or alias into its family and cutoff. Throws InputError if unknown. */
export function parseMeasure(name: string): MeasureSpec {
  const spec = tryParse(name);
  if (!spec) {
    throw new InputError(`Unknown measure "${name}"`, [
      'known: map, recip_rank, ndcg, num_ret, num_rel, num_rel_ret, P_K, recall_K, ndcg_cut_K, success_K, judged_K',
      'aliases: MAP, MRR, P@K, R@K, nDCG@K, hit@K, Judged@K',
    ]);
  }
  return spec;
}

function tryParse(raw: string): MeasureSpec | null {
  const name = raw.trim();
  if ((SIMPLE_FAMILIES as readonly string[]).includes(name)) return { family: name as MeasureFamily, name };
  const simple = SIMPLE_ALIASES[name.toLowerCase()];
  if (simple) return { family: simple as MeasureFamily, name: simple };
  let m = /^(P|recall|ndcg_cut|success|judged)_(\d+)$/.exec(name);
  if (m) return cutoffSpec(m[1] as CutoffFamily, m[2]!);
  m = /^([A-Za-z]+)@(\d+)$/.exec(name);
  if (m) {
    const family = ALIAS_TO_FAMILY[m[1]!.toLowerCase()];
    if (family) return cutoffSpec(family, m[2]!);
  }
  return null;
}

function cutoffSpec(family: CutoffFamily, digits: string): MeasureSpec | null {
  const k = Number(digits);
  if (!Number.isSafeInteger(k) || k < 1) return null;
  return { family, k, name: `${family}_${k}` };
}
