/**
 * The comparison table the report's evaluation section is built from:
 * candidate and baseline means, their difference and intervals, by segment
 * and measure. Stored numbers are filled first and win over derived ones.
 */
import { OVERALL } from '../../evaluate/index.js';
import type { Interval, MetricComparison } from '../types.js';

/** The overall aggregate in the report. */
export const OVERALL_LABEL = 'overall';
/** A stored segment name as the report shows it (`evaluate`'s OVERALL, `all`, -> `overall`). */
export const segmentName = (s: string): string => (s === OVERALL ? OVERALL_LABEL : s);

/** `[lo, hi]` from two stored bounds in either order; null when one is missing. */
export function interval(lo: number | null, hi: number | null): Interval | null {
  if (lo === null || hi === null) return null;
  return lo <= hi ? { lo, hi } : { lo: hi, hi: lo };
}

/**
 * Report order of measure aliases: MRR, MAP, then per family (nDCG, P, R,
 * hit, Judged) by cutoff, then anything else by name.
 */
const FAMILIES = ['nDCG', 'P', 'R', 'hit', 'Judged'];
export function measureRank(alias: string): [number, number, string] {
  if (alias === 'MRR') return [0, 0, ''];
  if (alias === 'MAP') return [1, 0, ''];
  const m = /^([A-Za-z]+)@(\d+)$/.exec(alias);
  const f = m ? FAMILIES.indexOf(m[1]!) : -1;
  if (m && f >= 0) return [2 + f, Number(m[2]), ''];
  return [2 + FAMILIES.length, 0, alias];
}
export function compareMeasures(a: string, b: string): number {
  const x = measureRank(a);
  const y = measureRank(b);
  return x[0] - y[0] || x[1] - y[1] || x[2].localeCompare(y[2]);
}

function emptyComparison(metric: string): MetricComparison {
  return {
    metric,
    candidate: null,
    baseline: null,
    delta: null,
    deltaCi: null,
    candidateCi: null,
    baselineCi: null,
    pValue: null,
    n: null,
  };
}

/** Comparisons by segment and metric. */
export class Table {
  readonly segments = new Map<string, Map<string, MetricComparison>>();
  readonly queries = new Map<string, number>();
  readonly metrics = new Set<string>();

  get(segment: string, metric: string): MetricComparison {
    let s = this.segments.get(segment);
    if (!s) this.segments.set(segment, (s = new Map()));
    let c = s.get(metric);
    if (!c) {
      s.set(metric, (c = emptyComparison(metric)));
      this.metrics.add(metric);
    }
    return c;
  }

  find(segment: string, metric: string): MetricComparison | undefined {
    return this.segments.get(segment)?.get(metric);
  }

  metricOrder(): string[] {
    return [...this.metrics].sort(compareMeasures);
  }
}

/** Sets `target[field]` only where nothing was read before (stored numbers win over derived ones). */
export function fill<K extends keyof MetricComparison>(
  target: MetricComparison,
  field: K,
  value: MetricComparison[K] | null,
): void {
  if (target[field] === null && value !== null) target[field] = value;
}
