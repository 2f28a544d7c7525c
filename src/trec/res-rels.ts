/**
 * One query's results turned into what every measure reads: the relevance
 * of each retrieved document in rank order, and counts over the judgments.
 * A port of trec_eval's form_res_rels.c (`RES_RELS`), including -M
 * (keep the first N results) and -J (drop every unjudged result).
 */
import type { ScoredDoc } from './types.js';

/** A retrieved document absent from the qrels (trec_eval RELVALUE_NONPOOL). */
export const RELVALUE_NONPOOL = -1;
/** A retrieved document in the qrels with a negative grade: pooled, not judged (RELVALUE_UNJUDGED). */
export const RELVALUE_UNJUDGED = -2;

export interface ResRels {
  /** Relevance of each retrieved document in rank order: its grade, or NONPOOL / UNJUDGED. */
  rels: number[];
  numRet: number;
  /** Judged documents with a grade >= the relevance level (retrieved or not). */
  numRel: number;
  /** Retrieved documents with a grade >= the relevance level. */
  numRelRet: number;
  numNonpool: number;
  numUnjudgedInPool: number;
  /** Judged documents (grade >= 0) per grade, retrieved or not. */
  relLevels: readonly number[];
  /** 1 + the highest grade that some judged document has (0 when none is judged). */
  numRelLevels: number;
}

/** What a query's qrels contribute, computed once per query. */
export interface QueryJudgments {
  grades: ReadonlyMap<string, number>;
  relLevels: number[];
  numRelLevels: number;
}

export function queryJudgments(grades: ReadonlyMap<string, number>): QueryJudgments {
  const relLevels: number[] = [];
  for (const g of grades.values()) {
    if (g < 0) continue;
    while (relLevels.length <= g) relLevels.push(0);
    relLevels[g]!++;
  }
  let numRelLevels = 0;
  relLevels.forEach((n, level) => {
    if (n > 0) numRelLevels = level + 1;
  });
  return { grades, relLevels, numRelLevels };
}

export interface FormOptions {
  relevanceLevel: number;
  /** trec_eval -J: keep judged results only, ranked among themselves. */
  judgedOnly: boolean;
  /** trec_eval -M: evaluate only the first N results (after ordering). */
  maxRetrieved: number;
}

/** `ranked` must already be in trec_eval order (see trecOrder). */
export function formResRels(ranked: readonly ScoredDoc[], judgments: QueryJudgments, options: FormOptions): ResRels {
  const { grades, relLevels, numRelLevels } = judgments;
  const level = options.relevanceLevel;
  const n = Math.min(ranked.length, options.maxRetrieved);
  const rels: number[] = [];
  let numRelRet = 0;
  let numNonpool = 0;
  let numUnjudgedInPool = 0;
  for (let i = 0; i < n; i++) {
    const g = grades.get(ranked[i]!.docno);
    const rel = g === undefined ? RELVALUE_NONPOOL : g < 0 ? RELVALUE_UNJUDGED : g;
    if (rel === RELVALUE_NONPOOL) {
      if (options.judgedOnly) continue;
      numNonpool++;
    } else if (rel === RELVALUE_UNJUDGED) {
      if (options.judgedOnly) continue;
      numUnjudgedInPool++;
    } else if (rel >= level) {
      numRelRet++;
    }
    rels.push(rel);
  }
  let numRel = 0;
  for (let l = Math.max(0, level); l < relLevels.length; l++) numRel += relLevels[l]!;
  return { rels, numRet: rels.length, numRel, numRelRet, numNonpool, numUnjudgedInPool, relLevels, numRelLevels };
}
