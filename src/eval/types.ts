/**
 * The in-memory shapes the scoring core works on. They are plain maps so that
 * embctl can score its own search results without going through files.
 */

/** Judgments: query id -> (document key -> grade). Grades are integers; negatives mean "in the pool, not judged" (trec_eval). */
export type Qrels = Map<string, Map<string, number>>;

/** One retrieved item. Only the score orders results; any input order or rank is ignored (trec_eval). */
export interface ScoredDoc {
  docno: string;
  score: number;
}

/** A run: query id -> retrieved items, in any order. */
export type Run = Map<string, ScoredDoc[]>;

/** Measure name (trec_eval spelling) -> value. */
export type MeasureValues = Record<string, number>;

export interface EvaluateOptions {
  /** Minimum grade that counts as relevant for binary measures (trec_eval `-l`). Default 1. */
  relevanceLevel?: number;
  /** Score qrels queries missing from the run as zero instead of leaving them out (trec_eval `-c`). Default false. */
  completeQueries?: boolean;
  /**
   * Cutoffs for every cutoff family (P, recall, ndcg_cut, success, judged).
   * Default: trec_eval's own defaults per family (5,10,15,20,30,100,200,500,1000; success 1,5,10; judged 5,10,20).
   * Ignored when `measures` is given.
   */
  cutoffs?: number[];
  /** Compute only these measures (trec names or aliases such as `nDCG@10`). Counts (num_*) are always reported. */
  measures?: string[];
}

export interface EvaluationResult {
  /** Values per evaluated query, in the order trec_eval prints them (qid string order). */
  perQuery: Map<string, MeasureValues>;
  /** Means over evaluated queries (sums for num_ret, num_rel, num_rel_ret), like trec_eval's `all`. */
  all: MeasureValues;
  /** How many queries the averages are over (trec_eval `num_q`). */
  numQueries: number;
  /** The measure names computed, in a stable order. */
  measures: string[];
}
