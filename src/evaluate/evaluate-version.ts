/**
 * Run a judged set against one version: search every query, roll chunks up
 * to documents when the set is judged by document, and score the run.
 */
import type { Run, ScoredDoc } from '../trec/index.js';
import type { JudgedSet } from '../judged-set/index.js';
import type { VersionRow } from '../versions/index.js';
import { deeperDepth, initialDepth, rankedKeys } from './collapse.js';
import { DEFAULT_KS, cutoffOf, measureList, normalizeKs } from './measures.js';
import { scoreJudgedRun } from './score.js';
import type { OnProgress, Progress } from '../util/index.js';
import { mean, quantileSorted } from '../stats/index.js';
import type { Retriever, SearchLatency, VersionEvaluation } from './types.js';

/** The most chunks one search may ask for (the partition query's limit). */
export const MAX_SEARCH_DEPTH = 10_000;

export interface EvaluateVersionOptions {
  version: VersionRow;
  judgedSet: JudgedSet;
  retriever: Retriever;
  /** Cutoffs (default 1, 5, 10, 20, 100). */
  ks?: readonly number[];
  /** More measures to compute (e.g. those the gates name). */
  extraMeasures?: readonly string[];
  /** Searches in flight at once (default 4; PGlite serializes them anyway). */
  concurrency?: number;
  /** This version is the baseline the candidate is compared with (reported in progress). */
  baseline?: boolean;
  onProgress?: OnProgress<EvaluationProgress>;
  /** trec_eval -J: score judged results only (unjudged ones are removed before scoring). */
  judgedOnly?: boolean;
  /** The set as the user named it, when `judgedSet` carries pooled labels added to it (recorded instead). */
  namedSet?: JudgedSet;
  /** The clock of the per-query search times, milliseconds (default performance.now; a test passes its own). */
  now?: () => number;
}

/** Queries searched so far for one version (the candidate, or the baseline). */
export interface EvaluationProgress extends Progress {
  phase: 'searching';
  version: string;
  baseline: boolean;
  done: number;
  total: number;
}

export async function evaluateVersion(options: EvaluateVersionOptions): Promise<VersionEvaluation> {
  const { version, judgedSet, retriever } = options;
  const ks = normalizeKs(options.ks ?? DEFAULT_KS);
  const measures = measureList(ks, options.extraMeasures);
  const runDepth = Math.max(...ks, ...measures.map(cutoffOf));
  const now = options.now ?? (() => performance.now());
  const started = performance.now();
  const run: Run = new Map();
  const searchMs: number[] = [];
  let shortQueries = 0;
  const queries = judgedSet.queries;
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < queries.length) {
      const q = queries[next++]!;
      const t0 = now();
      const { ranked, short } = await searchQuery(retriever, version, q.text, judgedSet.keyKind, runDepth);
      searchMs.push(now() - t0);
      run.set(q.id, ranked);
      if (short) shortQueries++;
      options.onProgress?.({
        phase: 'searching',
        version: version.version_key,
        baseline: Boolean(options.baseline),
        done: ++done,
        total: queries.length,
      });
    }
  };
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 4, queries.length));
  await Promise.all(Array.from({ length: concurrency }, worker));
  const retrieveMs = performance.now() - started;
  const scored = scoreJudgedRun(judgedSet, run, measures, { judgedOnly: options.judgedOnly });
  const named = options.namedSet ?? judgedSet;
  return {
    version: { id: version.id, key: version.version_key, encoder: version.encoder_spec },
    judgedSet: {
      name: named.name,
      sha256: named.sha256,
      keyKind: named.keyKind,
      source: named.source,
      queries: queries.length,
    },
    ks,
    measures,
    runDepth,
    ...scored,
    run,
    shortQueries,
    timings: { retrieveMs, scoreMs: performance.now() - started - retrieveMs },
    ...(searchMs.length ? { latency: latencyOf(searchMs, concurrency) } : {}),
  };
}

/** Percentiles (type 7, as everywhere in embctl) of the per-query search times. */
export function latencyOf(ms: readonly number[], concurrency: number): SearchLatency {
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    queries: sorted.length,
    concurrency,
    p50: quantileSorted(sorted, 0.5),
    p95: quantileSorted(sorted, 0.95),
    p99: quantileSorted(sorted, 0.99),
    mean: mean(sorted)!,
  };
}

/**
 * One query: ask for enough chunks to fill `k` keys; when documents did not
 * fill and the search returned all it was asked for (so more exist), search
 * once more, four times deeper.
 */
export async function searchQuery(
  retriever: Retriever,
  version: VersionRow,
  text: string,
  keyKind: JudgedSet['keyKind'],
  k: number,
): Promise<{ ranked: ScoredDoc[]; short: boolean }> {
  let depth = Math.min(initialDepth(keyKind, k), MAX_SEARCH_DEPTH);
  let chunks = await retriever(version, text, depth);
  let ranked = rankedKeys(chunks, keyKind, k);
  if (ranked.length < k && chunks.length >= depth && depth < MAX_SEARCH_DEPTH) {
    depth = deeperDepth(depth, MAX_SEARCH_DEPTH);
    chunks = await retriever(version, text, depth);
    ranked = rankedKeys(chunks, keyKind, k);
  }
  return { ranked, short: ranked.length < k && chunks.length >= depth };
}
