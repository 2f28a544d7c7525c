/**
 * The measures of one query, from its results in trec_eval order and its
 * judgments. Definitions follow trec_eval (m_map.c, m_P.c, m_recall.c,
 * m_recip_rank.c, m_success.c, m_ndcg.c, m_ndcg_cut.c, m_unjudged.c).
 */
import type { MeasureSpec } from './measures.js';
import type { MeasureValues, ScoredDoc } from './types.js';

/** What one query's judgments contribute, precomputed once. */
export interface JudgedQuery {
  grades: Map<string, number>;
  /** Judged documents with grade >= relevance level. */
  numRel: number;
  /** Positive grades, highest first: the ideal ranking's gains. */
  idealGains: number[];
}

export function prepareJudgments(grades: Map<string, number>, relevanceLevel: number): JudgedQuery {
  let numRel = 0;
  const idealGains: number[] = [];
  for (const g of grades.values()) {
    if (g >= 0 && g >= relevanceLevel) numRel++;
    if (g > 0) idealGains.push(g);
  }
  idealGains.sort((a, b) => b - a);
  return { grades, numRel, idealGains };
}

/** Sum of gain / log2(rank + 1) over the first `limit` ideal gains (rank starts at 1). */
function idealDcg(gains: number[], limit: number): number {
  let s = 0;
  const n = Math.min(limit, gains.length);
  for (let i = 0; i < n; i++) s += gains[i]! / Math.log2(i + 2);
  return s;
}

/**
 * Compute `specs` for one query. `ranked` must already be in trec_eval order.
 * Unjudged documents (absent from the qrels, or with a negative grade) have
 * gain 0, are never relevant and are not "judged".
 */
export function scoreQuery(
  ranked: readonly ScoredDoc[],
  judged: JudgedQuery,
  relevanceLevel: number,
  specs: readonly MeasureSpec[],
): MeasureValues {
  const n = ranked.length;
  // Prefix sums at each rank: relevant so far, judged so far, dcg so far.
  const relAt = new Float64Array(n + 1);
  const judgedAt = new Float64Array(n + 1);
  const dcgAt = new Float64Array(n + 1);
  let firstRel = 0;
  let apSum = 0;
  for (let i = 0; i < n; i++) {
    const g = judged.grades.get(ranked[i]!.docno);
    const isJudged = g !== undefined && g >= 0;
    const isRel = isJudged && g >= relevanceLevel;
    relAt[i + 1] = relAt[i]! + (isRel ? 1 : 0);
    judgedAt[i + 1] = judgedAt[i]! + (isJudged ? 1 : 0);
    dcgAt[i + 1] = dcgAt[i]! + (isJudged && g > 0 ? g / Math.log2(i + 2) : 0);
    if (isRel) {
      if (firstRel === 0) firstRel = i + 1;
      apSum += relAt[i + 1]! / (i + 1);
    }
  }
  const numRel = judged.numRel;
  const out: MeasureValues = {};
  for (const spec of specs) {
    const k = spec.k ?? 0;
    const m = Math.min(k, n);
    switch (spec.family) {
      case 'num_ret': out[spec.name] = n; break;
      case 'num_rel': out[spec.name] = numRel; break;
      case 'num_rel_ret': out[spec.name] = relAt[n]!; break;
      case 'map': out[spec.name] = numRel > 0 ? apSum / numRel : 0; break;
      case 'recip_rank': out[spec.name] = firstRel > 0 ? 1 / firstRel : 0; break;
      case 'ndcg': {
        const ideal = idealDcg(judged.idealGains, Infinity);
        out[spec.name] = ideal > 0 ? dcgAt[n]! / ideal : 0;
        break;
      }
      case 'ndcg_cut': {
        const ideal = idealDcg(judged.idealGains, k);
        out[spec.name] = ideal > 0 ? dcgAt[m]! / ideal : 0;
        break;
      }
      case 'P': out[spec.name] = relAt[m]! / k; break;
      case 'recall': out[spec.name] = numRel > 0 ? relAt[m]! / numRel : 0; break;
      case 'success': out[spec.name] = relAt[m]! > 0 ? 1 : 0; break;
      case 'judged': out[spec.name] = judgedAt[m]! / k; break;
    }
  }
  return out;
}
