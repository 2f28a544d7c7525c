/**
 * The pure parts of judging: agreement statistics, threshold fitting, label
 * priority, Judged@K coverage, the new gates and the labels file parser.
 * No database: both passes run them identically.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracy, cohensKappa, kendallTau } from '../src/stats/index.js';
import { fitThresholds } from '../src/judge/thresholds.js';
import { parseCsv, csvLine } from '../src/judge/csv.js';
import { parseLabels, formatPool } from '../src/judge/labels-file.js';
import { addJudgments, querySha256, type JudgmentRow } from '../src/judgments/index.js';
import { makeJudgedSet, type JudgedSet } from '../src/judged-set/judged-set.js';
import { coverageOf } from '../src/evaluate/labels.js';
import { applyGates, gatesPassed } from '../src/evaluate/apply-gates.js';
import { cutText, hasLoneSurrogate } from '../src/util/index.js';
import { parseGates } from '../src/evaluate/gates-file.js';
import type { VersionEvaluation } from '../src/evaluate/types.js';
import { InputError } from '../src/errors.js';
import { gradeByThresholds } from '../src/judges/index.js';

test('Cohen kappa: perfect agreement 1, chance agreement 0, quadratic weights by distance (hand-computed)', () => {
  assert.equal(cohensKappa([0, 1, 2, 3], [0, 1, 2, 3], 3), 1);
  assert.equal(cohensKappa([0, 0, 1, 1], [0, 1, 0, 1], 1, 'none'), 0);
  // a = [0,1,2], b = [0,2,1], grades 0..2 (m = 3), weights (i-j)^2/4.
  // observed disagreement: (0 + 1/4 + 1/4) / 3 = 1/6; expected: marginals uniform 1/3 each,
  // sum_ij w_ij / 9 = (2*(1/4)*2 + 2*1) / 9 = (1 + 2) / 9 = 1/3  ->  kappa = 1 - (1/6)/(1/3) = 0.5.
  assert.ok(Math.abs(cohensKappa([0, 1, 2], [0, 2, 1], 2) - 0.5) < 1e-12);
  // Unweighted on the same: po = 2/3 disagree, pe = 6/9 -> 0.
  assert.ok(Math.abs(cohensKappa([0, 1, 2], [0, 2, 1], 2, 'none')) < 1e-12);
  assert.equal(accuracy([0, 1, 2], [0, 2, 1]), 1 / 3);
  assert.throws(() => cohensKappa([1], [1, 2], 3));
});

test('Kendall tau-b: same order 1, reversed -1, ties handled', () => {
  assert.equal(kendallTau([1, 2, 3], [10, 20, 30]), 1);
  assert.equal(kendallTau([1, 2, 3], [3, 2, 1]), -1);
  // x = [1,2,3], y = [1,1,2]: pairs (1,2) tie in y, (1,3) C, (2,3) C -> (2-0)/sqrt(3*2).
  assert.ok(Math.abs(kendallTau([1, 2, 3], [1, 1, 2]) - 2 / Math.sqrt(6)) < 1e-12);
  assert.ok(Number.isNaN(kendallTau([1], [1])));
});

test('fitThresholds: separable scores are cut between the grades (kappa 1); thresholds ascend', () => {
  const scores = [-9, -8, -7, -1, 0, 1, 4, 5, 6, 9, 10, 11];
  const human = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3];
  const t = fitThresholds(scores, human);
  assert.equal(t.length, 3);
  assert.ok(t[0]! < t[1]! && t[1]! < t[2]!);
  const graded = scores.map((s) => gradeByThresholds(s, t));
  assert.deepEqual(graded, human);
  assert.equal(cohensKappa(graded, human, 3), 1);
});

test('fitThresholds: with only grades 1 and 2 it still ascends and beats a bad start', () => {
  const scores = [-5, -4, -3, -2, 2, 3, 4, 5];
  const human = [1, 1, 1, 1, 2, 2, 2, 2];
  const t = fitThresholds(scores, human);
  assert.ok(t[0]! < t[1]! && t[1]! < t[2]!);
  assert.deepEqual(
    scores.map((s) => gradeByThresholds(s, t)),
    human,
  );
});

function set(queries: Array<[string, string, Record<string, number>]>): JudgedSet {
  return makeJudgedSet({
    name: 't',
    description: null,
    keyKind: 'document_id',
    source: 'test',
    queries: queries.map(([id, text, rel]) => ({ id, text, segment: null, relevant: new Map(Object.entries(rel)) })),
  });
}

let nextId = 1;
function row(text: string, key: string, judge: string, grade: number): JudgmentRow {
  return {
    id: nextId++,
    query_sha256: querySha256(text),
    query_text: text,
    key_kind: 'document_id',
    doc_key: key,
    judge,
    judge_spec: judge,
    judge_model: null,
    judge_revision: null,
    judge_settings: {},
    grade,
    raw_score: grade,
    failure: null,
    actor: 't',
    created_at: new Date(),
  };
}

test('label priority: the set, then people, then judges in the order given; unlisted judges do not count', () => {
  const s = set([['q1', 'tents', { a: 2 }]]);
  const rows = [
    row('tents', 'a', 'judge-x', 0), // the set's own label wins
    row('tents', 'b', 'judge-x', 1),
    row('tents', 'b', 'human', 3), // people win over judges
    row('tents', 'c', 'judge-y', 2),
    row('tents', 'c', 'judge-x', 1), // x is preferred over y
    row('tents', 'd', 'judge-z', 3), // z is not accepted
    row('other query', 'a', 'human', 0), // another query's text
  ];
  const l = addJudgments(s, rows, ['judge-x', 'judge-y']);
  const rel = l.set.queries[0]!.relevant;
  assert.deepEqual([...rel].sort(), [
    ['a', 2],
    ['b', 3],
    ['c', 1],
  ]);
  assert.deepEqual(Object.fromEntries(l.sources.get('q1')!), { a: 'judged-set', b: 'human', c: 'judge-x' });
  assert.deepEqual(l.counts, { 'judged-set': 1, human: 1, 'judge-x': 1 });
  // Every judge accepted: the latest judgment of a pair wins among judges.
  const all = addJudgments(s, rows);
  assert.equal(all.set.queries[0]!.relevant.get('c'), 1);
  assert.equal(all.set.queries[0]!.relevant.get('d'), 3);
  assert.equal(s.queries[0]!.relevant.size, 1, 'the named set is not changed');
});

test('coverage: Judged@K before and after, divided by K as trec_eval does, and the share per source', () => {
  const s = set([
    ['q1', 'one', { a: 1 }],
    ['q2', 'two', {}],
  ]);
  const l = addJudgments(s, [row('one', 'b', 'j', 0), row('two', 'c', 'j', 2)]);
  const run = new Map([
    [
      'q1',
      [
        { docno: 'a', score: 3 },
        { docno: 'b', score: 2 },
        { docno: 'x', score: 1 },
      ],
    ],
    ['q2', [{ docno: 'c', score: 1 }]],
  ]);
  const c = coverageOf(run, s, l, 4);
  assert.equal(c.before, (1 / 4 + 0) / 2);
  assert.equal(c.after, (2 / 4 + 1 / 4) / 2);
  assert.deepEqual(c.sources, { 'judged-set': 1 / 4, j: 2 / 4, unjudged: 1 / 4 });
});

function evaluation(key: string, judged10: number): VersionEvaluation {
  const values = { judged_10: judged10, recip_rank: 0.5 };
  return {
    version: { id: key === 'v2' ? 2 : 1, key, encoder: 'hash' },
    judgedSet: { name: 't', sha256: 'x', keyKind: 'document_id', source: 't', queries: 1 },
    ks: [10],
    measures: ['recip_rank', 'judged_10'],
    runDepth: 10,
    overall: { segment: 'all', queries: 1, values },
    segments: [{ segment: '(none)', queries: 1, values }],
    perQuery: [{ id: 'q1', segment: '(none)', values }],
    run: new Map(),
    shortQueries: 0,
    timings: { retrieveMs: 0, scoreMs: 0 },
  };
}

test('min_judged: a blind gate fails and leaves the other gates undecided; enough judged, they decide', () => {
  const g = parseGates(
    JSON.stringify({
      gates: [
        { metric: 'MRR', min: 0.4 },
        { min_judged: 0.8, k: 10 },
      ],
    }),
    'g.json',
  );
  assert.equal(g.gates[1]!.kind, 'min_judged');
  assert.equal(g.gates[1]!.metric, 'judged_10');
  const blind = applyGates(evaluation('v2', 0.16), evaluation('v1', 1), g);
  assert.equal(blind[1]!.status, 'failed');
  assert.match(blind[1]!.message, /too little of the top 10 is judged to decide; judge the pool \(embctl judge/);
  assert.equal(blind[0]!.status, 'skipped');
  assert.match(blind[0]!.message, /^not decided: /);
  assert.equal(gatesPassed(blind), false);
  // The baseline's top K must be judged too.
  assert.equal(applyGates(evaluation('v2', 1), evaluation('v1', 0.5), g)[1]!.status, 'failed');
  const seeing = applyGates(evaluation('v2', 0.9), evaluation('v1', 0.95), g);
  assert.deepEqual(
    seeing.map((o) => o.status),
    ['passed', 'passed'],
  );
});

test('min_kappa: a judge whose labels were used must be calibrated at or above it', () => {
  const g = parseGates(JSON.stringify({ min_kappa: 0.5, gates: [{ metric: 'MRR', min: 0.4 }] }), 'g.json');
  assert.equal(g.minKappa, 0.5);
  const o = applyGates(evaluation('v2', 1), null, g, { kappas: { good: 0.7, weak: 0.2, never: null } });
  assert.deepEqual(
    o.map((x) => [x.kind, x.status]),
    [
      ['min', 'passed'],
      ['min_kappa', 'passed'],
      ['min_kappa', 'failed'],
      ['min_kappa', 'failed'],
    ],
  );
  assert.match(o[3]!.message, /never was|never calibrated|was never calibrated/);
  assert.match(o[3]!.message, /embctl judge calibrate/);
  // No judge used: nothing to check.
  assert.equal(applyGates(evaluation('v2', 1), null, g, { kappas: {} }).length, 1);
});

test('gates file: judges and min_judged fields are checked, every problem at once', () => {
  const bad = JSON.stringify({
    judges: [],
    min_kappa: 2,
    gates: [{ min_judged: 1.5 }, { min_judged: 0.5, metric: 'MRR' }, { metric: 'MRR', min: 0.1, k: 5 }, { min: 0.1 }],
  });
  let err: InputError | undefined;
  try {
    parseGates(bad, 'g.json');
  } catch (e) {
    err = e as InputError;
  }
  assert.ok(err instanceof InputError);
  const d = err.details.join('\n');
  assert.match(d, /judges/);
  assert.match(d, /min_kappa/);
  assert.match(d, /gates\[0\]\.min_judged/);
  assert.match(d, /gates\[1\]\.metric: a min_judged gate takes only "k", "segment" and "name"/);
  assert.match(d, /gates\[2\]\.k: applies to min_judged gates only/);
  assert.match(d, /gates\[3\]: missing "metric"/);
  const ok = parseGates(JSON.stringify({ judges: ['human', 'openai:gpt-4o-mini'], gates: [{ min_judged: 0.5 }] }), 'g');
  assert.deepEqual(ok.judges, ['human', 'openai:gpt-4o-mini']);
  assert.equal(ok.gates[0]!.metric, 'judged_10', 'k defaults to 10');
});

test('labels files: CSV round trip with quotes, commas and line breaks; every bad line reported', () => {
  const fields = ['q, "quoted"', 'line\nbreak', '', 'plain'];
  const [parsed] = parseCsv(csvLine(fields) + '\r\n');
  assert.deepEqual(parsed!.fields, fields);
  const pool = formatPool(
    [{ queryId: 'q1', queryText: 'tents, "light"', querySha256: 'x', key: 'd1', candidateRank: 1, baselineRank: null }],
    'document_id',
    new Map([['d1', 'A tent.\nTwo lines.']]),
    'csv',
  );
  const problems: string[] = [];
  const filled = pool.replace(/,,"A tent/, ',2,"A tent');
  const labels = parseLabels(filled, 'csv', problems);
  assert.deepEqual(problems, []);
  assert.deepEqual(
    labels.map((l) => [l.query, l.key, l.grade, l.keyKind]),
    [['tents, "light"', 'd1', 2, 'document_id']],
  );
  const jsonl = [
    '{"query": "a", "key": "d1", "grade": 4}',
    'not json',
    '{"query": "a", "grade": 1}',
    '{"key": "d1", "grade": 1}',
    '{"query": "a", "key": "d1", "grade": ""}',
    '{"query": "a", "key": "d1", "grade": 1.5, "key_kind": "page"}',
    '{"query": "a", "key": "d2", "grade": "3"}',
  ].join('\n');
  const p2: string[] = [];
  const ok = parseLabels(jsonl, 'jsonl', p2);
  assert.deepEqual(
    ok.map((l) => [l.key, l.grade]),
    [['d2', 3]],
  );
  assert.equal(p2.length, 5);
  assert.match(p2[0]!, /^line 1: grade 4 is not an integer from 0 to 3/);
  assert.match(p2[1]!, /^line 2: not valid JSON/);
  assert.match(p2[2]!, /^line 3: no key/);
  assert.match(p2[3]!, /^line 4: no query text/);
  assert.match(p2[4]!, /^line 6: grade 1.5 .*; key_kind "page" is not document_id or semantic_key/);
});

test('the Markdown report shows Judged@K before and after per version and segment, and each source with its kappa', async () => {
  const { renderMarkdown } = await import('../src/evaluate/render-markdown.js');
  const cov = (before: number, after: number) => ({
    k: 10,
    before,
    after,
    segments: [{ segment: 'invoices', before, after }],
    sources: { 'judged-set': before, 'cross-encoder:x@abc': after - before, unjudged: 1 - after },
  });
  const md = renderMarkdown({
    candidate: evaluation('v2', 1),
    baseline: evaluation('v1', 1),
    comparisons: [],
    outcomes: [],
    gatesSource: null,
    alpha: null,
    gated: false,
    passed: null,
    labels: {
      judges: null,
      counts: {},
      judgedOnly: true,
      coverage: { candidate: cov(0.16, 1), baseline: cov(0.14, 0.9) },
      kappas: { 'cross-encoder:x@abc': 0.3606 },
    },
  });
  assert.match(md, /## Judged coverage/);
  assert.match(md, /\| `v2` \| all \| 0\.160 \| 1\.000 \|/);
  assert.match(md, /\| `v1` \| invoices \| 0\.140 \| 0\.900 \|/);
  assert.match(md, /\| cross-encoder:x@abc \| 84\.0% \| 76\.0% \| 0\.361 \|/);
  assert.match(md, /judged results only \(-J\)/);
  const without = renderMarkdown({
    candidate: evaluation('v2', 1),
    baseline: null,
    comparisons: [],
    outcomes: [],
    gatesSource: null,
    alpha: null,
    gated: false,
    passed: null,
  });
  assert.doesNotMatch(without, /Judged coverage/);
});

test('a passage cut never splits a surrogate pair', () => {
  const s = 'ab\u{1F600}cd'; // a, b, then the two halves of one emoji
  assert.equal(cutText(s, 3), 'ab', 'the cut would end on the high half: one unit earlier');
  assert.equal(cutText(s, 4), 'ab\u{1F600}');
  assert.equal(cutText(s, 2), 'ab');
  assert.equal(cutText(s, 100), s);
  assert.equal(cutText(s, 0), '');
  for (let n = 0; n <= s.length; n++) assert.equal(hasLoneSurrogate(cutText(s, n)), false, `cut at ${n}`);
});
