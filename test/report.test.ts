import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import {
  adaptEvaluation,
  CHART_NAMES,
  computeVerdict,
  redactDetails,
  renderReport,
  bucketSecondsFor,
  type ReportEvent,
  type ReportModel,
  type ReportVersion,
} from '../src/upgrade-report/index.js';
import { parseStoredRun } from '../src/evaluate/stored-run.js';
import { durationTicks, esc, fmtDuration, niceTicks, timeTicks } from '../src/upgrade-report/svg/common.js';
import { groupedBarChart, horizontalBarChart } from '../src/upgrade-report/svg/bar-chart.js';
import { histogram } from '../src/upgrade-report/svg/histogram.js';
import { lineChart } from '../src/upgrade-report/svg/line-chart.js';
import { intervalChart } from '../src/upgrade-report/svg/interval-chart.js';
import { lifecycleIntervals, timelineChart } from '../src/upgrade-report/svg/timeline.js';

const EVIL = `<script>alert('x')</script>"><img src=x onerror=alert(1)>&amp;`;

const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

function noMarkup(html: string): void {
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /<img/i);
  assert.doesNotMatch(html, /onerror=alert\(1\)>/);
}

function version(id: number, key: string, extra: Partial<ReportVersion> = {}): ReportVersion {
  return {
    id,
    key,
    encoderSpec: `hash:words-${id}`,
    encoderName: 'hash',
    encoderRevision: 'r',
    dimensions: 256,
    metric: 'cosine',
    indexKind: 'hnsw',
    indexStorage: 'vector',
    state: 'ready',
    active: false,
    createdAt: '2025-01-01T00:00:00.000Z',
    retiredAt: null,
    ...extra,
  };
}

let eventId = 0;
function ev(versionKey: string, event: string, at: string, more: Partial<ReportEvent> = {}): ReportEvent {
  return { id: ++eventId, versionKey, event, actor: 'ana', reason: null, forced: false, details: {}, at, ...more };
}

/** Query scores keyed by alias, as `recordEvaluation` stores them. */
type Values = Record<string, number>;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const meanValues = (list: Values[]): Values =>
  Object.fromEntries(Object.keys(list[0]!).map((m) => [m, mean(list.map((v) => v[m]!))]));

/**
 * An evaluation run in exactly the shapes src/evaluate/record.ts writes: `metrics` with
 * `{ queries, values }` per aggregate, the baseline's summary, the overall comparisons;
 * `gates` as recorded GateOutcomes; `per_query` with `id`, `segment`, `values`, `baseline`, `top`.
 */
function recordedRun(segmentNames: string[] = [EVIL, 'faq']) {
  const perQuery = Array.from({ length: 40 }, (_, i) => {
    const segment = segmentNames[i % segmentNames.length]!;
    const c = 0.5 + (i % 5) / 20 + (segment === 'faq' ? 0.05 : 0);
    const b = 0.45 + (i % 3) / 30;
    const values = (x: number): Values => ({
      MRR: Math.min(1, x + 0.1),
      MAP: x - 0.05,
      'nDCG@10': x,
      'P@10': x / 4,
      'R@100': Math.min(1, x + 0.3),
      'hit@10': x > 0.5 ? 1 : 0,
      'Judged@10': 0.9,
    });
    return { id: `q${i}`, segment, values: values(c), baseline: values(b), top: [`doc-${i}`, `doc-${i + 1}`] };
  });
  const summary = (side: 'values' | 'baseline', version: string) => ({
    version,
    overall: { queries: perQuery.length, values: meanValues(perQuery.map((q) => q[side])) },
    segments: Object.fromEntries(
      segmentNames.map((s) => {
        const list = perQuery.filter((q) => q.segment === s);
        return [s, { queries: list.length, values: meanValues(list.map((q) => q[side])) }];
      }),
    ),
  });
  const cand = summary('values', 'v2');
  const base = summary('baseline', 'v1');
  const cmp = (metric: string) => {
    const c = cand.overall.values[metric]!;
    const b = base.overall.values[metric]!;
    return {
      segment: 'all',
      metric,
      n: 40,
      candidate: c,
      baseline: b,
      delta: c - b,
      pValue: 0.0004,
      ciLower: c - b - 0.02,
      ciUpper: c - b + 0.03,
      confidence: 0.95,
    };
  };
  const metrics = {
    key_kind: 'document_id',
    ks: [10, 100],
    run_depth: 100,
    short_queries: 0,
    ...cand,
    baseline: base,
    comparisons: ['MRR', 'MAP', 'nDCG@10', 'P@10', 'R@100', 'hit@10', 'Judged@10'].map(cmp),
    gates_source: 'evals/gates.json',
    timings_ms: { retrieveMs: 900, scoreMs: 12 },
  };
  const ndcg = cmp('nDCG@10');
  const gates = [
    {
      index: 0,
      name: `nDCG ${EVIL}`,
      kind: 'max_drop',
      metric: 'nDCG@10',
      segment: 'all',
      status: 'passed',
      value: ndcg.candidate,
      min: null,
      max_drop: 0.01,
      alpha: 0.05,
      baseline: 'v1',
      comparison: { ...ndcg, pValue: 0.0001 },
      message: EVIL,
    },
    {
      index: 1,
      name: 'faq floor',
      kind: 'min',
      metric: 'nDCG@10',
      segment: 'faq',
      status: 'passed',
      value: cand.segments.faq?.values['nDCG@10'] ?? 0.7,
      min: 0.5,
      max_drop: null,
      alpha: null,
      baseline: null,
      comparison: null,
      message: 'segment faq nDCG@10 = 0.7000 >= min 0.5',
    },
  ];
  return { metrics, gates, perQuery };
}

/** Through the reader, as the report reads a row: `parseStoredRun` checks the shape and types it. */
function parsed(run: { metrics: unknown; gates: unknown; perQuery: unknown }, id = 7) {
  return parseStoredRun({ id, metrics: run.metrics, per_query: run.perQuery, gates: run.gates });
}

/** A run's `metrics` with only the overall aggregate filled. */
function overallOnly(queries: number, values: Record<string, number>) {
  return {
    version: null,
    overall: { queries, values },
    segments: {},
    key_kind: 'document_id',
    ks: [10],
    run_depth: 10,
    short_queries: 0,
    baseline: null,
    comparisons: [],
    gates_source: null,
    timings_ms: { retrieveMs: 1, scoreMs: 1 },
  };
}

function model(): ReportModel {
  const v1 = version(1, 'v1', { active: true });
  const v2 = version(2, 'v2', { createdAt: '2025-01-02T00:00:00.000Z' });
  const events = [
    ev('v1', 'registered', '2025-01-01T00:00:00.000Z'),
    ev('v1', 'backfill_started', '2025-01-01T00:05:00.000Z'),
    ev('v1', 'backfill_completed', '2025-01-01T01:00:00.000Z'),
    ev('v1', 'activated', '2025-01-01T02:00:00.000Z', { reason: EVIL }),
    ev('v2', 'registered', '2025-01-02T00:00:00.000Z', { actor: EVIL }),
    ev('v2', 'backfill_started', '2025-01-02T00:10:00.000Z'),
    ev('v2', 'backfill_completed', '2025-01-02T03:00:00.000Z'),
    ev('v2', 'shadow_started', '2025-01-02T04:00:00.000Z'),
    ev('v2', 'gate_passed', '2025-01-03T04:00:00.000Z', { details: { note: EVIL } }),
  ];
  const adapted = adaptEvaluation(parsed(recordedRun()));
  const bins10 = Array.from({ length: 10 }, (_, i) => ({
    lo: i / 10,
    hi: (i + 1) / 10,
    count: [0, 1, 2, 5, 9, 14, 20, 18, 9, 4][i]!,
  }));
  const partial: Omit<ReportModel, 'verdict'> = {
    modelVersion: 1,
    generatedAt: '2025-01-03T05:00:00.000Z',
    database: 'postgresql://app:***@db/app',
    candidate: v2,
    baseline: v1,
    activeKey: 'v1',
    versions: [v1, v2],
    events,
    evaluation: {
      runId: 7,
      judgedSet: `tickets ${EVIL}`,
      judgedSetSha256: 'ab'.repeat(32),
      createdAt: '2025-01-03T04:00:00.000Z',
      actor: EVIL,
      gated: true,
      passed: true,
      candidateKey: 'v2',
      baselineKey: 'v1',
      ...adapted,
    },
    evaluationHistory: [],
    shadow: {
      candidateKey: 'v2',
      primaryKeys: ['v1'],
      queries: 82,
      dropped: 3,
      failed: 1,
      k: 10,
      firstAt: '2025-01-02T04:00:00.000Z',
      lastAt: '2025-01-03T04:00:00.000Z',
      overlap: {
        bins: Array.from({ length: 11 }, (_, i) => ({
          lo: i / 10,
          hi: i / 10,
          label: `${i}/10`,
          count: i < 4 ? 0 : i,
        })),
        total: 82,
        mean: 0.74,
        p10: 0.5,
        p50: 0.8,
      },
      rbo: { bins: bins10, total: 82, mean: 0.66, p10: 0.4, p50: 0.7 },
      bucketSeconds: 3600,
      series: Array.from({ length: 24 }, (_, i) => ({
        at: new Date(Date.parse('2025-01-02T04:00:00Z') + i * 3600_000).toISOString(),
        queries: 3 + (i % 4),
        meanOverlap: 0.7 + (i % 3) / 50,
        meanRbo: 0.62 + (i % 5) / 60,
      })),
      latency: { primary: { p50: 7, p95: 13, p99: 18, mean: 8 }, candidate: { p50: 11, p95: 19, p99: 26, mean: 12 } },
      segments: [{ segment: EVIL, queries: 82, meanOverlap: 0.74, meanRbo: 0.66 }],
    },
    backfill: [
      {
        versionKey: 'v1',
        runs: 1,
        completedRuns: 1,
        failedRuns: 0,
        running: false,
        lastStatus: 'completed',
        embedded: 1000,
        reused: 0,
        tokens: 0,
        costUsd: 0,
        encoderRequests: 0,
        rateLimited: 0,
        startedAt: null,
        finishedAt: null,
        wallSeconds: 3300,
        workerSeconds: 3300,
      },
      {
        versionKey: 'v2',
        runs: 2,
        completedRuns: 2,
        failedRuns: 0,
        running: false,
        lastStatus: 'completed',
        embedded: 1000,
        reused: 20,
        tokens: 250_000,
        costUsd: 0.005,
        encoderRequests: 12,
        rateLimited: 1,
        startedAt: null,
        finishedAt: null,
        wallSeconds: 10_200,
        workerSeconds: 16_000,
      },
    ],
    tradeoff: {
      judgedSet: `tickets ${EVIL}`,
      points: [
        {
          versionKey: 'v1',
          derivedFrom: null,
          transform: null,
          storage: { vectors: 1000, bytesPerVector: 1032, heapBytes: 1_400_000, indexBytes: 2_100_000 },
          ndcg10: 0.58,
          runId: 7,
          asBaseline: true,
          latency: { p50: 7.5, queries: 40, concurrency: 4 },
        },
        {
          versionKey: 'v2',
          derivedFrom: null,
          transform: null,
          storage: { vectors: 1000, bytesPerVector: 6152, heapBytes: 7_000_000, indexBytes: 8_200_000 },
          ndcg10: 0.64,
          runId: 7,
          asBaseline: false,
          latency: { p50: 11.2, queries: 40, concurrency: 4 },
        },
        {
          versionKey: 'v2-bit',
          derivedFrom: 'v2',
          transform: 'bit(1536), re-rank 100',
          storage: { vectors: 1000, bytesPerVector: 200, heapBytes: 300_000, indexBytes: 410_000 },
          ndcg10: 0.635,
          runId: 9,
          asBaseline: false,
          latency: null,
        },
        {
          versionKey: 'v3',
          derivedFrom: null,
          transform: null,
          storage: null,
          ndcg10: null,
          runId: null,
          asBaseline: false,
          latency: null,
        },
      ],
    },
  };
  return { ...partial, verdict: computeVerdict(partial) };
}

describe('report: SVG builders', () => {
  test('esc escapes the five HTML metacharacters', () => {
    assert.equal(esc(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    assert.equal(esc(null), '');
  });

  test('ticks: round numbers, times and durations', () => {
    assert.deepEqual(niceTicks(0, 0.83, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(niceTicks(0, 0, 5), [0, 1]);
    const t = timeTicks(Date.parse('2025-01-01T00:00:00Z'), Date.parse('2025-01-01T06:00:00Z'), 6);
    assert.equal(t.format(t.ticks[1]!), '01:00');
    const d = durationTicks(11_000);
    assert.deepEqual(d.ticks, [0, 3600, 7200, 10800, 14400]);
    assert.equal(d.format(7200), '2 h');
    assert.equal(fmtDuration(2520), '42 min');
    assert.equal(fmtDuration(11_880), '3 h 18 min');
    assert.equal(bucketSecondsFor(42 * 3600), 3600);
    assert.equal(bucketSecondsFor(20), 1);
  });

  test('grouped bars: one rect per value, whiskers for intervals, escaped labels, accessible title', () => {
    const svg = groupedBarChart({
      id: 'g',
      title: `T ${EVIL}`,
      desc: 'd',
      series: [
        { label: 'cand', color: '#00f' },
        { label: 'base', color: '#999' },
      ],
      groups: [
        {
          label: EVIL,
          values: [
            { value: 0.6, ci: { lo: 0.55, hi: 0.65 } },
            { value: 0.5, ci: { lo: 0.45, hi: 0.55 } },
          ],
        },
        { label: 'b', values: [{ value: 0.7 }, null] },
      ],
      yMax: 1,
      whiskerLabel: '95% CI of each mean',
    });
    assert.match(svg, /^<svg [^>]*role="img" aria-labelledby="g-title g-desc"/);
    assert.match(svg, /<title id="g-title">T &lt;script&gt;/);
    assert.equal(count(svg, /<rect class="bar"/g), 3);
    assert.equal(count(svg, /<path class="whisker"/g), 2);
    assert.match(svg, /95% CI of each mean/);
    noMarkup(svg);
  });

  test('horizontal bars and the difference plot', () => {
    const h = horizontalBarChart({
      id: 'h',
      title: 't',
      desc: 'd',
      rows: [
        { label: EVIL, value: 2 },
        { label: 'b', value: 0 },
      ],
    });
    assert.equal(count(h, /<rect class="bar"/g), 2);
    noMarkup(h);
    const d = intervalChart({
      id: 'd',
      title: 't',
      desc: 'd',
      xLabel: 'Δ',
      intervalLabel: '95% CI of Δ',
      rows: [
        { label: 'up', value: 0.05, ci: { lo: 0.01, hi: 0.09 } },
        { label: 'down', value: -0.03, ci: { lo: -0.05, hi: -0.01 } },
        { label: 'flat', value: 0.01, ci: { lo: -0.02, hi: 0.04 } },
      ],
    });
    assert.equal(count(d, /<rect class="point"/g), 3);
    assert.match(d, /fill="#16a34a"/);
    assert.match(d, /fill="#dc2626"/);
    assert.match(d, /fill="#64748b"/);
  });

  test('histogram: discrete bins are labelled, markers drawn, empty bins have no height', () => {
    const svg = histogram({
      id: 'h',
      title: 't',
      desc: 'd',
      xLabel: 'overlap@10',
      bins: Array.from({ length: 11 }, (_, i) => ({ lo: i / 10, hi: i / 10, label: `${i}/10`, count: i })),
      markers: [{ value: 0.7, label: 'mean 0.70' }],
    });
    assert.equal(count(svg, /<rect class="bar"/g), 11);
    assert.match(svg, />10\/10</);
    assert.match(svg, /height="0"/);
    assert.match(svg, /<line class="marker"/);
  });

  test('line chart: a path for several points, a dot for one', () => {
    const many = lineChart({
      id: 'l',
      title: 't',
      desc: 'd',
      yLabel: 'y',
      yMin: 0,
      yMax: 1,
      series: [
        {
          label: 's',
          color: '#00f',
          points: [
            { t: 0, y: 0.5 },
            { t: 3_600_000, y: 0.7 },
          ],
        },
      ],
    });
    assert.equal(count(many, /<path class="line"/g), 1);
    const one = lineChart({
      id: 'l',
      title: 't',
      desc: 'd',
      yLabel: 'y',
      series: [{ label: 's', color: '#00f', points: [{ t: 0, y: 0.5 }] }],
    });
    assert.equal(count(one, /<path class="line"/g), 0);
    assert.equal(count(one, /<circle class="point"/g), 1);
  });

  test('lifecycle intervals: backfill, activation hand-over, rollback, retirement', () => {
    const events = [
      ev('a', 'backfill_started', '2025-01-01T00:00:00Z'),
      ev('a', 'backfill_completed', '2025-01-01T01:00:00Z'),
      ev('a', 'activated', '2025-01-01T02:00:00Z'),
      ev('b', 'activated', '2025-01-01T03:00:00Z'),
      ev('b', 'rolled_back', '2025-01-01T04:00:00Z'),
      ev('b', 'retired', '2025-01-01T05:00:00Z'),
    ];
    const lanes = [
      { key: 'a', state: 'ready', active: true, createdAt: '2025-01-01T00:00:00Z', retiredAt: null },
      {
        key: 'b',
        state: 'retired',
        active: false,
        createdAt: '2025-01-01T00:00:00Z',
        retiredAt: '2025-01-01T05:00:00Z',
      },
    ];
    const iv = lifecycleIntervals(events, lanes).map(
      (x) =>
        `${x.versionKey}:${x.kind}:${(x.start % 86_400_000) / 3_600_000}-${x.end === null ? 'now' : (x.end % 86_400_000) / 3_600_000}`,
    );
    assert.deepEqual(iv, ['a:backfilling:0-1', 'a:active:2-3', 'b:active:3-4', 'a:active:4-now']);
    const svg = timelineChart({ id: 't', title: 't', desc: 'd', lanes, events });
    assert.equal(count(svg, /<g class="event"/g), 6);
    assert.equal(count(svg, /<rect class="band band-active"/g), 3);
  });
});

describe('report: evaluation adapter', () => {
  test('reads the shapes recordEvaluation writes, with nothing skipped', () => {
    const run = recordedRun();
    const a = adaptEvaluation(parsed(run));
    assert.deepEqual(a.skipped, [], 'no "could not read" note for a real run');
    assert.equal(a.headlineMetric, 'nDCG@10');
    assert.deepEqual(a.metricNames, ['MRR', 'MAP', 'nDCG@10', 'P@10', 'R@100', 'hit@10', 'Judged@10']);
    assert.deepEqual(
      a.segments.map((s) => [s.segment, s.queries]),
      [
        ['overall', 40],
        [EVIL, 20],
        ['faq', 20],
      ].sort((x, y) => (x[0] === 'overall' ? -1 : y[0] === 'overall' ? 1 : String(x[0]).localeCompare(String(y[0])))),
    );
    const o = a.segments[0]!.metrics.find((m) => m.metric === 'nDCG@10')!;
    const stored = run.metrics.comparisons.find((c) => c.metric === 'nDCG@10')!;
    assert.equal(o.candidate, run.metrics.overall.values['nDCG@10']);
    assert.equal(o.baseline, run.metrics.baseline.overall.values['nDCG@10']);
    assert.equal(o.delta, stored.delta);
    assert.deepEqual(
      o.deltaCi,
      { lo: stored.ciLower, hi: stored.ciUpper },
      'the recorded interval, not a recomputed one',
    );
    assert.equal(o.pValue, 0.0001, "the gate's comparison (which decided) wins over the table's");
    assert.equal(
      a.segments[0]!.metrics.find((m) => m.metric === 'MRR')!.pValue,
      0.0004,
      'the recorded table comparison elsewhere',
    );
    assert.equal(o.n, 40);
    const faq = a.segments.find((s) => s.segment === 'faq')!.metrics.find((m) => m.metric === 'R@100')!;
    assert.equal(faq.candidate, run.metrics.segments.faq!.values['R@100']);
    assert.equal(faq.baseline, run.metrics.baseline.segments.faq!.values['R@100']);
    assert.ok(faq.deltaCi && faq.candidateCi, 'segment intervals from the per-query scores');
    assert.match(
      a.intervalNotes.join(' '),
      /Difference intervals for overall: 95% paired bootstrap .* recorded by embctl evaluate/,
    );
    assert.match(
      a.intervalNotes.join(' '),
      /Difference intervals for each segment: 95% paired bootstrap percentile interval computed by this report/,
    );

    assert.equal(a.gates.length, 2);
    const [rel, min] = a.gates;
    assert.deepEqual(rel, {
      name: `nDCG ${EVIL}`,
      segment: 'overall',
      metric: 'nDCG@10',
      kind: 'max_drop',
      status: 'passed',
      candidate: stored.candidate,
      baseline: stored.baseline,
      delta: stored.delta,
      pValue: 0.0001,
      ci: { lo: stored.ciLower, hi: stored.ciUpper },
      confidence: 0.95,
      n: 40,
      threshold: 0.01,
      alpha: 0.05,
      baselineKey: 'v1',
      passed: true,
      message: EVIL,
    });
    assert.equal(min!.segment, 'faq');
    assert.equal(min!.threshold, 0.5);
    assert.equal(min!.candidate, run.gates[1]!.value);
    assert.equal(
      min!.baseline,
      run.metrics.baseline.segments.faq!.values['nDCG@10'],
      'baseline taken from the run for an absolute gate',
    );
    assert.equal(min!.ci, null);
    assert.equal(min!.pValue, null);
  });

  test('a run without a baseline, a skipped gate, and a lone (none) segment', () => {
    const run = recordedRun(['(none)']);
    const metrics = { ...run.metrics, baseline: null, comparisons: [] };
    const perQuery = run.perQuery.map(({ baseline: _b, ...q }) => q);
    const gates = [
      {
        ...run.gates[0]!,
        status: 'skipped',
        baseline: null,
        comparison: null,
        message: 'no baseline version (no active version and no --baseline): relative gate skipped',
      },
    ];
    const a = adaptEvaluation(parsed({ metrics, gates, perQuery }));
    assert.deepEqual(a.skipped, []);
    assert.deepEqual(
      a.segments.map((s) => s.segment),
      ['overall'],
      'the single segment repeating overall is left out',
    );
    const o = a.segments[0]!.metrics.find((m) => m.metric === 'nDCG@10')!;
    assert.equal(o.baseline, null);
    assert.equal(o.delta, null);
    assert.equal(a.gates[0]!.status, 'skipped');
    assert.equal(a.gates[0]!.passed, true, 'a skipped gate does not block');
    assert.equal(a.gates[0]!.ci, null);
  });

  test('a run of another shape is refused, naming the run, instead of being read in part', () => {
    // Before the stored shapes had one schema, the adapter skipped what it could not read; now the reader refuses the row.
    const bad = {
      metrics: {
        overall: { queries: 'x', values: { 'nDCG@10': 'abc', MRR: null } },
        segments: 3,
        comparisons: [{ nope: 1 }],
      },
      gates: [{ name: 'no status' }, 7, { metric: 'MRR', status: 'failed', segment: 'all' }],
      perQuery: [{ nope: true }],
    };
    assert.throws(
      () => parsed(bad, 31),
      /^InputError: evaluation run 31 was stored in a shape this embctl cannot read \(metrics\.\w+: .*; \d+ more\): re-run `embctl evaluate` to record it again$/,
    );
    assert.throws(() => parsed({ metrics: null, gates: null, perQuery: null }, 32), /evaluation run 32 .*\(metrics: /);
    const sparse = adaptEvaluation(parsed({ metrics: overallOnly(3, {}), gates: [], perQuery: [] }));
    assert.deepEqual(sparse.segments, [], 'no measure stored: nothing to show');
    assert.deepEqual(sparse.skipped, []);
    assert.equal(sparse.headlineMetric, null);
  });

  test('intervals from per-query scores, pairing the baseline run by query id', () => {
    const qs = Array.from({ length: 40 }, (_, i) => ({
      id: `q${i}`,
      segment: i % 2 ? 'a' : 'b',
      values: { 'nDCG@10': 0.5 + (i % 5) / 20 },
      top: [],
    }));
    const base = Array.from({ length: 40 }, (_, i) => ({
      id: `q${i}`,
      segment: i % 2 ? 'a' : 'b',
      values: { 'nDCG@10': 0.45 + (i % 3) / 30 },
      top: [],
    }));
    const a = adaptEvaluation(
      parsed({ metrics: overallOnly(40, {}), gates: [], perQuery: qs }),
      parsed({ metrics: overallOnly(40, { 'nDCG@10': 0.4777 }), gates: [], perQuery: base }),
    );
    assert.deepEqual(a.skipped, []);
    const o = a.segments.find((s) => s.segment === 'overall')!.metrics[0]!;
    assert.ok(o.candidateCi && o.baselineCi && o.deltaCi);
    assert.ok(o.candidateCi.lo < o.candidate! && o.candidate! < o.candidateCi.hi);
    assert.ok(o.deltaCi.lo < o.delta! && o.delta! < o.deltaCi.hi);
    assert.equal(o.baseline, 0.4777, 'the stored mean wins over the derived one');
    assert.equal(o.n, 40);
    assert.deepEqual(
      a.segments.map((s) => [s.segment, s.queries]),
      [
        ['overall', 40],
        ['a', 20],
        ['b', 20],
      ],
    );
    assert.match(a.intervalNotes.join(' '), /paired bootstrap/);
  });
});

describe('report: HTML', () => {
  test('every chart is drawn in its figure; nothing from the data becomes markup', () => {
    const m = model();
    assert.equal(m.verdict.status, 'pass');
    const html = renderReport(m);
    for (const name of CHART_NAMES) {
      const fig = html.match(new RegExp(`<figure class="chart-figure" data-chart="${name}">([\\s\\S]*?)</figure>`));
      assert.ok(fig, `figure ${name}`);
      assert.match(fig[1]!, /<svg [^>]*role="img"[^>]*><title id="[^"]+">[^<]+<\/title>/, `${name} has a title`);
    }
    noMarkup(html);
    assert.match(
      html,
      /&lt;script&gt;alert\(&#39;x&#39;\)&lt;\/script&gt;&quot;&gt;&lt;img src=x onerror=alert\(1\)&gt;&amp;amp;/,
    );
    assert.doesNotMatch(html.replace(/"[^"]*"/g, '""'), /<[^>]*\s(src|href)=/, 'no tag loads anything');
    assert.match(html, /Content-Security-Policy/);
    assert.match(html, /3 dropped/);
    // Read from the recorded shapes: no skipped note, an `overall` row, readable labels, gates filled.
    assert.doesNotMatch(html, /could not read/);
    assert.doesNotMatch(html, /<th[^>]*>values<\/th>/);
    assert.match(html, /<th class="seg" colspan="3">overall <span class="muted">n=40<\/span><\/th>/);
    for (const label of ['nDCG@10', 'P@10', 'R@100', 'MRR', 'MAP', 'hit@10', 'Judged@10'])
      assert.match(html, new RegExp(`<th scope="row">${label}</th>`), label);
    const gate = html.match(/<table class="gates">[\s\S]*?<tbody><tr[^>]*>([\s\S]*?)<\/tr>/)![1]!;
    const cells = [...gate.matchAll(/<td class="num[^"]*">([^<]*)/g)].map((x) => x[1]);
    assert.equal(cells.length, 6);
    assert.ok(
      cells.slice(0, 5).every((c) => c !== '–'),
      `relative gate cells: ${cells.join(' | ')}`,
    );
    assert.equal(cells[4], '1.0e-4');
    assert.match(gate, /drop ≤ 0\.01/);
  });

  test('missing parts render a note inside a figure marked empty', () => {
    const m = {
      ...model(),
      shadow: null,
      evaluation: null,
      backfill: [],
      events: [],
      tradeoff: { judgedSet: null, points: [] },
    };
    const html = renderReport({ ...m, verdict: computeVerdict(m) });
    for (const name of CHART_NAMES) {
      assert.match(
        html,
        new RegExp(
          `<figure class="chart-figure" data-chart="${name}" data-empty="true"><div class="empty" role="note">`,
        ),
        name,
      );
    }
    assert.match(html, /No shadow traffic yet — run <code>embctl shadow start v2 --sample 0\.1<\/code>/);
    assert.match(html, /No evaluation yet — run <code>embctl evaluate --version v2 --gate<\/code>/);
    assert.match(html, /No backfill runs yet — run <code>embctl backfill v2<\/code>/);
  });

  test('verdicts', () => {
    const base = model();
    const failed = {
      ...base,
      evaluation: {
        ...base.evaluation!,
        passed: false,
        gates: base.evaluation!.gates.map((g, i) => ({
          ...g,
          passed: i !== 0,
          status: i !== 0 ? g.status : ('failed' as const),
        })),
      },
    };
    const v = computeVerdict(failed);
    assert.equal(v.status, 'fail');
    assert.match(v.headline, /v2 failed its gates against v1/);
    assert.match(v.details.join(' '), /1 of 2 gates failed/);
    assert.match(
      renderReport({ ...failed, verdict: v }),
      /<tr class="failed"><td><span class="chip chip-fail">fail<\/span>/,
    );
    const skipped = {
      ...base,
      evaluation: {
        ...base.evaluation!,
        gates: base.evaluation!.gates.map((g, i) => ({ ...g, status: i === 0 ? ('skipped' as const) : g.status })),
      },
    };
    assert.match(computeVerdict(skipped).details.join(' '), /1 of 2 gates passed, 1 skipped/);
    assert.match(
      renderReport({ ...skipped, verdict: computeVerdict(skipped) }),
      /<span class="chip chip-skip">skipped<\/span>/,
    );
    const activeM = { ...base, candidate: { ...base.candidate!, active: true } };
    assert.equal(computeVerdict(activeM).status, 'active');
    assert.equal(computeVerdict({ ...base, evaluation: null }).status, 'pending');
    assert.equal(computeVerdict({ ...base, candidate: null, versions: [] }).status, 'empty');
  });

  test('the HTML of a fixed model is unchanged (snapshot in test/fixtures/report-snapshot*.html)', () => {
    // Guards refactors of the renderer: byte-identical output. Regenerate on purpose with UPDATE_REPORT_SNAPSHOT=1.
    const full = model();
    const empty = {
      ...full,
      shadow: null,
      evaluation: null,
      backfill: [],
      events: [],
      tradeoff: { judgedSet: null, points: [] },
    };
    const cases: [string, ReportModel][] = [
      ['test/fixtures/report-snapshot.html', full],
      ['test/fixtures/report-snapshot-empty.html', { ...empty, verdict: computeVerdict(empty) }],
    ];
    for (const [file, m] of cases) {
      const html = renderReport(m);
      if (process.env.UPDATE_REPORT_SNAPSHOT === '1') writeFileSync(file, html);
      assert.equal(html, readFileSync(file, 'utf8'), file);
    }
  });

  test('secrets in audit details are redacted', () => {
    assert.deepEqual(
      redactDetails({
        api_key: 'sk-abc',
        nested: { password: 'p', url: 'postgresql://u:pw@h/db', ok: 1 },
        list: ['sk-abcdefghijklmnopqrstuvwxyz'],
      }),
      {
        api_key: '***',
        nested: { password: '***', url: 'postgresql://u:***@h/db', ok: 1 },
        list: ['sk-***'],
      },
    );
  });
});
