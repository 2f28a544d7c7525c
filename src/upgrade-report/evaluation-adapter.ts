/**
 * The only place that reads the JSON stored in `evaluation_runs`
 * (`metrics`, `gates`, `per_query`), in the shapes `recordEvaluation`
 * (src/evaluate/record.ts) writes. Tolerant by design: a missing field is
 * left out (null), a field that is there but has the wrong type is skipped
 * and listed in `skipped`, and nothing is ever thrown.
 *
 * Shapes read (measure values are keyed by alias: `nDCG@10`, `P@10`,
 * `R@100`, `MRR`, `MAP`, `hit@10`, `Judged@10`; the overall aggregate is
 * the segment `all`, shown here as `overall`):
 *
 *   metrics = {
 *     version, key_kind, ks, run_depth, short_queries, gates_source, timings_ms,
 *     overall:  { queries: 98, values: { "nDCG@10": 0.61, ... } },
 *     segments: { "<segment>": { queries: 25, values: {...} } },
 *     baseline: null | { version, overall: {...}, segments: {...} },
 *     comparisons: [{ segment: "all"|"<segment>", metric: "nDCG@10", n,
 *                     candidate, baseline, delta, pValue, ciLower, ciUpper, confidence }]
 *   }
 *
 *   gates = [{ index, name, kind: "min"|"max_drop", metric, segment: "all"|"<segment>",
 *              status: "passed"|"failed"|"skipped", value: number|null,
 *              min, max_drop, alpha, baseline: "<version key>"|null,
 *              comparison: <one comparison as above>|null, message }]
 *
 *   per_query = [{ id, segment, values: {...}, baseline?: {...}, top: [docno, ...] }]
 *
 * Stored numbers win over derived ones. What is not stored is derived from
 * per-query scores: the means, the normal-approximation interval of each
 * mean, and the paired bootstrap interval of the difference (src/eval/stats.ts)
 * for the segments the evaluation recorded no comparison for. When the run
 * holds no baseline scores, the baseline version's own run on the same
 * judged set (if any) supplies them, paired by query id.
 */
import { bootstrapConfidenceInterval } from '../stats/significance.js';
import { OVERALL, type GateStatus } from '../evaluate/index.js';
import type { GateResult, Interval, MetricComparison, SegmentEvaluation } from './types.js';

export interface RawEvaluationRun {
  metrics: unknown;
  gates: unknown;
  perQuery: unknown;
}

export interface AdaptedEvaluation {
  headlineMetric: string | null;
  metricNames: string[];
  segments: SegmentEvaluation[];
  gates: GateResult[];
  intervalNotes: string[];
  skipped: string[];
}

/** The overall aggregate in the report. */
export const OVERALL_LABEL = 'overall';
/** The overall aggregate as `evaluate` stores it (src/evaluate/types.ts OVERALL_LABEL). */
const STORED_OVERALL = 'all';
const BOOTSTRAP_RESAMPLES = 2000;
/** Upper bound on resamples x queries x series per run, to keep `report` fast on large sets. */
const BOOTSTRAP_BUDGET = 60_000_000;
const Z95 = 1.959964;

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const absent = (v: unknown): boolean => v === undefined || v === null;

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

const segmentName = (s: string): string => (s === STORED_OVERALL ? OVERALL_LABEL : s);

export function interval(lo: unknown, hi: unknown): Interval | null {
  const a = num(lo);
  const b = num(hi);
  if (a === null || b === null) return null;
  return a <= b ? { lo: a, hi: b } : { lo: b, hi: a };
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
  return { metric, candidate: null, baseline: null, delta: null, deltaCi: null, candidateCi: null, baselineCi: null, pValue: null, n: null };
}

/** Comparisons by segment and metric. */
class Table {
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
function fill<K extends keyof MetricComparison>(target: MetricComparison, field: K, value: MetricComparison[K] | null): void {
  if (target[field] === null && value !== null) target[field] = value;
}

type Side = 'candidate' | 'baseline';

/** `{ "nDCG@10": 0.61, ... }` -> the numbers; null values (NaN when stored) are missing, not errors. */
function readValues(values: unknown, where: string, skipped: string[]): Record<string, number> | null {
  if (absent(values)) return null;
  if (!isObj(values)) {
    skipped.push(`${where}: not an object`);
    return null;
  }
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === null) continue;
    const n = num(v);
    if (n === null) skipped.push(`${where}.${k}: not a number`);
    else out[k] = n;
  }
  return out;
}

/** `{ queries, values }` of one segment (or of `overall`). */
function readAggregate(agg: unknown, segment: string, side: Side, t: Table, skipped: string[], where: string): void {
  if (absent(agg)) return;
  if (!isObj(agg)) {
    skipped.push(`${where}: not an object`);
    return;
  }
  const values = readValues(agg.values, `${where}.values`, skipped);
  for (const [metric, v] of Object.entries(values ?? {})) fill(t.get(segment, metric), side, v);
  if (side === 'candidate') {
    const q = num(agg.queries);
    if (q !== null) t.queries.set(segment, q);
    else if (!absent(agg.queries)) skipped.push(`${where}.queries: not a number`);
  }
}

/** `{ overall, segments }`: the summary of one version. */
function readSummary(block: unknown, side: Side, t: Table, skipped: string[], where: string): void {
  if (absent(block)) return;
  if (!isObj(block)) {
    skipped.push(`${where}: not an object`);
    return;
  }
  readAggregate(block.overall, OVERALL_LABEL, side, t, skipped, `${where}.overall`);
  const segs = block.segments;
  if (isObj(segs)) {
    for (const [name, agg] of Object.entries(segs)) readAggregate(agg, segmentName(name), side, t, skipped, `${where}.segments.${name}`);
  } else if (!absent(segs)) {
    skipped.push(`${where}.segments: not an object`);
  }
}

interface StoredComparison {
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

/** One stored `Comparison` (src/evaluate/compare.ts); null when it names no metric. */
function readComparison(c: unknown): StoredComparison | null {
  if (!isObj(c)) return null;
  const metric = str(c.metric);
  if (!metric) return null;
  return {
    segment: segmentName(str(c.segment) ?? STORED_OVERALL),
    metric,
    n: num(c.n),
    candidate: num(c.candidate),
    baseline: num(c.baseline),
    delta: num(c.delta),
    pValue: num(c.pValue),
    ci: interval(c.ciLower, c.ciUpper),
    confidence: num(c.confidence),
  };
}

function applyComparison(c: StoredComparison, t: Table): void {
  const m = t.get(c.segment, c.metric);
  fill(m, 'candidate', c.candidate);
  fill(m, 'baseline', c.baseline);
  fill(m, 'delta', c.delta);
  fill(m, 'pValue', c.pValue);
  fill(m, 'deltaCi', c.ci);
  fill(m, 'n', c.n);
}

/** Reads `metrics` (the comparisons are returned, to be applied after the gates' own). */
function readMetrics(metrics: unknown, t: Table, skipped: string[]): StoredComparison[] {
  const out: StoredComparison[] = [];
  if (absent(metrics)) return out;
  if (!isObj(metrics)) {
    skipped.push('metrics: not an object');
    return out;
  }
  readSummary(metrics, 'candidate', t, skipped, 'metrics');
  readSummary(metrics.baseline, 'baseline', t, skipped, 'metrics.baseline');
  const list = metrics.comparisons;
  if (Array.isArray(list)) {
    list.forEach((x, i) => {
      const c = readComparison(x);
      if (!c) {
        skipped.push(`metrics.comparisons[${i}]: no metric`);
        return;
      }
      out.push(c);
    });
  } else if (!absent(list)) {
    skipped.push('metrics.comparisons: not a list');
  }
  return out;
}

const STATUSES: readonly GateStatus[] = ['passed', 'failed', 'skipped'];

/** The stored gate outcomes (src/evaluate/apply-gates.ts GateOutcome, as recorded). */
export function readGates(gates: unknown, skipped: string[]): GateResult[] {
  if (absent(gates)) return [];
  if (!Array.isArray(gates)) {
    skipped.push('gates: not a list');
    return [];
  }
  const out: GateResult[] = [];
  gates.forEach((g, i) => {
    if (!isObj(g)) {
      skipped.push(`gates[${i}]: not an object`);
      return;
    }
    const status = STATUSES.find((s) => s === g.status);
    if (!status) {
      skipped.push(`gates[${i}]: no status`);
      return;
    }
    const metric = str(g.metric);
    const segment = segmentName(str(g.segment) ?? STORED_OVERALL);
    const kind = str(g.kind);
    const c = readComparison(g.comparison);
    const candidate = c?.candidate ?? num(g.value);
    const threshold = kind === 'min' ? num(g.min) : kind === 'max_drop' ? num(g.max_drop) : num(g.min) ?? num(g.max_drop);
    out.push({
      name: str(g.name) ?? ([segment, metric, kind].filter(Boolean).join(' ') || `gate ${i + 1}`),
      segment,
      metric,
      kind,
      status,
      candidate,
      baseline: c?.baseline ?? null,
      delta: c?.delta ?? null,
      pValue: c?.pValue ?? null,
      ci: c?.ci ?? null,
      confidence: c?.ci ? c.confidence : null,
      n: c?.n ?? null,
      threshold,
      alpha: num(g.alpha),
      baselineKey: str(g.baseline),
      passed: status !== 'failed',
      message: str(g.message),
    });
  });
  return out;
}

/** Gate comparisons fill what `metrics` lacked; gates take the baseline's value from the table where they stored none. */
function applyGateOutcomes(gates: GateResult[], t: Table): void {
  for (const g of gates) {
    if (!g.metric) continue;
    const m = t.get(g.segment ?? OVERALL_LABEL, g.metric);
    fill(m, 'candidate', g.candidate);
    fill(m, 'baseline', g.baseline);
    fill(m, 'delta', g.delta);
    fill(m, 'pValue', g.pValue);
    fill(m, 'deltaCi', g.ci);
    fill(m, 'n', g.n);
  }
}

function completeGates(gates: GateResult[], t: Table): void {
  for (const g of gates) {
    if (!g.metric) continue;
    const m = t.find(g.segment ?? OVERALL_LABEL, g.metric);
    if (!m) continue;
    if (g.candidate === null) g.candidate = m.candidate;
    if (g.baseline === null) g.baseline = m.baseline;
    if (g.delta === null && g.candidate !== null && g.baseline !== null) g.delta = g.candidate - g.baseline;
  }
}

interface QueryScores {
  qid: string;
  segment: string | null;
  candidate: Record<string, number>;
  baseline: Record<string, number> | null;
}

function readPerQuery(perQuery: unknown, skipped: string[], where: string): QueryScores[] {
  if (absent(perQuery)) return [];
  if (!Array.isArray(perQuery)) {
    skipped.push(`${where}: not a list`);
    return [];
  }
  const out: QueryScores[] = [];
  let bad = 0;
  let badValues = 0;
  for (const e of perQuery) {
    const qid = isObj(e) ? str(e.id) : null;
    if (!isObj(e) || !qid || !isObj(e.values)) {
      bad++;
      continue;
    }
    const local: string[] = [];
    const candidate = readValues(e.values, 'values', local)!;
    const baseline = readValues(e.baseline, 'baseline', local);
    if (local.length) badValues++;
    out.push({ qid, segment: str(e.segment), candidate, baseline });
  }
  if (bad) skipped.push(`${where}: ${bad} entr${bad === 1 ? 'y' : 'ies'} without an id or values`);
  if (badValues) skipped.push(`${where}: ${badValues} entr${badValues === 1 ? 'y' : 'ies'} with values that are not numbers`);
  return out;
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

/** Derives from per-query scores what the stored numbers lack; returns the segments whose difference interval it computed. */
function applyPerQuery(queries: QueryScores[], t: Table, notes: Set<string>): Set<string> {
  const derived = new Set<string>();
  if (queries.length === 0) return derived;
  const bySegment = new Map<string, QueryScores[]>([[OVERALL_LABEL, queries]]);
  for (const q of queries) {
    if (q.segment === null) continue;
    const s = segmentName(q.segment);
    if (s === OVERALL_LABEL) continue;
    let list = bySegment.get(s);
    if (!list) bySegment.set(s, (list = []));
    list.push(q);
  }
  const metrics = t.metrics.size ? t.metricOrder() : Object.keys(queries[0]!.candidate).sort(compareMeasures);
  const pairedWork = [...bySegment.values()].reduce((a, l) => a + l.length, 0) * metrics.length;
  const resamples = Math.max(200, Math.min(BOOTSTRAP_RESAMPLES, Math.floor(BOOTSTRAP_BUDGET / Math.max(1, pairedWork))));
  for (const [segment, list] of bySegment) {
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
        notes.add('Whiskers on bars: 95% confidence interval of each mean (normal approximation, mean ± 1.96·s/√n over per-query scores).');
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
          derived.add(segment);
          notes.add(`PAIRED:${resamples}`);
        } catch {
          // non-finite scores: leave the interval out
        }
      }
    }
  }
  return derived;
}

/** Pairs per-query entries that have no baseline with the baseline run's entries, by query id. */
function attachBaseline(queries: QueryScores[], baselineQueries: QueryScores[]): number {
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

function pickHeadline(metricNames: string[], gates: GateResult[]): string | null {
  const ndcg = metricNames.find((m) => /^ndcg(@|_cut_)10$/i.test(m)) ?? metricNames.find((m) => /^ndcg/i.test(m));
  return ndcg ?? gates.find((g) => g.metric && metricNames.includes(g.metric))?.metric ?? metricNames[0] ?? null;
}

const pct = (c: number) => `${Math.round(c * 100)}%`;

export function adaptEvaluation(run: RawEvaluationRun, baselineRun?: RawEvaluationRun | null): AdaptedEvaluation {
  const skipped: string[] = [];
  const notes = new Set<string>();
  const t = new Table();
  const comparisons = readMetrics(run.metrics, t, skipped);
  const gates = readGates(run.gates, skipped);
  // The gates' comparisons decided (and use the gates file's, usually larger, resampling): they win
  // over the informational table's for the same segment and measure, so both places show one interval.
  applyGateOutcomes(gates, t);
  for (const c of comparisons) applyComparison(c, t);
  const recordedSegments = new Set<string>();
  const levels = new Set<number>();
  for (const c of [...comparisons, ...gates.filter((g) => g.metric).map((g) => ({ ...g, segment: g.segment ?? OVERALL_LABEL }))]) {
    if (c.ci) {
      recordedSegments.add(c.segment);
      levels.add(c.confidence ?? 0.95);
    }
  }

  const queries = readPerQuery(run.perQuery, skipped, 'per_query');
  if (baselineRun) {
    // The baseline version's own run: its means are baseline values, its per-query scores pair by id.
    const bt = new Table();
    for (const c of readMetrics(baselineRun.metrics, bt, [])) applyComparison(c, bt);
    for (const [segment, map] of bt.segments) {
      for (const [metric, c] of map) if (c.candidate !== null) fill(t.get(segment, metric), 'baseline', c.candidate);
    }
    attachBaseline(queries, readPerQuery(baselineRun.perQuery, [], 'baseline per_query'));
  }
  const derived = applyPerQuery(queries, t, notes);

  for (const [segment, map] of t.segments) {
    for (const c of map.values()) {
      if (c.delta === null && c.candidate !== null && c.baseline !== null) c.delta = c.candidate - c.baseline;
      if (c.n === null) c.n = t.queries.get(segment) ?? null;
    }
  }
  completeGates(gates, t);

  // A single segment holding every query (e.g. `(none)`) repeats the overall row: leave it out.
  const named = [...t.segments.keys()].filter((s) => s !== OVERALL_LABEL);
  if (named.length === 1 && t.segments.has(OVERALL_LABEL) && t.queries.get(named[0]!) === t.queries.get(OVERALL_LABEL)
    && !gates.some((g) => g.segment === named[0])) {
    t.segments.delete(named[0]!);
  }

  const intervalNotes: string[] = [];
  if (recordedSegments.size) {
    const where = [...recordedSegments].map((s) => (s === OVERALL_LABEL ? 'overall' : s)).join(', ');
    const level = levels.size === 1 ? `${pct([...levels][0]!)} ` : '';
    intervalNotes.push(`Difference intervals for ${where}: ${level}paired bootstrap confidence intervals and paired randomization p-values recorded by embctl evaluate.`);
  }
  const paired = [...notes].find((n) => n.startsWith('PAIRED:'));
  const derivedOnly = [...derived].filter((s) => !recordedSegments.has(s));
  if (paired && derivedOnly.length) {
    const resamples = Number(paired.slice('PAIRED:'.length));
    const named = [...t.segments.keys()].filter((s) => s !== OVERALL_LABEL && !recordedSegments.has(s));
    const where = !recordedSegments.size ? 'every segment'
      : derivedOnly.length === named.length && !derivedOnly.includes(OVERALL_LABEL) ? 'each segment'
        : `${derivedOnly.length === 1 ? 'segment' : 'segments'} ${derivedOnly.sort().join(', ')}`;
    intervalNotes.push(`Difference intervals for ${where}: 95% paired bootstrap percentile interval computed by this report from the stored per-query scores (${resamples.toLocaleString('en-US')} resamples, seeded).`);
  }
  for (const n of notes) if (!n.startsWith('PAIRED:')) intervalNotes.push(n);

  const names = [...t.segments.keys()].sort((a, b) => (a === OVERALL_LABEL ? -1 : b === OVERALL_LABEL ? 1 : a.localeCompare(b)));
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
    intervalNotes,
    skipped,
  };
}
