/**
 * The labels a stored run was scored with (`metrics.labels`, written by
 * src/evaluate/record.ts): Judged@K before and after the pooled judgments
 * per version and segment, the top K's share per label source, and each
 * judge's κ. Runs recorded before judgments existed have none (null).
 */
import type { StoredMetrics } from '../../evaluate/index.js';
import { HUMAN_SOURCE, SET_SOURCE } from '../../judgments/index.js';
import type { EvaluationLabels, LabelSourceKind, SourceShare, VersionCoverage } from '../types.js';
import { segmentName } from './table.js';

/** The source of the top K slots no label covered (src/evaluate/labels.ts UNJUDGED). */
export const UNJUDGED_SOURCE = 'unjudged';

type StoredLabels = NonNullable<StoredMetrics['labels']>;
type StoredCoverage = StoredLabels['coverage']['candidate'];

export function sourceKind(source: string): LabelSourceKind {
  if (source === SET_SOURCE) return 'judged-set';
  if (source === HUMAN_SOURCE) return 'human';
  if (source === UNJUDGED_SOURCE) return 'unjudged';
  return 'judge';
}

const KIND_ORDER: Record<LabelSourceKind, number> = { 'judged-set': 0, human: 1, judge: 2, unjudged: 3 };

/** Judged set, human, judges by share (then name), unjudged last. */
function orderSources(sources: Record<string, number>): SourceShare[] {
  return Object.entries(sources)
    .map(([source, share]): SourceShare => ({ source, kind: sourceKind(source), share }))
    .sort(
      (a, b) =>
        KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
        b.share - a.share ||
        (a.source < b.source ? -1 : a.source > b.source ? 1 : 0),
    );
}

function readCoverage(c: StoredCoverage): VersionCoverage {
  return {
    k: c.k,
    before: c.before,
    after: c.after,
    segments: c.segments.map((s) => ({ segment: segmentName(s.segment), before: s.before, after: s.after })),
    sources: orderSources(c.sources),
  };
}

/** The run's labels in the report's terms; calibrations are left null (the loader reads them). */
export function readLabels(metrics: StoredMetrics): EvaluationLabels | null {
  const l = metrics.labels;
  if (!l) return null;
  const candidate = readCoverage(l.coverage.candidate);
  const baseline = l.coverage.baseline ? readCoverage(l.coverage.baseline) : null;
  const judges = new Set<string>(Object.keys(l.kappas));
  for (const c of [candidate, baseline])
    for (const s of c?.sources ?? []) if (s.kind === 'judge' && s.share > 0) judges.add(s.source);
  for (const [source, n] of Object.entries(l.counts)) if (sourceKind(source) === 'judge' && n > 0) judges.add(source);
  return {
    allowedJudges: l.judges,
    judgedOnly: l.judged_only,
    counts: l.counts,
    candidate,
    baseline,
    judges: [...judges].sort().map((judge) => ({
      judge,
      labels: l.counts[judge] ?? null,
      kappa: l.kappas[judge] ?? null,
      calibration: null,
    })),
  };
}
