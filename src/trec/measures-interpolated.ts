/**
 * Interpolated precision, ported from trec_eval's m_iprec_at_recall.c,
 * m_11pt_avg.c and m_Rprec_mult.c. Interpolated precision at a rank is the
 * best precision at that rank or any later one. Recall points become
 * numbers of relevant documents with C's lround (this trec_eval version;
 * v9 added 0.9 and truncated), Rprec_mult's multiples of R with
 * (long)(x * R + 0.9). With no retrieved document (possible with -J)
 * trec_eval divides 0 by 0 and prints -nan; so does this port.
 */
import type { MeasureEnv, MeasureInstance } from './measure-types.js';
import type { ResRels } from './res-rels.js';

/** C's lround: to nearest, halves away from zero. */
function lround(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/**
 * Interpolated precision at each recall fraction. Shared by
 * iprec_at_recall (the values, fractions ascending) and 11pt_avg (their
 * mean, fractions as given: the walk from the last one down is trec_eval's).
 */
function interpolatedAtRecall(rr: ResRels, env: MeasureEnv, fractions: readonly number[]): number[] {
  const out = new Array<number>(fractions.length).fill(0);
  const cutoffs = fractions.map((f) => lround(f * rr.numRel));
  let cut = fractions.length - 1;
  while (cut >= 0 && cutoffs[cut]! > rr.numRelRet) cut--;
  let intPrecis = rr.numRelRet / rr.numRet;
  let relSoFar = rr.numRelRet;
  for (let i = rr.numRet; i > 0 && relSoFar > 0; i--) {
    const precis = relSoFar / i;
    if (intPrecis < precis) intPrecis = precis;
    if (rr.rels[i - 1]! >= env.relevanceLevel) {
      while (cut >= 0 && relSoFar === cutoffs[cut]) out[cut--] = intPrecis;
      relSoFar--;
    }
  }
  while (cut >= 0) out[cut--] = intPrecis;
  return out;
}

export function iprecAtRecall(rr: ResRels, env: MeasureEnv, inst: MeasureInstance): number[] {
  return interpolatedAtRecall(rr, env, inst.cutoffs);
}

/**
 * 11pt_avg: the mean interpolated precision over its recall points (default
 * 0.0, 0.1, ... 1.0), taken in the order given (trec_eval does not sort
 * them) and summed from the last point down, as trec_eval adds them.
 */
export function elevenPointAverage(rr: ResRels, env: MeasureEnv, inst: MeasureInstance): number[] {
  const values = interpolatedAtRecall(rr, env, inst.numbers);
  let sum = 0;
  for (let i = values.length - 1; i >= 0; i--) sum += values[i]!;
  return [sum / values.length];
}

/**
 * Precision at multiples of R. Multiples beyond the retrieved documents get
 * num_rel_ret / cutoff; the others the precision at exactly that rank.
 */
export function rPrecisionMultiples(rr: ResRels, env: MeasureEnv, inst: MeasureInstance): number[] {
  const out = new Array<number>(inst.cutoffs.length).fill(0);
  const cutoffs = inst.cutoffs.map((f) => Math.trunc(f * rr.numRel + 0.9));
  let cut = cutoffs.length - 1;
  while (cut >= 0 && cutoffs[cut]! > rr.numRet) {
    out[cut] = rr.numRelRet / cutoffs[cut]!;
    cut--;
  }
  let relSoFar = rr.numRelRet;
  for (let i = rr.numRet; i > 0 && relSoFar > 0; i--) {
    const precis = relSoFar / i;
    while (cut >= 0 && i === cutoffs[cut]) out[cut--] = precis;
    if (rr.rels[i - 1]! >= env.relevanceLevel) relSoFar--;
  }
  return out;
}
