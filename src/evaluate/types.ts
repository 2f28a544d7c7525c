/**
 * The shapes of a version evaluation: what a retriever returns, what one
 * evaluation produces, and what a gate decides. Measure values are keyed by
 * their trec_eval names (`ndcg_cut_10`); reports show the aliases (`nDCG@10`).
 */
import type { MeasureValues, Run } from '../trec/index.js';
import type { KeyKind } from '../judged-set/index.js';
import type { VersionRow } from '../versions/index.js';

/** One retrieved chunk, best first. `score`: higher is better. */
export interface RetrievedChunk {
  chunkId: number;
  semanticKey: string;
  documentId: string;
  score: number;
}

/**
 * The search the evaluation runs: the top `depth` chunks of `version` for
 * `query`. Evaluation depends only on this, not on the search module.
 */
export type Retriever = (version: VersionRow, query: string, depth: number) => Promise<RetrievedChunk[]>;

/** Per-query values of one evaluation. */
export interface QueryScore {
  id: string;
  segment: string;
  values: MeasureValues;
}

/** Aggregate of one segment (or of every query: segment `all`). */
export interface SegmentScore {
  segment: string;
  queries: number;
  values: MeasureValues;
}

/** The label used for queries without a segment. */
export const NO_SEGMENT = '(none)';
/** The label of the overall aggregate in tables and outcomes. */
export const OVERALL = 'all';

/** The result of scoring one version (or one run) against a judged set. */
export interface VersionEvaluation {
  version: { id: number; key: string; encoder: string } | null;
  judgedSet: { name: string; sha256: string; keyKind: KeyKind; source: string; queries: number };
  /** Cutoffs reported. */
  ks: number[];
  /** Measures computed (trec names, counts excluded), in report order. */
  measures: string[];
  /** Documents (or chunks) kept per query in the run: max(ks). */
  runDepth: number;
  overall: SegmentScore;
  /** Segments in name order (`(none)` for queries without one). */
  segments: SegmentScore[];
  perQuery: QueryScore[];
  /** The run that was scored: qid -> ranked documents (or chunks) with scores. */
  run: Run;
  /** Queries whose search could not fill `runDepth` results even after searching deeper. */
  shortQueries: number;
  /** Wall time of retrieval and scoring, milliseconds. */
  timings: { retrieveMs: number; scoreMs: number };
  /** Per-query search time (absent when no query was searched, and in evaluations built by hand). */
  latency?: SearchLatency;
}

/**
 * Wall time of each query's search (query embedding + SQL, and the deeper
 * second search when documents did not fill), with `concurrency` searches
 * in flight, in milliseconds.
 */
export interface SearchLatency {
  queries: number;
  concurrency: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
}
