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
  /**
   * Compute only these measures, as trec_eval's -m takes them: a set (`official`, `all_trec`, `set`), a family
   * (`P`, `bpref`), a family with parameters (`P.5,10`, `rbp.p=0.8`), or one value or alias (`P_10`, `nDCG@10`).
   * Printed and stored in trec_eval's order; num_ret, num_rel and num_rel_ret are always in the values.
   * Default: num_ret, num_rel, num_rel_ret, map, recip_rank, P, recall, ndcg, ndcg_cut, success and judged.
   */
  measures?: readonly string[];
  /** trec_eval -J: score the judged results only (unjudged ones are removed before ranking). Default false. */
  judgedOnly?: boolean;
  /** trec_eval -M: score only the first N results of each query. Default: all. */
  maxRetrieved?: number;
}

/** One printed column of trec_eval's output. */
export interface MeasureColumn {
  name: string;
  /** `long` prints as an integer, `double` with 4 decimals, `text` quoted (relstring), `runid` the run's id. */
  value: 'long' | 'double' | 'text' | 'runid';
  /** Printed per query (-q). */
  perQuery: boolean;
  /** Printed on the `all` line. */
  summary: boolean;
}

export interface EvaluationResult {
  /**
   * Values per evaluated query, in the order trec_eval prints them (qid string order). gm_map and gm_bpref hold
   * the query's AP and bpref (trec_eval keeps their logarithms, and prints neither per query).
   */
  perQuery: Map<string, MeasureValues>;
  /** trec_eval's `all`: means over the evaluated queries, sums for the counts, geometric means for gm_map and gm_bpref. */
  all: MeasureValues;
  /** How many queries the averages are over (trec_eval `num_q`). */
  numQueries: number;
  /** The numeric measures computed, in trec_eval's print order. */
  measures: string[];
  /** Everything trec_eval would print (with runid, num_q and relstring), in its order. */
  columns: MeasureColumn[];
  /** Text values per query (relstring). */
  text: Map<string, Record<string, string>>;
}
