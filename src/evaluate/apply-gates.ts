/**
 * Decide every gate of a gates file for a candidate evaluation.
 *
 * - `min` gates (absolute, incl. Judged@K coverage): pass when the
 *   candidate's mean value on the segment (or overall) is >= min.
 * - `max_drop` gates (relative to the baseline), decision rule:
 *     FAIL when the mean drop (baseline - candidate) exceeds max_drop
 *          AND a paired randomization test over queries finds the
 *          difference significant (two-sided p < alpha, default 0.05);
 *     PASS otherwise.
 *   So a gate fails only on a drop that is both larger than tolerated and
 *   unlikely to be noise. The bootstrap CI of the difference is reported
 *   alongside (it shows how large the true drop plausibly is) but does not
 *   decide. Without a baseline (no active version, or the candidate is the
 *   baseline) relative gates are skipped, not failed.
 */
import { DEFAULT_SEED } from '../stats/index.js';
import { label } from './measures.js';
import { compareMeasure, type Comparison } from './compare.js';
import type { Gate, GatesConfig } from './gates-file.js';
import { OVERALL, type VersionEvaluation } from './types.js';

export type GateStatus = 'passed' | 'failed' | 'skipped';

export interface GateOutcome {
  index: number;
  name: string;
  kind: Gate['kind'] | 'min_kappa';
  metric: string;
  /** Segment, or `all`. */
  segment: string;
  status: GateStatus;
  /** The candidate's value on the segment. */
  value: number;
  min?: number;
  maxDrop?: number;
  alpha?: number;
  baselineKey?: string;
  comparison?: Comparison;
  /** One line that says why. */
  message: string;
}

/** Tolerance so that a drop equal to max_drop up to rounding does not fail. */
const EPS = 1e-12;

export interface GateContext {
  /** The latest kappa of each judge whose labels reached a scored top K (null: never calibrated). */
  kappas?: Record<string, number | null>;
}

export function applyGates(
  candidate: VersionEvaluation,
  baseline: VersionEvaluation | null,
  config: GatesConfig,
  context: GateContext = {},
): GateOutcome[] {
  const outcomes = config.gates.map((g) =>
    g.kind === 'min_judged' ? decideJudged(g, candidate, baseline) : decide(g, candidate, baseline, config),
  );
  if (config.minKappa !== undefined) {
    Object.entries(context.kappas ?? {}).forEach(([judge, kappa], i) =>
      outcomes.push(kappaOutcome(config.gates.length + i, judge, kappa, config.minKappa!)),
    );
  }
  // A blind gate decides nothing: when too little is judged, the other gates are left undecided.
  const blind = outcomes.filter((o) => o.kind === 'min_judged' && o.status === 'failed');
  if (blind.length === 0) return outcomes;
  return outcomes.map((o) =>
    o.kind === 'min_judged' || o.kind === 'min_kappa'
      ? o
      : { ...o, status: 'skipped' as const, message: `not decided: ${blind[0]!.message}` },
  );
}

function decideJudged(g: Gate, candidate: VersionEvaluation, baseline: VersionEvaluation | null): GateOutcome {
  const segment = g.segment ?? OVERALL;
  const where = segment === OVERALL ? 'overall' : `segment ${segment}`;
  const k = g.metric.replace(/^judged_/, '');
  const versions = [candidate, ...(baseline && baseline.version?.id !== candidate.version?.id ? [baseline] : [])];
  const values = versions.map((e) => ({ key: e.version?.key ?? 'run', value: segmentValue(e, segment, g.metric) }));
  const base = { index: g.index, name: g.name, kind: g.kind, metric: g.metric, segment, min: g.min };
  const value = values[0]!.value ?? NaN;
  const low = values.filter((v) => v.value === undefined || v.value < g.min! - EPS);
  const shown = values.map((v) => `${v.key} ${v.value === undefined ? '?' : f4(v.value)}`).join(', ');
  if (low.length === 0)
    return { ...base, value, status: 'passed', message: `${where} Judged@${k} = ${shown} >= min ${g.min}` };
  return {
    ...base,
    value,
    status: 'failed',
    message: `${where} Judged@${k} = ${shown}, below min ${g.min}: too little of the top ${k} is judged to decide; judge the pool (embctl judge --version ${candidate.version?.key ?? '<key>'} --judge <spec>)`,
  };
}

function kappaOutcome(index: number, judge: string, kappa: number | null, min: number): GateOutcome {
  const base = {
    index,
    name: `judge kappa >= ${min}`,
    kind: 'min_kappa' as const,
    metric: 'kappa',
    segment: OVERALL,
    min,
  };
  if (kappa === null)
    return {
      ...base,
      value: NaN,
      status: 'failed',
      message: `judge ${judge} labels this run but was never calibrated: run embctl judge calibrate --judge <its spec> --judged <a human-labelled set>`,
    };
  const ok = kappa >= min - EPS;
  return {
    ...base,
    value: kappa,
    status: ok ? 'passed' : 'failed',
    message: `judge ${judge} kappa = ${f4(kappa)} ${ok ? '>=' : '<'} min_kappa ${min}${ok ? '' : ': do not trust its labels; calibrate a better judge, or leave it out (--judges)'}`,
  };
}

/** Passed: no gate failed AND at least one was checked (all skipped decides nothing). */
export function gatesPassed(outcomes: readonly GateOutcome[]): boolean {
  return outcomes.every((o) => o.status !== 'failed') && outcomes.some((o) => o.status !== 'skipped');
}

function segmentValue(e: VersionEvaluation, segment: string, metric: string): number | undefined {
  const s = segment === OVERALL ? e.overall : e.segments.find((x) => x.segment === segment);
  return s?.values[metric];
}

const f4 = (x: number) => x.toFixed(4);

function decide(
  g: Gate,
  candidate: VersionEvaluation,
  baseline: VersionEvaluation | null,
  config: GatesConfig,
): GateOutcome {
  const segment = g.segment ?? OVERALL;
  const value = segmentValue(candidate, segment, g.metric);
  const base = { index: g.index, name: g.name, kind: g.kind, metric: g.metric, segment, value: value ?? NaN };
  const m = label(g.metric);
  const where = segment === OVERALL ? 'overall' : `segment ${segment}`;
  if (value === undefined) {
    return { ...base, status: 'failed', message: `${m} was not computed for ${where}` };
  }
  if (g.kind === 'min') {
    const ok = value >= g.min! - EPS;
    return {
      ...base,
      min: g.min,
      status: ok ? 'passed' : 'failed',
      message: `${where} ${m} = ${f4(value)} ${ok ? '>=' : '<'} min ${g.min}`,
    };
  }
  const alpha = g.alpha ?? config.alpha;
  if (!baseline || baseline.version?.id === candidate.version?.id) {
    return {
      ...base,
      maxDrop: g.maxDrop,
      alpha,
      status: 'skipped',
      message: baseline
        ? 'the candidate is the baseline: nothing to compare'
        : 'no baseline version (no active version and no --baseline): relative gate skipped',
    };
  }
  const c = compareMeasure(candidate, baseline, g.metric, segment, {
    permutations: config.permutations,
    resamples: config.resamples,
    confidence: config.confidence,
    seed: config.seed ?? DEFAULT_SEED,
  })!;
  const drop = -c.delta;
  const tooLarge = drop > g.maxDrop! + EPS;
  const significant = c.pValue < alpha;
  const failed = tooLarge && significant;
  const ci = `${Math.round(c.confidence * 100)}% CI [${signed(c.ciLower)}, ${signed(c.ciUpper)}]`;
  const vs = `vs ${baseline.version?.key ?? 'baseline'}`;
  let message: string;
  if (failed)
    message = `${where} ${m} dropped ${f4(drop)} ${vs} (${f4(c.baseline)} -> ${f4(c.candidate)}), more than max_drop ${g.maxDrop}, significant (p = ${fp(c.pValue)} < ${alpha}); ${ci}`;
  else if (tooLarge)
    message = `${where} ${m} dropped ${f4(drop)} ${vs}, more than max_drop ${g.maxDrop} but not significant (p = ${fp(c.pValue)} >= ${alpha}); ${ci}`;
  else
    message = `${where} ${m} change ${signed(c.delta)} ${vs} (${f4(c.baseline)} -> ${f4(c.candidate)}) within max_drop ${g.maxDrop} (p = ${fp(c.pValue)}); ${ci}`;
  return {
    ...base,
    maxDrop: g.maxDrop,
    alpha,
    baselineKey: baseline.version?.key,
    comparison: c,
    status: failed ? 'failed' : 'passed',
    message,
  };
}

export function signed(x: number): string {
  return `${x >= 0 ? '+' : '-'}${Math.abs(x).toFixed(4)}`;
}

export function fp(p: number): string {
  return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}
