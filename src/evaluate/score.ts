/**
 * Score a run against a judged set per query, per segment and overall with
 * the trec_eval-exact library. Queries the run lacks count as zero (-c):
 * a search that returned nothing must not drop out of the average.
 */
import { aggregate, compareCodePoints, evaluateRun, resolveMeasures, type Run } from '../trec/index.js';
import { judgedSetQrels, type JudgedSet } from '../judged-set/index.js';
import { NO_SEGMENT, type QueryScore, type SegmentScore } from './types.js';

export interface JudgedScores {
  overall: SegmentScore;
  segments: SegmentScore[];
  perQuery: QueryScore[];
}

export function scoreJudgedRun(
  set: JudgedSet,
  run: Run,
  measures: readonly string[],
  options: { judgedOnly?: boolean } = {},
): JudgedScores {
  const result = evaluateRun(judgedSetQrels(set), run, {
    measures: [...measures],
    completeQueries: true,
    judgedOnly: options.judgedOnly ?? false,
  });
  const specs = resolveMeasures({ measures: [...measures] });
  const segmentOf = new Map(set.queries.map((q) => [q.id, q.segment ?? NO_SEGMENT]));
  const perQuery: QueryScore[] = [...result.perQuery].map(([id, values]) => ({
    id,
    segment: segmentOf.get(id) ?? NO_SEGMENT,
    values,
  }));
  const groups = new Map<string, Map<string, Record<string, number>>>();
  for (const q of perQuery) {
    let g = groups.get(q.segment);
    if (!g) groups.set(q.segment, (g = new Map()));
    g.set(q.id, q.values);
  }
  const segments = [...groups.keys()].sort(compareCodePoints).map((segment) => {
    const g = groups.get(segment)!;
    return { segment, queries: g.size, values: aggregate(g, specs) };
  });
  return { overall: { segment: 'all', queries: result.numQueries, values: result.all }, segments, perQuery };
}
