/**
 * The only place that reads the JSON stored in `evaluation_runs`
 * (`metrics`, `gates`, `per_query`). Tolerant by design: anything it cannot
 * read is skipped and listed in `skipped`, never thrown.
 *
 * Shapes understood (every field optional):
 *
 *   metrics = {
 *     overall:  { "nDCG@10": 0.61, ... },            // candidate means
 *     segments: { "<segment>": { "nDCG@10": 0.58, ... } },
 *     baseline?: { overall: {...}, segments: {...} }, // baseline means
 *     queries?: 120, segmentQueries?: { "<segment>": 40 }
 *   }
 *   - `metrics.candidate = { overall, segments }` is read like the top level;
 *   - `segments` may also be an array of `{ segment|name, metrics|values }`;
 *   - a metric value may be a number (the candidate's mean) or an object
 *     `{ candidate|value|mean, baseline, delta, ci|deltaCi: [lo, hi],
 *        candidateCi, baselineCi, pValue, n }`;
 *   - `num_q` is the number of queries; other `num_*` counts are ignored.
 *
 *   gates = [{ name, segment?, metric, kind: "absolute"|"relative"|"judged",
 *              candidate, baseline?, delta?, pValue?, ci?: [lo, hi],
 *              threshold, passed, message }]       (or { gates: [...] })
 *   - `ci` is the interval of the difference, except for `absolute` gates
 *     where it is the interval of the candidate's mean.
 *
 *   per_query = [{ qid|queryId|query_id|id, segment?|segments?: [...],
 *                  candidate|metrics|values|scores: { "nDCG@10": 0.7 },
 *                  baseline?: { "nDCG@10": 0.5 } }]
 *   - when entries carry no baseline, the baseline version's own run on the
 *     same judged set (if any) is aligned by query id.
 *
 * Intervals missing from the stored numbers are computed from per-query
 * scores: the paired bootstrap of src/eval/stats.ts for the difference, the
 * normal approximation for each mean.
 */
import { bootstrapConfidenceInterval } from '../eval/stats.js';
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

export const OVERALL = 'overall';
const BOOTSTRAP_RESAMPLES = 2000;
/** Upper bound on resamples x queries x series per run, to keep `report` fast on large sets. */
const BOOTSTRAP_BUDGET = 60_000_000;
const Z95 = 1.959964;

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function num(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

function str(v: unknown): string | null {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

export function interval(v: unknown): Interval | null {
  let lo: number | null = null;
  let hi: number | null = null;
  if (Array.isArray(v) && v.length === 2) {
    lo = num(v[0]);
    hi = num(v[1]);
  } else if (isObj(v)) {
    lo = num(v.lo ?? v.lower ?? v.low ?? v.min);
    hi = num(v.hi ?? v.upper ?? v.high ?? v.max);
  }
  if (lo === null || hi === null) return null;
  return lo <= hi ? { lo, hi } : { lo: hi, hi: lo };
}

function emptyComparison(metric: string): MetricComparison {
  return { metric, candidate: null, baseline: null, delta: null, deltaCi: null, candidateCi: null, baselineCi: null, pValue: null, n: null };
}

/** Collects comparisons by segment and metric, in first-seen order. */
class Table {
  readonly segments = new Map<string, Map<string, MetricComparison>>();
  readonly queries = new Map<string, number>();
  readonly metricOrder: string[] = [];

  get(segment: string, metric: string): MetricComparison {
    let s = this.segments.get(segment);
    if (!s) this.segments.set(segment, (s = new Map()));
    let c = s.get(metric);
    if (!c) {
      s.set(metric, (c = emptyComparison(metric)));
      if (!this.metricOrder.includes(metric)) this.metricOrder.push(metric);
    }
    return c;
  }
}

/** Sets `target[field]` only where nothing was read before (stored numbers win over derived ones). */
function fill<K extends keyof MetricComparison>(target: MetricComparison, field: K, value: MetricComparison[K] | null): void {
  if (target[field] === null && value !== null) target[field] = value;
}

type Side = 'candidate' | 'baseline';

function readMetricMap(map: unknown, segment: string, side: Side, t: Table, skipped: string[], where: string): void {
  if (!isObj(map)) {
    if (map !== undefined) skipped.push(`${where}: not an object`);
    return;
  }
  for (const [metric, value] of Object.entries(map)) {
    if (metric === 'num_q' || metric === 'queries') {
      const n = num(value);
      if (n !== null && side === 'candidate') t.queries.set(segment, n);
      continue;
    }
    if (metric.startsWith('num_')) continue;
    const n = num(value);
    if (n !== null) {
      fill(t.get(segment, metric), side, n);
    } else if (isObj(value) && side === 'candidate') {
      const c = t.get(segment, metric);
      fill(c, 'candidate', num(value.candidate ?? value.value ?? value.mean));
      fill(c, 'baseline', num(value.baseline));
      fill(c, 'delta', num(value.delta ?? value.difference));
      fill(c, 'deltaCi', interval(value.ci ?? value.deltaCi ?? value.delta_ci));
      fill(c, 'candidateCi', interval(value.candidateCi ?? value.candidate_ci));
      fill(c, 'baselineCi', interval(value.baselineCi ?? value.baseline_ci));
      fill(c, 'pValue', num(value.pValue ?? value.p_value ?? value.p));
      fill(c, 'n', num(value.n));
    } else {
      skipped.push(`${where}.${metric}: not a number`);
    }
  }
}

function readBlock(block: unknown, side: Side, t: Table, skipped: string[], where: string): void {
  if (!isObj(block)) return;
  readMetricMap(block.overall ?? block.all, OVERALL, side, t, skipped, `${where}.overall`);
  const segs = block.segments;
  if (isObj(segs)) {
    for (const [name, map] of Object.entries(segs)) readMetricMap(map, name, side, t, skipped, `${where}.segments.${name}`);
  } else if (Array.isArray(segs)) {
    segs.forEach((s, i) => {
      const name = isObj(s) ? str(s.segment ?? s.name) : null;
      if (!name || !isObj(s)) {
        skipped.push(`${where}.segments[${i}]: no segment name`);
        return;
      }
      readMetricMap(s.metrics ?? s.values, name, side, t, skipped, `${where}.segments.${name}`);
      const q = num(s.queries ?? s.n);
      if (q !== null && side === 'candidate') t.queries.set(name, q);
    });
  } else if (segs !== undefined) {
    skipped.push(`${where}.segments: not an object`);
  }
  if (side === 'candidate') {
    const q = num(block.queries ?? block.num_q);
    if (q !== null) t.queries.set(OVERALL, q);
    if (isObj(block.segmentQueries)) {
      for (const [name, v] of Object.entries(block.segmentQueries)) {
        const n = num(v);
        if (n !== null) t.queries.set(name, n);
      }
    }
  }
}

function readMetrics(metrics: unknown, t: Table, skipped: string[]): void {
  if (!isObj(metrics)) {
    skipped.push('metrics: not an object');
    return;
  }
  readBlock(isObj(metrics.candidate) ? metrics.candidate : metrics, 'candidate', t, skipped, 'metrics');
  readBlock(metrics.baseline, 'baseline', t, skipped, 'metrics.baseline');
}

export function readGates(gates: unknown, skipped: string[]): GateResult[] {
  const list = Array.isArray(gates) ? gates : isObj(gates) && Array.isArray(gates.gates) ? gates.gates : null;
  if (!list) {
    if (gates !== undefined && gates !== null) skipped.push('gates: not a list');
    return [];
  }
  const out: GateResult[] = [];
  list.forEach((g, i) => {
    if (!isObj(g)) {
      skipped.push(`gates[${i}]: not an object`);
      return;
    }
    const passed = typeof g.passed === 'boolean' ? g.passed
      : g.status === 'passed' || g.status === 'pass' ? true
        : g.status === 'failed' || g.status === 'fail' ? false : null;
    if (passed === null) {
      skipped.push(`gates[${i}]: no passed flag`);
      return;
    }
    const metric = str(g.metric);
    const segment = str(g.segment);
    out.push({
      name: str(g.name) ?? ([segment, metric, str(g.kind)].filter(Boolean).join(' ') || `gate ${i + 1}`),
      segment,
      metric,
      kind: str(g.kind),
      candidate: num(g.candidate),
      baseline: num(g.baseline),
      delta: num(g.delta),
      pValue: num(g.pValue ?? g.p_value),
      ci: interval(g.ci),
      threshold: num(g.threshold ?? g.min ?? g.max),
      passed,
      message: str(g.message),
    });
  });
  return out;
}

function applyGates(gates: GateResult[], t: Table): void {
  for (const g of gates) {
    if (!g.metric || g.kind === 'judged') continue;
    const c = t.get(g.segment ?? OVERALL, g.metric);
    fill(c, 'candidate', g.candidate);
    fill(c, 'baseline', g.baseline);
    fill(c, 'delta', g.delta);
    fill(c, 'pValue', g.pValue);
    if (g.kind === 'absolute') fill(c, 'candidateCi', g.ci);
    else fill(c, 'deltaCi', g.ci);
  }
}

interface QueryScores {
  qid: string;
  segments: string[];
  candidate: Record<string, number>;
  baseline: Record<string, number> | null;
}

function numericMap(v: unknown): Record<string, number> | null {
  if (!isObj(v)) return null;
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(v)) {
    const n = num(x);
    if (n !== null && !k.startsWith('num_')) out[k] = n;
  }
  return Object.keys(out).length ? out : null;
}

const QUERY_META = new Set(['qid', 'queryId', 'query_id', 'id', 'segment', 'segments', 'query', 'text', 'baseline']);

function readPerQuery(perQuery: unknown, skipped: string[], where: string): QueryScores[] {
  if (!Array.isArray(perQuery)) {
    if (perQuery !== undefined && perQuery !== null && !(isObj(perQuery) && Object.keys(perQuery).length === 0)) {
      skipped.push(`${where}: not a list`);
    }
    return [];
  }
  const out: QueryScores[] = [];
  let bad = 0;
  for (const e of perQuery) {
    if (!isObj(e)) {
      bad++;
      continue;
    }
    const qid = str(e.qid ?? e.queryId ?? e.query_id ?? e.id);
    let candidate = numericMap(e.candidate ?? e.metrics ?? e.values ?? e.scores);
    if (!candidate) {
      const flat: Obj = {};
      for (const [k, v] of Object.entries(e)) if (!QUERY_META.has(k)) flat[k] = v;
      candidate = numericMap(flat);
    }
    if (!qid || !candidate) {
      bad++;
      continue;
    }
    const segs = Array.isArray(e.segments) ? e.segments.map(str).filter((s): s is string => s !== null)
      : str(e.segment) ? [str(e.segment)!] : [];
    out.push({ qid, segments: segs, candidate, baseline: numericMap(e.baseline) });
  }
  if (bad) skipped.push(`${where}: ${bad} entr${bad === 1 ? 'y' : 'ies'} without a query id or scores`);
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

function applyPerQuery(queries: QueryScores[], t: Table, notes: Set<string>): void {
  if (queries.length === 0) return;
  const bySegment = new Map<string, QueryScores[]>([[OVERALL, queries]]);
  for (const q of queries) {
    for (const s of q.segments) {
      if (s === OVERALL) continue;
      let list = bySegment.get(s);
      if (!list) bySegment.set(s, (list = []));
      list.push(q);
    }
  }
  const metrics = t.metricOrder.length ? [...t.metricOrder] : Object.keys(queries[0]!.candidate);
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
          notes.add(`Difference intervals: 95% paired bootstrap percentile interval (${resamples.toLocaleString('en-US')} resamples, seeded) over per-query scores.`);
        } catch {
          // non-finite scores: leave the interval out
        }
      }
    }
  }
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

export function adaptEvaluation(run: RawEvaluationRun, baselineRun?: RawEvaluationRun | null): AdaptedEvaluation {
  const skipped: string[] = [];
  const notes = new Set<string>();
  const t = new Table();
  readMetrics(run.metrics, t, skipped);
  const gates = readGates(run.gates, skipped);
  const reported = [...t.segments.values()].some((s) => [...s.values()].some((c) => c.deltaCi))
    || gates.some((g) => g.ci && g.kind !== 'absolute');
  applyGates(gates, t);
  if (reported) notes.add('Difference intervals: 95% confidence intervals reported by the evaluation.');

  const queries = readPerQuery(run.perQuery, skipped, 'per_query');
  if (baselineRun) {
    // The baseline version's own run: its means are baseline values, its per-query scores pair by id.
    const bt = new Table();
    readMetrics(baselineRun.metrics, bt, []);
    for (const [segment, map] of bt.segments) {
      for (const [metric, c] of map) if (c.candidate !== null) fill(t.get(segment, metric), 'baseline', c.candidate);
    }
    attachBaseline(queries, readPerQuery(baselineRun.perQuery, [], 'baseline per_query'));
  }
  applyPerQuery(queries, t, notes);

  for (const map of t.segments.values()) {
    for (const c of map.values()) {
      if (c.delta === null && c.candidate !== null && c.baseline !== null) c.delta = c.candidate - c.baseline;
    }
  }
  const names = [...t.segments.keys()].sort((a, b) => (a === OVERALL ? -1 : b === OVERALL ? 1 : a.localeCompare(b)));
  const segments: SegmentEvaluation[] = names.map((segment) => {
    const map = t.segments.get(segment)!;
    return {
      segment,
      queries: t.queries.get(segment) ?? null,
      metrics: t.metricOrder.filter((m) => map.has(m)).map((m) => map.get(m)!),
    };
  });
  return {
    headlineMetric: pickHeadline(t.metricOrder, gates),
    metricNames: [...t.metricOrder],
    segments,
    gates,
    intervalNotes: [...notes],
    skipped,
  };
}
