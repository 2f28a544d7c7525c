/**
 * The evaluation section of the report from a stored run (parsed by
 * src/evaluate/stored-run.ts): the recorded numbers first (the gates'
 * comparisons, then the run's), then what per-query scores can add, then the
 * notes that say where each interval came from.
 */
import type { StoredRun } from '../../evaluate/index.js';
import type { EvaluationLabels, GateResult, SegmentEvaluation } from '../types.js';
import { attachBaseline, deriveIntervals } from './intervals.js';
import { readLabels } from './labels.js';
import { intervalNotes, type RecordedIntervals } from './notes.js';
import { applyComparisons, completeGates, readGates, readMetrics, readPerQuery } from './read.js';
import { fill, OVERALL_LABEL, Table } from './table.js';

export interface AdaptedEvaluation {
  headlineMetric: string | null;
  metricNames: string[];
  segments: SegmentEvaluation[];
  gates: GateResult[];
  intervalNotes: string[];
  /** Kept for the model's shape; always empty since the stored run is parsed before (an unreadable run is an error). */
  skipped: string[];
  /** Judged coverage and label sources; null for runs recorded before pooled judgments. */
  labels: EvaluationLabels | null;
}

/** The stored JSON of a run, as `adaptEvaluation` reads it. */
export type AdaptableRun = Pick<StoredRun, 'metrics' | 'perQuery' | 'gates'>;

function pickHeadline(metricNames: string[], gates: GateResult[]): string | null {
  const ndcg = metricNames.find((m) => /^ndcg(@|_cut_)10$/i.test(m)) ?? metricNames.find((m) => /^ndcg/i.test(m));
  return ndcg ?? gates.find((g) => g.metric && metricNames.includes(g.metric))?.metric ?? metricNames[0] ?? null;
}

/** The baseline version's own run: its means are baseline values (where the run stored none). */
function applyBaselineRun(baselineRun: AdaptableRun, t: Table): void {
  const bt = new Table();
  applyComparisons(readMetrics(baselineRun.metrics, bt), bt);
  for (const [segment, map] of bt.segments) {
    for (const [metric, c] of map) if (c.candidate !== null) fill(t.get(segment, metric), 'baseline', c.candidate);
  }
}

export function adaptEvaluation(run: AdaptableRun, baselineRun?: AdaptableRun | null): AdaptedEvaluation {
  const t = new Table();
  const comparisons = readMetrics(run.metrics, t);
  const gates = readGates(run.gates);
  // The gates' comparisons decided (and use the gates file's, usually larger, resampling): they win
  // over the informational table's for the same segment and measure, so both places show one interval.
  const gateComparisons = gates.flatMap((g) =>
    g.metric ? [{ ...g, metric: g.metric, segment: g.segment ?? OVERALL_LABEL }] : [],
  );
  applyComparisons(gateComparisons, t);
  applyComparisons(comparisons, t);
  const recorded: RecordedIntervals = { segments: new Set(), levels: new Set() };
  for (const c of [...comparisons, ...gateComparisons]) {
    if (c.ci) {
      recorded.segments.add(c.segment);
      recorded.levels.add(c.confidence ?? 0.95);
    }
  }

  const queries = readPerQuery(run.perQuery);
  if (baselineRun) {
    applyBaselineRun(baselineRun, t);
    attachBaseline(queries, readPerQuery(baselineRun.perQuery));
  }
  const derived = deriveIntervals(queries, t);

  for (const [segment, map] of t.segments) {
    for (const c of map.values()) {
      if (c.delta === null && c.candidate !== null && c.baseline !== null) c.delta = c.candidate - c.baseline;
      if (c.n === null) c.n = t.queries.get(segment) ?? null;
    }
  }
  completeGates(gates, t);

  // A single segment holding every query (e.g. `(none)`) repeats the overall row: leave it out.
  const named = [...t.segments.keys()].filter((s) => s !== OVERALL_LABEL);
  if (
    named.length === 1 &&
    t.segments.has(OVERALL_LABEL) &&
    t.queries.get(named[0]!) === t.queries.get(OVERALL_LABEL) &&
    !gates.some((g) => g.segment === named[0])
  ) {
    t.segments.delete(named[0]!);
  }

  const names = [...t.segments.keys()].sort((a, b) =>
    a === OVERALL_LABEL ? -1 : b === OVERALL_LABEL ? 1 : a.localeCompare(b),
  );
  const metricOrder = t.metricOrder();
  const segments: SegmentEvaluation[] = names.map((segment) => {
    const map = t.segments.get(segment)!;
    return {
      segment,
      queries: t.queries.get(segment) ?? null,
      metrics: metricOrder.filter((m) => map.has(m)).map((m) => map.get(m)!),
    };
  });
  return {
    headlineMetric: pickHeadline(metricOrder, gates),
    metricNames: metricOrder,
    segments,
    gates,
    intervalNotes: intervalNotes(recorded, derived, [...t.segments.keys()]),
    skipped: [],
    labels: readLabels(run.metrics),
  };
}
