/**
 * Measures at document cutoffs, ported from trec_eval's m_P.c, m_recall.c,
 * m_map_cut.c, m_rel_P.c, m_success.c, m_ndcg_cut.c and m_unjudged.c, plus
 * embctl's Judged@K. A cutoff beyond the retrieved documents counts the
 * missing ranks as non-relevant (and, for unj, as judged), as trec_eval does.
 * Cutoffs are ascending (the instance guarantees it).
 */
import type { MeasureEnv, MeasureInstance } from './measure-types.js';
import { RELVALUE_NONPOOL, RELVALUE_UNJUDGED, type ResRels } from './res-rels.js';

/**
 * trec_eval's cutoff loop: walk the ranking; when rank i reaches a cutoff,
 * record `at(i, state)` for it; cutoffs not reached get `at(cutoff, state)`
 * with the state at the end of the ranking.
 */
function atCutoffs(
  rr: ResRels,
  cutoffs: readonly number[],
  step: (i: number) => void,
  at: (cutoff: number) => number,
): number[] {
  const out = new Array<number>(cutoffs.length).fill(0);
  let c = 0;
  for (let i = 0; i < rr.numRet; i++) {
    if (i === cutoffs[c]) {
      out[c] = at(i);
      if (++c === cutoffs.length) return out;
    }
    step(i);
  }
  for (; c < cutoffs.length; c++) out[c] = at(cutoffs[c]!);
  return out;
}

/** Relevant so far, counted by `step`. */
function relCounter(rr: ResRels, env: MeasureEnv) {
  const s = { rel: 0 };
  return {
    s,
    step: (i: number) => {
      if (rr.rels[i]! >= env.relevanceLevel) s.rel++;
    },
  };
}

export function precisionAt(rr: ResRels, env: MeasureEnv, inst: MeasureInstance): number[] {
  const { s, step } = relCounter(rr, env);
  return atCutoffs(rr, inst.cutoffs, step, (k) => s.rel / k);
}

export function recallAt(rr: ResRels, env: MeasureEnv, inst: MeasureInstance): number[] {
  if (rr.numRel === 0) return inst.cutoffs.map(() => 0);
  const { s, step } = relCounter(rr, env);
  return atCutoffs(rr, inst.cutoffs, step, () => s.rel / rr.numRel);
}

/** Precision at k over the best possible precision at k: rel / min(k, num_rel). */
export function relativePrecisionAt(rr: ResRels, env: MeasureEnv, inst: MeasureInstance): number[] {
  if (rr.numRel === 0) return inst.cutoffs.map(() => 0);
  const { s, step } = relCounter(rr, env);
  return atCutoffs(rr, inst.cutoffs, step, (k) => s.rel / (k > rr.numRel ? rr.numRel : k));
}

export function successAt(rr: ResRels, env: MeasureEnv, inst: MeasureInstance): number[] {
  const { s, step } = relCounter(rr, env);
  return atCutoffs(rr, inst.cutoffs, step, () => (s.rel ? 1 : 0));
}

/** Average precision of the first k results, over all num_rel relevant documents. */
export function averagePrecisionAt(rr: ResRels, env: MeasureEnv, inst: MeasureInstance): number[] {
  if (rr.numRel === 0) return inst.cutoffs.map(() => 0);
  let rel = 0;
  let sum = 0;
  const step = (i: number) => {
    if (rr.rels[i]! >= env.relevanceLevel) {
      rel++;
      sum += rel / (i + 1);
    }
  };
  return atCutoffs(rr, inst.cutoffs, step, () => sum / rr.numRel);
}

/** Share of the first k ranks holding a document that is unpooled or pooled-unjudged. */
export function unjudgedAt(rr: ResRels, _env: MeasureEnv, inst: MeasureInstance): number[] {
  let unj = 0;
  const step = (i: number) => {
    const rel = rr.rels[i]!;
    if (rel === RELVALUE_NONPOOL || rel === RELVALUE_UNJUDGED) unj++;
  };
  return atCutoffs(rr, inst.cutoffs, step, (k) => unj / k);
}

/** embctl's Judged@K: share of the first K ranks holding a judged document (missing ranks are not judged). */
export function judgedAt(rr: ResRels, _env: MeasureEnv, inst: MeasureInstance): number[] {
  let judged = 0;
  const step = (i: number) => {
    if (rr.rels[i]! >= 0) judged++;
  };
  return atCutoffs(rr, inst.cutoffs, step, (k) => judged / k);
}

/**
 * nDCG at k: gains are the grades, discount log2(rank + 1); the ideal DCG at k
 * takes the judged documents from the highest grade down. When the ideal is
 * 0 the value is left as the (then 0) DCG, as trec_eval does.
 */
export function ndcgAt(rr: ResRels, _env: MeasureEnv, inst: MeasureInstance): number[] {
  const cutoffs = inst.cutoffs;
  let sum = 0;
  const out = atCutoffs(
    rr,
    cutoffs,
    (i) => {
      const gain = rr.rels[i]!;
      if (gain > 0) sum += gain / Math.log2(i + 2);
    },
    () => sum,
  );

  let c = 0;
  let level = rr.numRelLevels - 1;
  let count = 0;
  let ideal = 0;
  for (let i = 0; ; i++) {
    count++;
    while (level > 0 && count > rr.relLevels[level]!) {
      level--;
      count = 1;
    }
    if (level <= 0) break;
    if (i === cutoffs[c]) {
      if (ideal > 0) out[c]! /= ideal;
      if (++c === cutoffs.length) break;
    }
    ideal += level / Math.log2(i + 2);
  }
  for (; c < cutoffs.length; c++) if (ideal > 0) out[c]! /= ideal;
  return out;
}
