/**
 * Single-valued measures over the whole ranking, ported from trec_eval's
 * m_num_ret.c, m_num_rel.c, m_num_rel_ret.c, m_num_nonrel_judged_ret.c,
 * m_map.c, m_gm_map.c, m_Rprec.c, m_recip_rank.c, m_bpref.c, m_gm_bpref.c,
 * m_infap.c and m_binG.c. Each returns the one value of its instance.
 *
 * gm_map and gm_bpref return the plain per-query AP / bpref: the geometric
 * mean (log of max(value, MIN_GEO_MEAN), averaged, exponentiated) is taken
 * when the queries are summarised, which gives trec_eval's numbers exactly.
 */
import type { MeasureEnv } from './measure-types.js';
import { RELVALUE_NONPOOL, RELVALUE_UNJUDGED, type ResRels } from './res-rels.js';

/** trec_eval.h INFAP_EPSILON. */
const INFAP_EPSILON = 0.00001;

export const numRet = (rr: ResRels): number[] => [rr.numRet];
export const numRel = (rr: ResRels): number[] => [rr.numRel];
export const numRelRet = (rr: ResRels): number[] => [rr.numRelRet];

/** Judged non-relevant retrieved: retrieved minus unpooled, unjudged and relevant. */
export const numNonrelJudgedRet = (rr: ResRels): number[] => [
  rr.numRet - rr.numNonpool - rr.numUnjudgedInPool - rr.numRelRet,
];

/** Average precision: precision at each relevant retrieved document, summed, over num_rel. */
export function averagePrecision(rr: ResRels, env: MeasureEnv): number[] {
  let relSoFar = 0;
  let sum = 0;
  for (let i = 0; i < rr.numRet; i++) {
    if (rr.rels[i]! >= env.relevanceLevel) {
      relSoFar++;
      sum += relSoFar / (i + 1);
    }
  }
  return [relSoFar ? sum / rr.numRel : 0];
}

/** Precision after R = num_rel documents. */
export function rPrecision(rr: ResRels, env: MeasureEnv): number[] {
  const look = Math.min(rr.numRet, rr.numRel);
  if (look === 0) return [0];
  let relSoFar = 0;
  for (let i = 0; i < look; i++) if (rr.rels[i]! >= env.relevanceLevel) relSoFar++;
  return [relSoFar / rr.numRel];
}

export function reciprocalRank(rr: ResRels, env: MeasureEnv): number[] {
  for (let i = 0; i < rr.numRet; i++) if (rr.rels[i]! >= env.relevanceLevel) return [1 / (i + 1)];
  return [0];
}

/**
 * bpref: for each judged relevant retrieved document, 1 - (judged non-relevant
 * above it, capped at R) / min(judged non-relevant, R). Unjudged results are skipped.
 */
export function bpref(rr: ResRels, env: MeasureEnv): number[] {
  let numNonrel = 0;
  for (let j = 0; j < env.relevanceLevel; j++) numNonrel += rr.relLevels[j] ?? 0;
  let nonrelSoFar = 0;
  let value = 0;
  for (let j = 0; j < rr.numRet; j++) {
    const rel = rr.rels[j]!;
    if (rel === RELVALUE_NONPOOL || rel === RELVALUE_UNJUDGED) continue;
    if (rel >= 0 && rel < env.relevanceLevel) nonrelSoFar++;
    else if (nonrelSoFar > 0) value += 1 - Math.min(nonrelSoFar, rr.numRel) / Math.min(numNonrel, rr.numRel);
    else value += 1;
  }
  if (rr.numRel) value /= rr.numRel;
  return [value];
}

/** Inferred AP (Yilmaz and Aslam): unpooled results above count as non-relevant, pooled-unjudged ones are ignored. */
export function infAP(rr: ResRels, env: MeasureEnv): number[] {
  let nonrelSoFar = 0;
  let relSoFar = 0;
  let poolUnjudgedSoFar = 0;
  let value = 0;
  for (let j = 0; j < rr.numRet; j++) {
    const rel = rr.rels[j]!;
    if (rel === RELVALUE_NONPOOL) continue;
    if (rel === RELVALUE_UNJUDGED) {
      poolUnjudgedSoFar++;
      continue;
    }
    if (rel >= 0 && rel < env.relevanceLevel) {
      nonrelSoFar++;
      continue;
    }
    relSoFar++;
    if (j === 0) {
      value += 1;
    } else {
      const fj = j;
      value +=
        1 / (fj + 1) +
        (fj / (fj + 1)) *
          ((relSoFar - 1 + nonrelSoFar + poolUnjudgedSoFar) / fj) *
          ((relSoFar - 1 + INFAP_EPSILON) / (relSoFar - 1 + nonrelSoFar + 2 * INFAP_EPSILON));
    }
  }
  if (rr.numRel) value /= rr.numRel;
  return [value];
}

/** Binary G: each relevant retrieved document adds 1 / log2(2 + non-relevant above it); over num_rel. */
export function binG(rr: ResRels, env: MeasureEnv): number[] {
  let relSoFar = 0;
  let sum = 0;
  for (let i = 0; i < rr.numRet; i++) {
    if (rr.rels[i]! >= env.relevanceLevel) {
      relSoFar++;
      sum += 1 / Math.log2(3 + i - relSoFar);
    }
  }
  return [relSoFar ? sum / rr.numRel : 0];
}
