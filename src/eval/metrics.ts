/**
 * Score a run against qrels exactly as trec_eval does (`-q`, optionally `-c`
 * and `-l`), for the measures embctl uses. Works on in-memory maps, so
 * embctl's own search results can be scored without files.
 */
import { InputError } from '../errors.js';
import { CUTOFF_FAMILIES, DEFAULT_CUTOFFS, SIMPLE_FAMILIES, SUMMED, parseMeasure, type MeasureSpec } from './measures.js';
import { prepareJudgments, scoreQuery } from './query-measures.js';
import { compareCodePoints, trecOrder, validateRun } from './ranking.js';
import type { EvaluateOptions, EvaluationResult, MeasureValues, Qrels, Run } from './types.js';

/** The measures to compute: counts first, then the requested or default ones (no duplicates). */
export function resolveMeasures(options: Pick<EvaluateOptions, 'cutoffs' | 'measures'> = {}): MeasureSpec[] {
  const specs: MeasureSpec[] = [];
  const seen = new Set<string>();
  const push = (s: MeasureSpec) => {
    if (!seen.has(s.name)) {
      seen.add(s.name);
      specs.push(s);
    }
  };
  for (const f of ['num_ret', 'num_rel', 'num_rel_ret'] as const) push({ family: f, name: f });
  if (options.measures) {
    const problems: string[] = [];
    for (const m of options.measures) {
      try {
        push(parseMeasure(m));
      } catch (e) {
        problems.push(e instanceof InputError ? e.message : String(e));
      }
    }
    if (problems.length) throw new InputError('Unknown measure names', problems);
    return specs;
  }
  if (options.cutoffs) checkCutoffs(options.cutoffs);
  for (const f of SIMPLE_FAMILIES) push({ family: f, name: f });
  for (const family of CUTOFF_FAMILIES) {
    for (const k of options.cutoffs ?? DEFAULT_CUTOFFS[family]) push({ family, k, name: `${family}_${k}` });
  }
  return specs;
}

function checkCutoffs(cutoffs: readonly number[]): void {
  const bad = cutoffs.filter((k) => !Number.isSafeInteger(k) || k < 1);
  if (bad.length) throw new InputError('Cutoffs must be positive integers', bad.map((k) => `bad cutoff: ${k}`));
}

/**
 * trec_eval semantics:
 * - results ordered by score descending, ties by docno in reverse string order; input order ignored;
 * - queries in the run but not in the qrels are ignored;
 * - qrels queries absent from the run are left out, or scored as empty rankings with `completeQueries` (-c);
 * - binary measures count a document relevant when its grade >= relevanceLevel (-l, default 1);
 * - nDCG gains are the grades themselves (negatives count 0), whatever relevanceLevel is;
 *   discount 1/log2(rank + 1); the ideal ranking uses every positive grade in the qrels.
 */
export function evaluateRun(qrels: Qrels, run: Run, options: EvaluateOptions = {}): EvaluationResult {
  const relevanceLevel = options.relevanceLevel ?? 1;
  if (!Number.isSafeInteger(relevanceLevel) || relevanceLevel < 0) {
    throw new InputError(`Relevance level must be an integer >= 0, not ${relevanceLevel}`);
  }
  validateRun(run);
  const specs = resolveMeasures(options);
  const qids = [...qrels.keys()]
    .filter((qid) => options.completeQueries || run.has(qid))
    .sort(compareCodePoints);

  const perQuery = new Map<string, MeasureValues>();
  for (const qid of qids) {
    const judged = prepareJudgments(qrels.get(qid)!, relevanceLevel);
    const ranked = trecOrder(run.get(qid) ?? []);
    perQuery.set(qid, scoreQuery(ranked, judged, relevanceLevel, specs));
  }
  return { perQuery, all: aggregate(perQuery, specs), numQueries: qids.length, measures: specs.map((s) => s.name) };
}

/** trec_eval's `all` line: mean over queries, sums for the counts; 0 when there are no queries. */
export function aggregate(perQuery: Map<string, MeasureValues>, specs: readonly MeasureSpec[]): MeasureValues {
  const all: MeasureValues = {};
  for (const s of specs) all[s.name] = 0;
  for (const values of perQuery.values()) {
    for (const s of specs) all[s.name]! += values[s.name] ?? 0;
  }
  const n = perQuery.size;
  if (n > 0) {
    for (const s of specs) if (!SUMMED.has(s.name)) all[s.name] = all[s.name]! / n;
  }
  return all;
}
