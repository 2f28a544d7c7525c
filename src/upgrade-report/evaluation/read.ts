/**
 * Reads a parsed stored run (src/evaluate/stored-run.ts) into the report's
 * comparison table and gate results. Nothing here checks shapes: the schema
 * did; this only maps stored names onto the report's.
 */
import {
  OVERALL,
  type StoredComparison,
  type StoredGate,
  type StoredMetrics,
  type StoredQuery,
  type StoredSummary,
} from '../../evaluate/index.js';
import type { GateResult, Interval } from '../types.js';
import { fill, interval, OVERALL_LABEL, segmentName, type Table } from './table.js';

type Side = 'candidate' | 'baseline';

/** A stored comparison in the report's terms. */
export interface ReadComparison {
  segment: string;
  metric: string;
  n: number | null;
  candidate: number | null;
  baseline: number | null;
  delta: number | null;
  pValue: number | null;
  ci: Interval | null;
  confidence: number | null;
}

/** Per-query scores of one query, without the values stored as null (NaN). */
export interface QueryScores {
  qid: string;
  segment: string | null;
  candidate: Record<string, number>;
  baseline: Record<string, number> | null;
}

const text = (s: string): string | null => (s === '' ? null : s);

/** The stored values without the nulls (a NaN when written): missing, not zero. */
function numbers(values: Record<string, number | null>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(values)) if (v !== null) out[k] = v;
  return out;
}

/** `{ overall, segments }`: the summary of one version, as one side of the table. */
function readSummary(block: StoredSummary, side: Side, t: Table): void {
  const aggregates: [string, StoredSummary['overall']][] = [
    [OVERALL_LABEL, block.overall],
    ...Object.entries(block.segments).map(([name, agg]): [string, StoredSummary['overall']] => [
      segmentName(name),
      agg,
    ]),
  ];
  for (const [segment, agg] of aggregates) {
    for (const [metric, v] of Object.entries(numbers(agg.values))) fill(t.get(segment, metric), side, v);
    if (side === 'candidate') t.queries.set(segment, agg.queries);
  }
}

export function readComparison(c: StoredComparison): ReadComparison {
  return {
    segment: segmentName(text(c.segment) ?? OVERALL),
    metric: c.metric,
    n: c.n,
    candidate: c.candidate,
    baseline: c.baseline,
    delta: c.delta,
    pValue: c.pValue,
    ci: interval(c.ciLower, c.ciUpper),
    confidence: c.confidence,
  };
}

/** The summaries of `metrics` into the table; its comparisons are returned, to be applied after the gates' own. */
export function readMetrics(metrics: StoredMetrics, t: Table): ReadComparison[] {
  readSummary(metrics, 'candidate', t);
  if (metrics.baseline) readSummary(metrics.baseline, 'baseline', t);
  return metrics.comparisons.filter((c) => c.metric !== '').map(readComparison);
}

/** Fills the table from comparisons (stored ones or the gates' own) where it holds nothing yet. */
export function applyComparisons(list: readonly Omit<ReadComparison, 'confidence'>[], t: Table): void {
  for (const c of list) {
    const m = t.get(c.segment, c.metric);
    fill(m, 'candidate', c.candidate);
    fill(m, 'baseline', c.baseline);
    fill(m, 'delta', c.delta);
    fill(m, 'pValue', c.pValue);
    fill(m, 'deltaCi', c.ci);
    fill(m, 'n', c.n);
  }
}

/** The stored gate outcomes (src/evaluate/apply-gates.ts GateOutcome, as recorded). */
export function readGates(gates: readonly StoredGate[]): GateResult[] {
  return gates.map((g, i) => {
    const metric = text(g.metric);
    const segment = segmentName(text(g.segment) ?? OVERALL);
    const c = g.comparison && g.comparison.metric !== '' ? readComparison(g.comparison) : null;
    return {
      name: text(g.name) ?? ([segment, metric, g.kind].filter(Boolean).join(' ') || `gate ${i + 1}`),
      segment,
      metric,
      kind: g.kind,
      status: g.status,
      candidate: c?.candidate ?? g.value,
      baseline: c?.baseline ?? null,
      delta: c?.delta ?? null,
      pValue: c?.pValue ?? null,
      ci: c?.ci ?? null,
      confidence: c?.ci ? c.confidence : null,
      n: c?.n ?? null,
      threshold: g.kind === 'min' ? g.min : g.max_drop,
      alpha: g.alpha,
      baselineKey: g.baseline === null ? null : text(g.baseline),
      passed: g.status !== 'failed',
      message: text(g.message),
    };
  });
}

/** Gates without a stored value take it from the table (e.g. the baseline's mean for an absolute gate). */
export function completeGates(gates: GateResult[], t: Table): void {
  for (const g of gates) {
    if (!g.metric) continue;
    const m = t.find(g.segment ?? OVERALL_LABEL, g.metric);
    if (!m) continue;
    if (g.candidate === null) g.candidate = m.candidate;
    if (g.baseline === null) g.baseline = m.baseline;
    if (g.delta === null && g.candidate !== null && g.baseline !== null) g.delta = g.candidate - g.baseline;
  }
}

export function readPerQuery(perQuery: readonly StoredQuery[]): QueryScores[] {
  return perQuery.map((e) => ({
    qid: e.id,
    segment: text(e.segment),
    candidate: numbers(e.values),
    baseline: e.baseline ? numbers(e.baseline) : null,
  }));
}
