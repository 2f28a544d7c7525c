import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../src/errors.js';
import { evaluateRun, parseRun } from '../src/trec/index.js';
import { judgedSetQrels } from '../src/judged-set/index.js';
import { makeJudgedSet, type JudgedSet } from '../src/judged-set/judged-set.js';
import {
  applyGates,
  checkGatesAgainstSet,
  decisionRule,
  formatTrecRun,
  parseGates,
  rankedKeys,
  renderJUnit,
  renderMarkdown,
  renderTable,
  scoreJudgedRun,
  searchQuery,
  evaluateVersion,
  recordEvaluation,
  type EvaluationOutcome,
  type Retriever,
  type RetrievedChunk,
  type VersionEvaluation,
} from '../src/evaluate/index.js';
import { compareEvaluations } from '../src/evaluate/compare.js';
import type { VersionRow } from '../src/versions/store.js';
import { xmlProblems } from './support/xml-check.js';
import { parseStoredRun } from '../src/evaluate/stored-run.js';

function makeJudgedSetForTest(rows: [string, string | null, Record<string, number>][]): JudgedSet {
  return makeJudgedSet({
    name: 't',
    description: null,
    keyKind: 'document_id',
    source: 't.jsonl',
    queries: rows.map(([id, segment, rel]) => ({
      id,
      text: `query ${id}`,
      segment,
      relevant: new Map(Object.entries(rel)),
    })),
  });
}

const chunk = (documentId: string, n: number, score: number): RetrievedChunk => ({
  chunkId: n,
  semanticKey: `${documentId}#${n}`,
  documentId,
  score,
});

function problemsOf(fn: () => unknown): { message: string; details: string[] } {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    return { message: e.message, details: e.details };
  }
  assert.fail('expected an InputError');
}

test('chunks roll up to documents at their best chunk; semantic_key keeps chunks', () => {
  const chunks = [chunk('a', 1, 0.9), chunk('b', 2, 0.8), chunk('a', 3, 0.7), chunk('c', 4, 0.6), chunk('b', 5, 0.5)];
  assert.deepEqual(rankedKeys(chunks, 'document_id', 10), [
    { docno: 'a', score: 0.9 },
    { docno: 'b', score: 0.8 },
    { docno: 'c', score: 0.6 },
  ]);
  assert.deepEqual(
    rankedKeys(chunks, 'document_id', 2).map((d) => d.docno),
    ['a', 'b'],
  );
  assert.deepEqual(
    rankedKeys(chunks, 'semantic_key', 3).map((d) => d.docno),
    ['a#1', 'b#2', 'a#3'],
  );
});

test('document search goes deeper once when K documents did not fill', async () => {
  // 5 chunks per document: 30 chunks hold only 6 documents, so K = 10 needs a second, deeper search.
  const all = Array.from({ length: 200 }, (_, i) => chunk(`d${Math.floor(i / 5)}`, i, 1 - i / 1000));
  const depths: number[] = [];
  const retriever: Retriever = async (_v, _q, depth) => {
    depths.push(depth);
    return all.slice(0, depth);
  };
  const v = { id: 1, version_key: 'v' } as VersionRow;
  const r = await searchQuery(retriever, v, 'q', 'document_id', 10);
  assert.deepEqual(depths, [30, 120]);
  assert.equal(r.ranked.length, 10);
  assert.equal(r.short, false);

  // A partition with fewer chunks than asked for: no second search, not "short".
  depths.length = 0;
  const few: Retriever = async (_v, _q, depth) => {
    depths.push(depth);
    return all.slice(0, 12);
  };
  const r2 = await searchQuery(few, v, 'q', 'document_id', 10);
  assert.deepEqual(depths, [30]);
  assert.equal(r2.ranked.length, 3);
  assert.equal(r2.short, false);
});

test('an evaluation records the search time of each query; percentiles by a clock the test drives', async () => {
  // Query i takes i + 1 ms on the test's clock: 1..11 ms over 11 queries, one search in flight.
  let clock = 0;
  const retriever: Retriever = async (_v, q) => {
    clock += Number(q.replace('query q', '')) + 1;
    return [chunk('a', 1, 0.9)];
  };
  const set = makeJudgedSetForTest(Array.from({ length: 11 }, (_, i) => [`q${i}`, null, { a: 1 }]));
  const e = await evaluateVersion({
    version: { id: 1, version_key: 'v', encoder_spec: 'hash:words-64' } as VersionRow,
    judgedSet: set,
    retriever,
    ks: [10],
    concurrency: 1,
    now: () => clock,
  });
  assert.deepEqual(e.latency, { queries: 11, concurrency: 1, p50: 6, p95: 10.5, p99: 10.9, mean: 6 });

  // Stored with the version's summary, and read back by the stored shape.
  let inserted: Record<string, unknown> | undefined;
  const fakeDb = {
    transaction: () => ({ execute: (fn: (t: unknown) => unknown) => fn(trx) }),
  };
  const trx = {
    insertInto: () => ({
      values: (v: Record<string, unknown>) => {
        inserted = v;
        return { returningAll: () => ({ executeTakeFirstOrThrow: async () => ({ id: 3, ...v }) }) };
      },
    }),
  };
  await recordEvaluation(fakeDb as never, { candidate: e, gated: false, actor: 't' });
  const stored = parseStoredRun({ id: 3, metrics: inserted!.metrics, per_query: inserted!.per_query, gates: '[]' });
  assert.deepEqual(stored.metrics.latency_ms, e.latency);
  // Runs recorded before search times were kept still read.
  const { latency_ms: _dropped, ...older } = stored.metrics;
  assert.equal(parseStoredRun({ id: 4, metrics: older, per_query: [], gates: [] }).metrics.latency_ms, undefined);
});

test('gates file: every problem is reported with its path, all at once', () => {
  const text = JSON.stringify(
    {
      alpha: 2,
      colour: 'red',
      gates: [
        { metric: 'nDCG@10', max_drop: 0.01 },
        { metric: 'P@10', segment: 'invoices', min: 0.9 },
        { metric: 'nDCG10', min: 0.5 },
        { metric: 'MRR', min: 0.5, max_drop: 0.1 },
        { metric: 'MAP' },
        { metric: 'hit@5', min: 'high', alpha: 0.1 },
        { metric: 'Judged@10', min: 0.8, treshold: 1 },
      ],
    },
    null,
    2,
  );
  const { message, details } = problemsOf(() => parseGates(text, 'gates.json'));
  assert.match(message, /Invalid gates file gates\.json: 8 problems/);
  for (const expected of [
    'alpha: Too big: expected number to be <1',
    'colour: unknown field',
    'gates[2].metric: unknown metric "nDCG10"',
    'gates[3]: give either "min" (absolute) or "max_drop" (relative to the baseline), not both',
    'gates[4]: missing a threshold',
    'gates[5].min: Invalid input: expected number, received string',
    'gates[5].alpha: applies to relative ("max_drop") gates only',
    'gates[6].treshold: unknown field',
  ])
    assert.ok(
      details.some((d) => d.startsWith(expected)),
      `missing "${expected}" in:\n${details.join('\n')}`,
    );
  assert.equal(details.length, 8);
});

test('gates file: JSON and YAML syntax errors name the line; a valid YAML file parses', () => {
  const json = problemsOf(() => parseGates('{\n  "gates": [\n    {"metric": "MRR", "min": 0.5,}\n  ]\n}\n', 'g.json'));
  assert.match(json.details[0]!, /^g\.json:3: /);
  const yaml = problemsOf(() => parseGates('gates:\n  - metric: MRR\n    min: [0.5\n', 'g.yaml'));
  assert.match(yaml.details[0]!, /^g\.yaml:\d+:\d+: /);
  const ok = parseGates(
    'alpha: 0.01\ngates:\n  - metric: nDCG@10\n    max_drop: 0.02\n  - {metric: "P@5", segment: faq, min: 0.3, name: faq precision}\n',
    'g.yml',
  );
  assert.equal(ok.alpha, 0.01);
  assert.deepEqual(
    ok.gates.map((g) => [g.kind, g.metric, g.segment, g.name]),
    [
      ['max_drop', 'ndcg_cut_10', null, 'overall nDCG@10 drop <= 0.02 vs baseline'],
      ['min', 'P_5', 'faq', 'faq precision'],
    ],
  );
});

test('gates naming a segment the judged set lacks are all listed', () => {
  const set = makeJudgedSetForTest([
    ['q1', 'faq', { d1: 1 }],
    ['q2', null, { d2: 1 }],
  ]);
  const config = parseGates(
    JSON.stringify({
      gates: [
        { metric: 'MRR', segment: 'faqs', min: 0.1 },
        { metric: 'MRR', segment: '(none)', min: 0.1 },
        { metric: 'MAP', segment: 'billing', min: 0.1 },
      ],
    }),
    'g.json',
  );
  const { details } = problemsOf(() => checkGatesAgainstSet(config, set));
  assert.deepEqual(details, [
    'gates[0].segment: no segment "faqs" in judged set t (segments: (none), faq)',
    'gates[2].segment: no segment "billing" in judged set t (segments: (none), faq)',
  ]);
});

test('gates can name any trec_eval measure by name or alias; thresholds must fit its values', () => {
  const ok = parseGates(
    JSON.stringify({
      gates: [
        { metric: 'bpref', min: 0.3 },
        { metric: 'infAP', max_drop: 0.05 },
        { metric: 'R-prec', min: 0.2 },
        { metric: 'RBP@0.8', max_drop: 0.02 },
        { metric: 'MAP@10', min: 0.1 },
        { metric: 'utility', min: -50 },
        { metric: 'gm_map', min: 0.01 },
        { metric: 'iprec_at_recall_0.10', min: 0.2 },
        { metric: 'ndcg_1=-1', min: -0.5 },
      ],
    }),
    'g.json',
  );
  assert.deepEqual(
    ok.gates.map((g) => g.metric),
    ['bpref', 'infAP', 'Rprec', 'rbp_p=0.8', 'map_cut_10', 'utility', 'gm_map', 'iprec_at_recall_0.10', 'ndcg_1=-1'],
  );
  const { details } = problemsOf(() =>
    parseGates(
      JSON.stringify({
        gates: [
          { metric: 'num_rel_ret', min: 1 },
          { metric: 'relstring', min: 0 },
          { metric: 'bpref', min: 1.5 },
          { metric: 'P@10', max_drop: 2 },
          { metric: 'gm_bpref', max_drop: 0.1 },
          { metric: 'bpref@10', min: 0.1 },
        ],
      }),
      'g.json',
    ),
  );
  assert.deepEqual(details, [
    'gates[0].metric: "num_rel_ret" is a count or a label, not a gate metric',
    'gates[1].metric: "relstring" is a count or a label, not a gate metric',
    'gates[5].metric: unknown metric "bpref@10" (use P@K, R@K, nDCG@K, MAP@K, hit@K, Judged@K, MRR, MAP, R-prec, RBP@p or a trec_eval name such as bpref, infAP, ndcg, map_cut_10)',
    'gates[2].min: bpref ranges from 0 to 1, so a min of 1.5 could never pass: use a value from 0 to 1',
    'gates[3].max_drop: P@10 ranges from 0 to 1, so a drop of 2 can never happen: use a value from 0 to 1',
    'gates[4].max_drop: gm_bpref is a geometric mean over queries, which a paired per-query test does not compare; gate it with "min", or gate bpref',
  ]);
});

test('a version evaluation computes what its gates name: geometric means per segment as trec_eval makes them', () => {
  const set = makeJudgedSetForTest([
    ['q1', 'a', { d1: 1, d2: 1 }],
    ['q2', 'a', { d3: 1 }],
    ['q3', 'b', { d4: 1 }],
  ]);
  // q1: d1 at rank 1, d2 at rank 3 -> AP (1 + 2/3) / 2; q2: d3 at rank 2 -> AP 1/2; q3: nothing -> AP 0.
  const run = new Map([
    [
      'q1',
      [
        { docno: 'd1', score: 3 },
        { docno: 'x', score: 2 },
        { docno: 'd2', score: 1 },
      ],
    ],
    [
      'q2',
      [
        { docno: 'y', score: 2 },
        { docno: 'd3', score: 1 },
      ],
    ],
    ['q3', [{ docno: 'z', score: 1 }]],
  ]);
  const scored = scoreJudgedRun(set, run, ['map', 'gm_map', 'bpref', 'rbp_p=0.8']);
  const ap = [(1 + 2 / 3) / 2, 1 / 2, 0];
  const gm = (xs: number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(Math.max(x, 0.00001)), 0) / xs.length);
  assert.equal(scored.overall.values.gm_map, gm(ap));
  assert.equal(scored.segments.find((s) => s.segment === 'a')!.values.gm_map, gm(ap.slice(0, 2)));
  assert.equal(
    scored.segments.find((s) => s.segment === 'b')!.values.gm_map!.toFixed(5),
    '0.00001',
    'floored at MIN_GEO_MEAN',
  );
  assert.deepEqual(
    scored.perQuery.map((q) => q.values.gm_map),
    ap,
    'per query: the AP itself',
  );
  // rbp, p = 0.8: q1 0.2 * (1 + 0.64); q2 0.2 * 0.8; q3 0.
  assert.deepEqual(
    scored.perQuery.map((q) => q.values['rbp_p=0.8']!.toFixed(6)),
    ['0.328000', '0.160000', '0.000000'],
  );
});

/** An evaluation of `n` queries where query i has reciprocal rank `rr(i)`. */
function fakeEvaluation(key: string, id: number, rr: (i: number) => number, n = 40): VersionEvaluation {
  const rows: [string, string, Record<string, number>][] = [];
  for (let i = 0; i < n; i++) rows.push([`q${String(i).padStart(2, '0')}`, i % 2 ? 'odd' : 'even', { [`d${i}`]: 1 }]);
  const set = makeJudgedSetForTest(rows);
  const run = new Map(
    rows.map(([qid], i) => {
      const rank = rr(i) === 0 ? 0 : Math.round(1 / rr(i));
      const docs = Array.from({ length: rank }, (_, j) => ({
        docno: j === rank - 1 ? `d${i}` : `x${j}`,
        score: 10 - j,
      }));
      return [qid, rr(i) === 0 ? [] : docs];
    }),
  );
  const scored = scoreJudgedRun(set, run, ['recip_rank', 'success_1', 'judged_1']);
  return {
    version: { id, key, encoder: `hash:${key}` },
    judgedSet: { name: 't', sha256: set.sha256, keyKind: 'document_id', source: 't.jsonl', queries: n },
    ks: [1],
    measures: ['recip_rank', 'success_1', 'judged_1'],
    runDepth: 10,
    ...scored,
    run,
    shortQueries: 0,
    timings: { retrieveMs: 1, scoreMs: 1 },
  };
}

test('relative gate: fails only on a drop beyond max_drop that is significant; CI and p reported', () => {
  const base = fakeEvaluation('base', 1, () => 1);
  const worse = fakeEvaluation('worse', 2, (i) => (i % 4 === 0 ? 1 : 0.5)); // MRR 0.625: drop 0.375 on 30 of 40 queries
  const noisy = fakeEvaluation('noisy', 3, (i) => (i === 0 ? 0.5 : 1)); // one query drops: mean drop 0.0125
  const config = parseGates(
    JSON.stringify({
      gates: [
        { metric: 'MRR', max_drop: 0.01 },
        { metric: 'hit@1', segment: 'even', min: 0.9 },
        { metric: 'Judged@1', min: 0.5 },
      ],
    }),
    'g.json',
  );

  const [rel, abs, judged] = applyGates(worse, base, config);
  assert.equal(rel!.status, 'failed');
  assert.ok(rel!.comparison!.pValue < 0.001, `p = ${rel!.comparison!.pValue}`);
  assert.ok(Math.abs(rel!.comparison!.delta + 0.375) < 1e-12);
  assert.ok(rel!.comparison!.ciUpper < 0 && rel!.comparison!.ciLower < rel!.comparison!.delta);
  assert.match(rel!.message, /dropped 0\.3750 vs base .* more than max_drop 0\.01, significant \(p = /);
  // Even queries: i % 4 === 0 hit at 1, i % 4 === 2 at rank 2: hit@1 = 0.5 < 0.9. Judged@1: 10 of 40 top documents judged.
  assert.equal(abs!.status, 'failed');
  assert.equal(abs!.message, 'segment even hit@1 = 0.5000 < min 0.9');
  assert.equal(judged!.status, 'failed');
  assert.equal(judged!.message, 'overall Judged@1 = 0.2500 < min 0.5');
  assert.deepEqual(
    applyGates(base, null, config).map((o) => o.status),
    ['skipped', 'passed', 'passed'],
  );

  const [relNoisy] = applyGates(noisy, base, config);
  assert.equal(relNoisy!.status, 'passed', 'one query of 40 is not a significant drop, even beyond max_drop');
  assert.ok(relNoisy!.comparison!.pValue >= 0.05);
  assert.match(relNoisy!.message, /more than max_drop 0\.01 but not significant/);

  const [skipped] = applyGates(worse, null, config);
  assert.equal(skipped!.status, 'skipped');
  const [self] = applyGates(base, base, config);
  assert.equal(self!.status, 'skipped');
});

function reportOf(
  candidate: VersionEvaluation,
  baseline: VersionEvaluation | null,
  gatesJson: unknown,
): EvaluationOutcome {
  const config = parseGates(JSON.stringify(gatesJson), 'evals/gates.json');
  const outcomes = applyGates(candidate, baseline, config);
  return {
    candidate,
    baseline,
    comparisons: baseline ? compareEvaluations(candidate, baseline, { resamples: 1000, permutations: 1000 }) : [],
    outcomes,
    gatesSource: config.source,
    alpha: config.alpha,
    gated: true,
    passed: outcomes.every((o) => o.status !== 'failed'),
    runId: 7,
    createdAt: new Date('2024-06-01T12:00:00Z'),
  };
}

test('JUnit XML is well-formed, escapes names and messages, one test case per gate', () => {
  const base = fakeEvaluation('base', 1, () => 1);
  const worse = fakeEvaluation('worse', 2, (i) => (i % 4 === 0 ? 1 : 0.5));
  const r = reportOf(worse, base, {
    gates: [
      { name: 'MRR <no> "drop" & \'more\'', metric: 'MRR', max_drop: 0.01 },
      { name: 'even hit@1 ]]> \u0001', metric: 'hit@1', segment: 'even', min: 0.1 },
      { metric: 'Judged@1', min: 0.5 },
    ],
  });
  const xml = renderJUnit(r);
  assert.deepEqual(xmlProblems(xml), []);
  assert.equal((xml.match(/<testcase /g) ?? []).length, 3);
  assert.equal((xml.match(/<failure /g) ?? []).length, 2);
  assert.match(xml, /<testsuites name="embctl evaluate" tests="3" failures="2" errors="0" skipped="0"/);
  assert.match(xml, /name="MRR &lt;no&gt; &quot;drop&quot; &amp; &apos;more&apos;"/);
  assert.ok(!xml.includes('\u0001'));
  assert.match(
    xml,
    /<failure message="overall MRR dropped 0\.3750 vs worse|<failure message="overall MRR dropped 0\.3750 vs base/,
  );

  // A report that escapes badly would not parse: the checker catches it.
  assert.notDeepEqual(xmlProblems(xml.replace('&amp;', '&')), []);
  // No gates: still one (passing) test case.
  const none = renderJUnit({ ...r, outcomes: [], passed: null });
  assert.deepEqual(xmlProblems(none), []);
  assert.match(none, /tests="1" failures="0"/);
});

test('Markdown and terminal reports show the metrics table, the gates and the decision rule', () => {
  const base = fakeEvaluation('base', 1, () => 1);
  const worse = fakeEvaluation('worse', 2, (i) => (i % 4 === 0 ? 1 : 0.5));
  const r = reportOf(worse, base, {
    gates: [
      { metric: 'MRR', max_drop: 0.01 },
      { metric: 'hit@1', segment: 'even', min: 0.1, name: 'a | b' },
    ],
  });
  const md = renderMarkdown(r);
  assert.match(md, /^# embctl evaluation: `worse` on t$/m);
  assert.match(md, /\*\*❌ FAILED: 1 of 2 gate\(s\) failed\*\*/);
  assert.match(md, /^\| Metric \| all \(40\) \| even \(20\) \| odd \(20\) \|$/m);
  assert.match(md, /^\| MRR \| 0\.6250 \(-0\.3750\) \| 0\.7500 \(-0\.2500\) \| 0\.5000 \(-0\.5000\) \|$/m);
  assert.match(
    md,
    /^\| ❌ FAIL \| overall MRR drop <= 0\.01 vs baseline \| all \| MRR \| 0\.6250 \| drop ≤ 0\.01 \(α 0\.05\) \| -0\.3750 \|/m,
  );
  assert.match(md, /\| ✅ pass \| a \\\| b \| even \|/);
  assert.ok(md.includes(decisionRule(0.05)));
  assert.match(md, /## Candidate vs baseline/);

  const text = renderTable(r);
  assert.match(text, /^METRIC +all \(40\) +even \(20\) +odd \(20\)$/m);
  assert.match(text, /^FAILED +overall MRR drop <= 0\.01 vs baseline +0\.6250 +drop <= 0\.01 +-0\.3750 /m);
  assert.match(text, /FAILED: 1 of 2 gate\(s\) failed/);
});

test('an exported run reads back as the same run and scores the same', () => {
  const e = fakeEvaluation('v', 1, (i) => [1, 0.5, 1 / 3, 0][i % 4]!);
  const text = formatTrecRun(e.run, 'embctl-v');
  assert.match(text.split('\n')[0]!, /^q00 Q0 d0 1 10\.0 embctl-v$/);
  const back = parseRun(text);
  const set = makeJudgedSetForTest([...e.perQuery].map((q) => [q.id, q.segment, { [`d${Number(q.id.slice(1))}`]: 1 }]));
  const a = evaluateRun(judgedSetQrels(set), e.run, { completeQueries: true, measures: ['MRR'] });
  const b = evaluateRun(judgedSetQrels(set), back, { completeQueries: true, measures: ['MRR'] });
  assert.deepEqual(b.all, a.all);
  assert.equal(a.all.recip_rank, e.overall.values.recip_rank);
});
