/**
 * What the stored numbers lack, derived from per-query scores: the means,
 * the normal-approximation interval of each mean, and the paired bootstrap
 * interval of the difference (src/stats/significance.ts). When the run holds
 * no baseline scores, the baseline version's own run on the same judged set
 * supplies them, paired by query id.
 */
import { bootstrapConfidenceInterval } from '../../stats/index.js';
import type { Interval } from '../types.js';
import type { QueryScores } from './read.js';
import { compareMeasures, fill, OVERALL_LABEL, segmentName, type Table } from './table.js';

const BOOTSTRAP_RESAMPLES = 2000;
/** Upper bound on resamples x queries x series per run, to keep `report` fast on large sets. */
const BOOTSTRAP_BUDGET = 60_000_000;
const Z95 = 1.959964;

/** What `deriveIntervals` computed, for the notes under the charts. */
export interface DerivedIntervals {
  /** Segments whose difference interval was computed here (not recorded). */
  pairedSegments: Set<string>;
  /** Resamples of those paired bootstrap intervals; null when none was computed. */
  pairedResamples: number | null;
  /** True when an interval of a mean was computed. */
  meanIntervals: boolean;
}

function meanCi(values: number[]): Interval | null {
  const n = values.length;
  if (n < 2) return null;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  const half = Z95 * Math.sqrt(variance / n);
  return { lo: mean - half, hi: mean + half };
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

function bySegment(queries: QueryScores[]): Map<string, QueryScores[]> {
  const out = new Map<string, QueryScores[]>([[OVERALL_LABEL, queries]]);
  for (const q of queries) {
    if (q.segment === null) continue;
    const s = segmentName(q.segment);
    if (s === OVERALL_LABEL) continue;
    let list = out.get(s);
    if (!list) out.set(s, (list = []));
    list.push(q);
  }
  return out;
}

/** Fills the table from per-query scores where the stored numbers left gaps. */
export function deriveIntervals(queries: QueryScores[], t: Table): DerivedIntervals {
  const derived: DerivedIntervals = { pairedSegments: new Set(), pairedResamples: null, meanIntervals: false };
  if (queries.length === 0) return derived;
  const segments = bySegment(queries);
  const metrics = t.metrics.size ? t.metricOrder() : Object.keys(queries[0]!.candidate).sort(compareMeasures);
  const pairedWork = [...segments.values()].reduce((a, l) => a + l.length, 0) * metrics.length;
  const resamples = Math.max(
    200,
    Math.min(BOOTSTRAP_RESAMPLES, Math.floor(BOOTSTRAP_BUDGET / Math.max(1, pairedWork))),
  );
  for (const [segment, list] of segments) {
    if (!t.queries.has(segment)) t.queries.set(segment, list.length);
    for (const metric of metrics) {
      const cand: number[] = [];
      const pairedC: number[] = [];
      const pairedB: number[] = [];
      const base: number[] = [];
      for (const q of list) {
        const c = q.candidate[metric];
        const b = q.baseline?.[metric];
        if (c !== undefined) cand.push(c);
        if (b !== undefined) base.push(b);
        if (c !== undefined && b !== undefined) {
          pairedC.push(c);
          pairedB.push(b);
        }
      }
      if (cand.length === 0) continue;
      const cmp = t.get(segment, metric);
      fill(cmp, 'candidate', mean(cand));
      fill(cmp, 'n', cand.length);
      if (cmp.candidateCi === null && cand.length >= 2) {
        cmp.candidateCi = meanCi(cand);
        derived.meanIntervals = true;
      }
      if (base.length) {
        fill(cmp, 'baseline', mean(base));
        if (cmp.baselineCi === null && base.length >= 2) cmp.baselineCi = meanCi(base);
      }
      if (cmp.deltaCi === null && pairedC.length >= 2) {
        try {
          const r = bootstrapConfidenceInterval(pairedC, pairedB, { resamples, confidence: 0.95 });
          cmp.deltaCi = { lo: r.lower, hi: r.upper };
          fill(cmp, 'delta', r.meanDifference);
          derived.pairedSegments.add(segment);
          derived.pairedResamples = resamples;
        } catch {
          // non-finite scores: leave the interval out
        }
      }
    }
  }
  return derived;
}

/** Pairs per-query entries that have no baseline with the baseline run's entries, by query id. */
export function attachBaseline(queries: QueryScores[], baselineQueries: QueryScores[]): number {
  if (!baselineQueries.length) return 0;
  const byId = new Map(baselineQueries.map((q) => [q.qid, q.candidate]));
  let n = 0;
  for (const q of queries) {
    if (q.baseline) continue;
    const b = byId.get(q.qid);
    if (b) {
      q.baseline = b;
      n++;
    }
  }
  return n;
}
