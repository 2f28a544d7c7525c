/**
 * Measures of the retrieved set as a whole (rank ignored), ported from
 * trec_eval's m_set_P.c, m_set_rel_P.c, m_set_recall.c, m_set_map.c,
 * m_set_F.c and m_utility.c, and relstring (m_relstring.c), the one
 * measure whose value is text.
 */
import type { MeasureEnv, MeasureInstance } from './measure-types.js';
import { RELVALUE_NONPOOL, RELVALUE_UNJUDGED, type ResRels } from './res-rels.js';

export const setPrecision = (rr: ResRels): number[] => [rr.numRet ? rr.numRelRet / rr.numRet : 0];

export const setRelativePrecision = (rr: ResRels): number[] => [
  rr.numRet && rr.numRel ? rr.numRelRet / Math.min(rr.numRet, rr.numRel) : 0,
];

export const setRecall = (rr: ResRels): number[] => [rr.numRel ? rr.numRelRet / rr.numRel : 0];

/** Recall times precision of the set: rel_ret^2 / (ret * rel). */
export const setMap = (rr: ResRels): number[] => [
  rr.numRet && rr.numRel ? (rr.numRelRet * rr.numRelRet) / (rr.numRet * rr.numRel) : 0,
];

/** F: (x + 1) P R / (x P + R), x (default 1) the weight of recall against precision. */
export function setF(rr: ResRels, _env: MeasureEnv, inst: MeasureInstance): number[] {
  if (!rr.numRelRet) return [0];
  const p = rr.numRelRet / rr.numRet;
  const r = rr.numRelRet / rr.numRel;
  const x = inst.numbers[0]!;
  return [((x + 1) * p * r) / (x * p + r)];
}

/**
 * p1 * relevant retrieved + p2 * non-relevant retrieved + p3 * relevant not
 * retrieved + p4 * non-relevant not retrieved; default 1, -1, 0, 0. The last
 * count needs the collection size (trec_eval -N), 0 here as in trec_eval by default.
 */
export function utility(rr: ResRels, env: MeasureEnv, inst: MeasureInstance): number[] {
  const [a, b, c, d] = inst.numbers as [number, number, number, number];
  return [
    a * rr.numRelRet +
      b * (rr.numRet - rr.numRelRet) +
      c * (rr.numRel - rr.numRelRet) +
      d * (env.numDocsInColl + rr.numRelRet - rr.numRet - rr.numRel),
  ];
}

/**
 * The relevance of the first N (default 10) results as characters: the
 * grade 0-9, `>` above 9, `-` not in the qrels, `.` in the qrels unjudged.
 */
export function relstring(rr: ResRels, _env: MeasureEnv, inst: MeasureInstance): string[] {
  const len = Math.max(0, Math.min(Math.trunc(inst.numbers[0]!), rr.numRet));
  let s = '';
  for (let i = 0; i < len; i++) {
    const rel = rr.rels[i]!;
    if (rel > 9) s += '>';
    else if (rel >= 0) s += String(rel);
    else if (rel === RELVALUE_NONPOOL) s += '-';
    else if (rel === RELVALUE_UNJUDGED) s += '.';
    else s += '<';
  }
  return [s];
}
