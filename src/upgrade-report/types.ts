/**
 * The report's own input model. Everything the HTML report shows comes from
 * a `ReportModel`; only `load.ts`/`queries.ts` know the tables, and only
 * `evaluation/` reads the JSON stored in `evaluation_runs` (parsed by src/evaluate/stored-run.ts).
 * Dates are ISO-8601 strings so that the model is plain JSON (`--json`).
 */

/** Bump when the model changes shape in a way `--json` consumers would notice. */
export const REPORT_MODEL_VERSION = 2;

export interface ReportVersion {
  id: number;
  key: string;
  encoderSpec: string;
  encoderName: string;
  encoderRevision: string;
  dimensions: number;
  metric: string;
  indexKind: string;
  indexStorage: string;
  state: string;
  active: boolean;
  createdAt: string;
  retiredAt: string | null;
}

export interface ReportEvent {
  id: number;
  versionKey: string;
  event: string;
  actor: string;
  reason: string | null;
  forced: boolean;
  /** Audit details, with values under secret-looking keys redacted. */
  details: Record<string, unknown>;
  at: string;
}

/** A closed interval [lo, hi]. */
export interface Interval {
  lo: number;
  hi: number;
}

/** One metric of one segment: candidate against baseline. */
export interface MetricComparison {
  metric: string;
  candidate: number | null;
  baseline: number | null;
  /** candidate - baseline. */
  delta: number | null;
  /** 95% confidence interval of the paired difference (candidate - baseline). */
  deltaCi: Interval | null;
  /** 95% confidence interval of the candidate's mean. */
  candidateCi: Interval | null;
  /** 95% confidence interval of the baseline's mean. */
  baselineCi: Interval | null;
  pValue: number | null;
  /** Queries the values are averaged over. */
  n: number | null;
}

export interface SegmentEvaluation {
  /** `overall` for all queries, else the segment's name. */
  segment: string;
  queries: number | null;
  metrics: MetricComparison[];
}

import type { GateStatus } from '../evaluate/index.js';

/** One gate outcome as `embctl evaluate` recorded it. */
export interface GateResult {
  name: string;
  /** `overall`, or the segment's name. */
  segment: string | null;
  /** Measure alias, e.g. `nDCG@10`. */
  metric: string | null;
  /** `min` (absolute) or `max_drop` (relative to the baseline). */
  kind: string | null;
  status: GateStatus;
  /** The candidate's mean on the segment. */
  candidate: number | null;
  /** The baseline's mean on the segment (from the gate's comparison, else from the run's baseline scores). */
  baseline: number | null;
  /** candidate - baseline. */
  delta: number | null;
  /** Paired randomization test p-value (relative gates). */
  pValue: number | null;
  /** Bootstrap confidence interval of the difference (relative gates). */
  ci: Interval | null;
  /** Confidence level of `ci` (e.g. 0.95). */
  confidence: number | null;
  /** Paired queries the comparison used. */
  n: number | null;
  /** `min` for a `min` gate, `max_drop` for a `max_drop` gate. */
  threshold: number | null;
  /** Significance level of a relative gate. */
  alpha: number | null;
  /** The version the gate compared against. */
  baselineKey: string | null;
  /** False only when the gate failed (a skipped gate does not block). */
  passed: boolean;
  message: string | null;
}

export interface EvaluationSection {
  runId: number;
  judgedSet: string;
  judgedSetSha256: string;
  createdAt: string;
  actor: string;
  gated: boolean;
  passed: boolean | null;
  candidateKey: string;
  baselineKey: string | null;
  /** The metric the charts show (nDCG@10 when present). */
  headlineMetric: string | null;
  metricNames: string[];
  /** `overall` first, then segments by name. */
  segments: SegmentEvaluation[];
  gates: GateResult[];
  /** How the confidence intervals were obtained, one line each (shown in the legend). */
  intervalNotes: string[];
  /** Stored values the report could not read: always empty now that a stored run is parsed first (kept for the model's JSON shape). */
  skipped: string[];
  /** Which labels scored the run; null for runs recorded before pooled judgments existed. */
  labels: EvaluationLabels | null;
}

/** Where a label of the top K came from. */
export type LabelSourceKind = 'judged-set' | 'human' | 'judge' | 'unjudged';

export interface SourceShare {
  /** `judged-set`, `human`, a judge id, or `unjudged`. */
  source: string;
  kind: LabelSourceKind;
  /** Share of the version's top K slots (over all queries), 0..1. */
  share: number;
}

/** Judged@K of one version from the judged set alone (`before`) and with the pooled judgments (`after`). */
export interface VersionCoverage {
  k: number;
  before: number;
  after: number;
  /** Per segment, by name (`(none)` for queries without one). */
  segments: { segment: string; before: number; after: number }[];
  /** judged set, human, judges (largest share first), unjudged last. */
  sources: SourceShare[];
}

/** A judge's latest row of judge_calibrations. */
export interface JudgeCalibration {
  kappa: number;
  accuracy: number;
  kendallTau: number | null;
  pairs: number;
  judgedSet: string;
  createdAt: string;
}

export interface JudgeTrust {
  judge: string;
  /** Labels the judge gave to the judged set's queries in this run. */
  labels: number | null;
  /** The κ the run recorded for the judge (null: not calibrated then). */
  kappa: number | null;
  /** Filled by the loader from judge_calibrations; null when never calibrated. */
  calibration: JudgeCalibration | null;
}

export interface EvaluationLabels {
  /** The judges allowed (`--judges` or the gates file); null: every judge. */
  allowedJudges: string[] | null;
  /** Measures were computed over judged documents only (`--judged-only`, trec_eval -J). */
  judgedOnly: boolean;
  /** Labels each source gave to the judged set's queries. */
  counts: Record<string, number>;
  candidate: VersionCoverage;
  baseline: VersionCoverage | null;
  judges: JudgeTrust[];
}

export interface EvaluationRunSummary {
  runId: number;
  candidateKey: string;
  baselineKey: string | null;
  judgedSet: string;
  gated: boolean;
  passed: boolean | null;
  createdAt: string;
  actor: string;
}

export interface HistogramBin {
  lo: number;
  hi: number;
  /** Axis label for discrete bins (e.g. `7/10` for overlap@10); else the bin is [lo, hi). */
  label?: string;
  count: number;
}

export interface Distribution {
  bins: HistogramBin[];
  total: number;
  mean: number | null;
  p10: number | null;
  p50: number | null;
}

export interface SeriesPoint {
  /** Start of the time bucket. */
  at: string;
  queries: number;
  meanOverlap: number;
  meanRbo: number;
}

export interface LatencyStats {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
}

export interface ShadowSegment {
  segment: string;
  queries: number;
  meanOverlap: number;
  meanRbo: number;
}

export interface ShadowSection {
  candidateKey: string;
  primaryKeys: string[];
  queries: number;
  /** Shadow queries the serving processes dropped (queue full, shutdown) or that failed on the candidate. */
  dropped: number;
  failed: number;
  /** The K of overlap@K (the most common one when several were used). */
  k: number | null;
  firstAt: string | null;
  lastAt: string | null;
  overlap: Distribution;
  rbo: Distribution;
  bucketSeconds: number;
  series: SeriesPoint[];
  latency: { primary: LatencyStats; candidate: LatencyStats } | null;
  segments: ShadowSegment[];
}

export interface BackfillSection {
  versionKey: string;
  runs: number;
  completedRuns: number;
  failedRuns: number;
  running: boolean;
  lastStatus: string;
  embedded: number;
  reused: number;
  tokens: number;
  costUsd: number;
  encoderRequests: number;
  rateLimited: number;
  startedAt: string | null;
  finishedAt: string | null;
  /** First start to last finish (null while nothing finished). */
  wallSeconds: number | null;
  /** Sum over runs of finish - start. */
  workerSeconds: number;
}

/** One version on the size / quality / latency chart. */
export interface TradeoffPoint {
  versionKey: string;
  /** The parent of a derived version (issue 16), else null. */
  derivedFrom: string | null;
  /** A derived version's transform in words (e.g. `bit(1536), re-rank 100`), else null. */
  transform: string | null;
  /** What the version's own partition holds (partitions/storageFigures); null without a partition. */
  storage: { vectors: number; bytesPerVector: number; heapBytes: number; indexBytes: number } | null;
  /** nDCG@10 overall from the version's latest run on the report's judged set (as candidate or baseline). */
  ndcg10: number | null;
  /** The evaluation run those figures come from, and whether the version was its baseline. */
  runId: number | null;
  asBaseline: boolean;
  /** Per-query search time recorded by that run; null for runs recorded before it was kept. */
  latency: { p50: number; queries: number; concurrency: number } | null;
}

export interface TradeoffSection {
  /** The judged set every nDCG@10 is read on: the report's evaluation's; null when there is none. */
  judgedSet: string | null;
  /** Every version that is not retired, in registration order. */
  points: TradeoffPoint[];
}

export type VerdictStatus = 'pass' | 'fail' | 'active' | 'pending' | 'empty';

export interface Verdict {
  status: VerdictStatus;
  headline: string;
  details: string[];
}

export interface ReportModel {
  modelVersion: number;
  generatedAt: string;
  /** Where the data came from, safe to print (no password). */
  database: string;
  candidate: ReportVersion | null;
  baseline: ReportVersion | null;
  activeKey: string | null;
  versions: ReportVersion[];
  /** The audit trail of the versions in the report, oldest first. */
  events: ReportEvent[];
  evaluation: EvaluationSection | null;
  evaluationHistory: EvaluationRunSummary[];
  shadow: ShadowSection | null;
  backfill: BackfillSection[];
  /** Every live version's size, nDCG@10 and p50 search time, side by side. */
  tradeoff: TradeoffSection;
  verdict: Verdict;
}
