/**
 * Gain-based measures, ported from trec_eval's m_ndcg.c, m_ndcg_rel.c,
 * m_Rndcg.c, m_G.c, m_rbp.c and m_rbp_resid.c. Gains come from gains.ts
 * (the grade, unless a `level=gain` parameter says otherwise).
 */
import { IdealGains, getGain, setupGains } from './gains.js';
import type { MeasureEnv, MeasureInstance } from './measure-types.js';
import type { ResRels } from './res-rels.js';

const discount = (i: number) => Math.log2(i + 2);

/** nDCG over the whole ranking (Järvelin and Kekäläinen), ideal over every judged document. */
export function ndcg(rr: ResRels, _env: MeasureEnv, inst: MeasureInstance): number[] {
  const gains = setupGains(inst.pairs, rr);
  const ideal = new IdealGains(gains);
  let dcg = 0;
  let idealDcg = 0;
  let i = 0;
  for (; i < rr.numRet && ideal.gain > 0; i++) {
    const g = getGain(rr.rels[i]!, gains);
    if (g !== 0) dcg += g / discount(i);
    ideal.next();
    if (ideal.gain > 0) idealDcg += ideal.gain / discount(i);
  }
  for (; i < rr.numRet; i++) {
    const g = getGain(rr.rels[i]!, gains);
    if (g !== 0) dcg += g / discount(i);
  }
  for (; ideal.gain > 0; i++) {
    ideal.next();
    if (ideal.gain > 0) idealDcg += ideal.gain / discount(i);
  }
  return [idealDcg > 0 ? dcg / idealDcg : 0];
}

/**
 * nDCG averaged over the relevant documents (gain > 0): at each one retrieved,
 * and, for those not retrieved, the final DCG over the ideal DCG.
 */
export function ndcgRel(rr: ResRels, _env: MeasureEnv, inst: MeasureInstance): number[] {
  const gains = setupGains(inst.pairs, rr);
  const ideal = new IdealGains(gains);
  let dcg = 0;
  let idealDcg = 0;
  let sum = 0;
  let numRelRet = 0;
  let numRel = 0;
  let i = 0;
  for (; i < rr.numRet && ideal.gain > 0; i++) {
    const g = getGain(rr.rels[i]!, gains);
    if (g !== 0) dcg += g / discount(i);
    ideal.next();
    if (ideal.gain > 0) {
      numRel++;
      idealDcg += ideal.gain / discount(i);
    }
    if (g > 0) {
      sum += dcg / idealDcg;
      numRelRet++;
    }
  }
  for (; i < rr.numRet; i++) {
    const g = getGain(rr.rels[i]!, gains);
    if (g !== 0) dcg += g / discount(i);
    if (g > 0) {
      sum += dcg / idealDcg;
      numRelRet++;
    }
  }
  for (; ideal.gain > 0; i++) {
    ideal.next();
    if (ideal.gain > 0) {
      numRel++;
      idealDcg += ideal.gain / discount(i);
    }
  }
  sum += ((numRel - numRelRet) * dcg) / idealDcg;
  return [sum > 0 ? sum / numRel : 0];
}

/**
 * nDCG averaged at the R levels: the ranks where the ideal gain changes (and,
 * when results remain past the last positive ideal gain, at the end of the ranking).
 */
export function rNdcg(rr: ResRels, _env: MeasureEnv, inst: MeasureInstance): number[] {
  const gains = setupGains(inst.pairs, rr);
  if (rr.numRel === 0) return [0];
  const ideal = new IdealGains(gains);
  let dcg = 0;
  let idealDcg = 0;
  let sum = 0;
  let changes = 0;
  let oldGain = ideal.gain;
  const atBoundary = () => {
    if (oldGain !== ideal.gain) {
      if (idealDcg > 0) {
        sum += dcg / idealDcg;
        changes++;
      }
      oldGain = ideal.gain;
    }
  };
  let i = 0;
  for (; i < rr.numRet && ideal.gain > 0; i++) {
    const g = getGain(rr.rels[i]!, gains);
    ideal.next();
    atBoundary();
    if (g !== 0) dcg += g / discount(i);
    if (ideal.gain > 0) idealDcg += ideal.gain / discount(i);
  }
  if (i < rr.numRet) {
    for (; i < rr.numRet; i++) {
      const g = getGain(rr.rels[i]!, gains);
      if (g !== 0) dcg += g / discount(i);
    }
    if (idealDcg > 0) {
      sum += dcg / idealDcg;
      changes++;
    }
  }
  for (; ideal.gain > 0; i++) {
    ideal.next();
    atBoundary();
    if (ideal.gain > 0) idealDcg += ideal.gain / discount(i);
  }
  return [sum / changes];
}

/**
 * G: each document's gain over log2(2 + ideal cost so far - gain so far),
 * summed and normalised by the ideal total gain. Costs below 1 count as 1.
 */
export function gMeasure(rr: ResRels, _env: MeasureEnv, inst: MeasureInstance): number[] {
  const gains = setupGains(inst.pairs, rr);
  const ideal = new IdealGains(gains);
  const minCost = 1;
  let sumResults = 0;
  let sumIdeal = 0;
  let sumCost = 0;
  let value = 0;
  let i = 0;
  for (; i < rr.numRet && ideal.gain > 0; i++) {
    const g = getGain(rr.rels[i]!, gains);
    sumResults += g;
    ideal.next();
    if (ideal.gain > 0) sumIdeal += ideal.gain;
    sumCost += ideal.gain >= minCost ? ideal.gain : minCost;
    if (g !== 0) value += g / Math.log2(2 + sumCost - sumResults);
  }
  for (; i < rr.numRet; i++) {
    const g = getGain(rr.rels[i]!, gains);
    sumResults += g;
    sumCost += minCost;
    if (g !== 0) value += g / Math.log2(2 + sumCost - sumResults);
  }
  while (ideal.gain > 0) {
    ideal.next();
    if (ideal.gain > 0) sumIdeal += ideal.gain;
  }
  return [sumIdeal > 0 ? value / sumIdeal : 0];
}

/** rbp's and rbp_resid's persistence: the `p` parameter, default 0.9. */
function persistence(inst: MeasureInstance): number {
  let p = 0.9;
  for (const pair of inst.pairs) if (pair.name === 'p') p = pair.value;
  return p;
}

/**
 * Rank-biased precision (Moffat and Zobel): (1 - p) * sum of gain * p^(rank - 1).
 * Gains outside [0, 1] are rescaled to it. trec_eval starts the min and max
 * of that rescaling from uninitialised variables; they are taken as 0 here,
 * which reproduces trec_eval's test outputs (binary and graded).
 */
export function rbp(rr: ResRels, _env: MeasureEnv, inst: MeasureInstance): number[] {
  const p = persistence(inst);
  const gains = setupGains(inst.pairs, rr);
  let min = 0;
  let max = 0;
  for (const g of gains) {
    if (g.gain < min) min = g.gain;
    if (g.gain > max) max = g.gain;
  }
  if (min < 0 || max > 1) for (const g of gains) g.gain = (g.gain - min) / (max - min);
  let sum = 0;
  let curP = 1;
  for (let i = 0; i < rr.numRet; i++) {
    const gain = getGain(rr.rels[i]!, gains);
    if (gain !== 0) sum += gain * curP;
    curP *= p;
  }
  return [(1 - p) * sum];
}

/** The most RBP could still gain if every unjudged retrieved document were relevant: p^n + (1 - p) * sum of p^(rank - 1) over them. */
export function rbpResidual(rr: ResRels, _env: MeasureEnv, inst: MeasureInstance): number[] {
  const p = persistence(inst);
  let unj = 0;
  let sum = 0;
  let curP = 1;
  for (let i = 0; i < rr.numRet; i++) {
    if (rr.rels[i]! < 0) {
      unj++;
      sum += curP;
    }
    curP *= p;
  }
  return [unj ? curP + (1 - p) * sum : 0];
}
