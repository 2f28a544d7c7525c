/**
 * Candidate versus baseline on one measure over the same queries: the mean
 * difference, a paired randomization test (two-sided p-value) and a paired
 * bootstrap confidence interval of the difference. Seeded: reproducible.
 */
import { alignByQuery, bootstrapConfidenceInterval, randomizationTest, DEFAULT_SEED } from '../stats/index.js';
import type { QueryScore, VersionEvaluation } from './types.js';
import { OVERALL } from './types.js';

export interface ComparisonOptions {
  permutations?: number;
  resamples?: number;
  confidence?: number;
  seed?: number | string;
}

export interface Comparison {
  segment: string;
  metric: string;
  n: number;
  candidate: number;
  baseline: number;
  /** Mean of candidate - baseline over the paired queries (negative = a drop). */
  delta: number;
  pValue: number;
  ciLower: number;
  ciUpper: number;
  confidence: number;
}

/** Per-query values of one measure, for one segment or `all`. */
export function perQueryValues(scores: readonly QueryScore[], metric: string, segment: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const q of scores) if (segment === OVERALL || q.segment === segment) out.set(q.id, q.values[metric] ?? 0);
  return out;
}

export function compareMeasure(
  candidate: VersionEvaluation,
  baseline: VersionEvaluation,
  metric: string,
  segment: string,
  options: ComparisonOptions = {},
): Comparison | null {
  const a = perQueryValues(candidate.perQuery, metric, segment);
  const b = perQueryValues(baseline.perQuery, metric, segment);
  if (a.size === 0) return null;
  const aligned = alignByQuery(a, b);
  const seed = options.seed ?? DEFAULT_SEED;
  const rt = randomizationTest(aligned.a, aligned.b, { permutations: options.permutations, seed });
  const ci = bootstrapConfidenceInterval(aligned.a, aligned.b, {
    resamples: options.resamples,
    confidence: options.confidence,
    seed,
  });
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  return {
    segment,
    metric,
    n: aligned.qids.length,
    candidate: mean(aligned.a),
    baseline: mean(aligned.b),
    delta: rt.meanDifference,
    pValue: rt.pValue,
    ciLower: ci.lower,
    ciUpper: ci.upper,
    confidence: ci.confidence,
  };
}

/** Resamples of the informational comparison table (gates use their file's settings, default 10,000). */
export const TABLE_RESAMPLES = 2_000;

/**
 * Every measure, overall and per segment (a single segment holding every
 * query is not repeated). Default 2,000 permutations and resamples: this
 * table informs; the gates decide with their own, larger settings.
 */
export function compareEvaluations(
  candidate: VersionEvaluation,
  baseline: VersionEvaluation,
  options: ComparisonOptions = {},
): Comparison[] {
  options = { permutations: TABLE_RESAMPLES, resamples: TABLE_RESAMPLES, ...options };
  const measures = candidate.measures.filter((m) => baseline.measures.includes(m));
  const single = candidate.segments.length === 1 && candidate.segments[0]!.queries === candidate.overall.queries;
  const segments = [OVERALL, ...(single ? [] : candidate.segments.map((s) => s.segment))];
  const out: Comparison[] = [];
  for (const segment of segments) {
    for (const m of measures) {
      const c = compareMeasure(candidate, baseline, m, segment, options);
      if (c) out.push(c);
    }
  }
  return out;
}
