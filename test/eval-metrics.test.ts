import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TREC_EVAL_DIR } from './support/data.js';
import { InputError } from '../src/errors.js';
import {
  evaluateRun,
  formatFixed,
  parseQrels,
  parseRun,
  readQrelsFile,
  readRunFile,
  toAlias,
  toTrecName,
  trecOrder,
  type EvaluateOptions,
  type EvaluationResult,
  type Qrels,
  type Run,
} from '../src/trec/index.js';

// trec_eval's own test files, vendored under test/fixtures/trec_eval/ (see its README).
const path = (name: string) => join(TREC_EVAL_DIR, name);

interface Line {
  measure: string;
  qid: string;
  value: string;
}

/** trec_eval output `measure <ws> qid <ws> value`, every line in order. */
async function readTrecOutput(name: string): Promise<Line[]> {
  const out: Line[] = [];
  for (const line of (await readFile(path(name), 'utf8')).split('\n')) {
    const [measure, qid, value] = line.split('\t').map((f) => f.trim());
    if (measure && qid && value !== undefined) out.push({ measure, qid, value });
  }
  return out;
}

/** Our value for one line of trec_eval's output, printed as trec_eval prints it. */
function ours(result: EvaluationResult, l: Line): string | undefined {
  if (l.measure === 'num_q') return String(result.numQueries);
  if (l.measure.startsWith('relstring')) return `'${result.text.get(l.qid)?.[l.measure] ?? ''}'`;
  const v = l.qid === 'all' ? result.all[l.measure] : result.perQuery.get(l.qid)?.[l.measure];
  if (v === undefined) return undefined;
  const long = ['num_ret', 'num_rel', 'num_rel_ret', 'num_nonrel_judged_ret'].includes(l.measure);
  return long ? String(Math.trunc(v)) : formatFixed(v, 4);
}

const cases: { out: string; qrels: string; run: string; options: EvaluateOptions; lines: number }[] = [
  { out: 'out.test.aq', qrels: 'qrels.test', run: 'results.test', options: { measures: ['all_trec'] }, lines: 387 },
  {
    out: 'out.test.aqc',
    qrels: 'qrels.test',
    run: 'results.trunc',
    options: { measures: ['all_trec'], completeQueries: true },
    lines: 387,
  },
  {
    out: 'out.test.aql',
    qrels: 'qrels.rel_level',
    run: 'results.test',
    options: { measures: ['all_trec', 'relstring.20'], relevanceLevel: 2 },
    lines: 387,
  },
  { out: 'out.test', qrels: 'qrels.test', run: 'results.test', options: { measures: ['official'] }, lines: 30 },
  { out: 'out.test.a', qrels: 'qrels.test', run: 'results.test', options: { measures: ['all_trec'] }, lines: 99 },
];

for (const c of cases) {
  test(`every value of trec_eval's ${c.out} (per query and all) is equal, to 4 decimals`, async () => {
    const expected = await readTrecOutput(c.out);
    assert.equal(expected.length, c.lines);
    const result = evaluateRun(await readQrelsFile(path(c.qrels)), await readRunFile(path(c.run)), c.options);
    assert.deepEqual([...result.perQuery.keys()], ['301', '302', '303']);
    let checked = 0;
    for (const l of expected) {
      if (l.measure === 'runid') continue; // the run file's id: checked by the CLI test
      assert.equal(ours(result, l), l.value, `${c.out}: ${l.measure} ${l.qid}`);
      checked++;
    }
    assert.equal(checked, c.lines - 1);
    // The same measures as trec_eval prints, in the same order, per query and in the summary.
    const names = (qid: string) => expected.filter((l) => l.qid === qid).map((l) => l.measure);
    assert.deepEqual(
      result.columns.filter((col) => col.summary).map((col) => col.name),
      names('all'),
    );
    if (names('301').length)
      assert.deepEqual(
        result.columns.filter((col) => col.perQuery).map((col) => col.name),
        names('301'),
      );
  });
}

test('all_trec: 97 numeric values, relstring, runid and num_q', async () => {
  const result = evaluateRun(await readQrelsFile(path('qrels.test')), await readRunFile(path('results.test')), {
    measures: ['all_trec'],
  });
  assert.equal(result.columns.length, 100, 'runid, num_q, relstring and 97 numeric values');
  assert.equal(result.measures.length, 97);
  assert.deepEqual(
    result.columns.filter((c) => !c.perQuery).map((c) => c.name),
    ['runid', 'num_q', 'gm_map', 'gm_bpref'],
  );
  assert.deepEqual(
    result.columns.filter((c) => !c.summary).map((c) => c.name),
    ['relstring'],
  );
});

test('without -c a query missing from the run is left out of the average', async () => {
  const qrels = await readQrelsFile(path('qrels.test'));
  const run = await readRunFile(path('results.trunc'));
  const partial = evaluateRun(qrels, run, { measures: ['map'] });
  const complete = evaluateRun(qrels, run, { measures: ['map'], completeQueries: true });
  assert.deepEqual([...partial.perQuery.keys()], ['301', '303']);
  assert.equal(partial.numQueries, 2);
  assert.equal(complete.perQuery.get('302')!.map, 0);
  assert.equal(complete.perQuery.get('302')!.num_ret, 0);
  assert.ok(Math.abs(partial.all.map! * 2 - complete.all.map! * 3) < 1e-12);
});

test('judged_K equals 1 - unj_K of trec_eval when 500 documents are retrieved', async () => {
  // trec_eval's unj_K counts documents absent from the qrels or with a negative grade.
  const result = evaluateRun(await readQrelsFile(path('qrels.test')), await readRunFile(path('results.test')), {
    measures: ['Judged@5', 'Judged@10', 'Judged@20'],
  });
  const expected = new Map([
    ['301', [0, 0, 0.1]],
    ['302', [0, 0, 0]],
    ['303', [0, 0, 0]],
  ]);
  for (const [qid, unj] of expected) {
    const v = result.perQuery.get(qid)!;
    assert.deepEqual(
      [v.judged_5, v.judged_10, v.judged_20].map((x) => x!.toFixed(4)),
      unj.map((u) => (1 - u).toFixed(4)),
    );
  }
});

test('judged_K on a hand-made case: share of the top K with a judgment, over K', () => {
  const qrels: Qrels = new Map([
    [
      'q',
      new Map([
        ['a', 1],
        ['b', 0],
        ['c', -1],
        ['z', 2],
      ]),
    ],
  ]);
  // Order by score: a (judged), x (not in qrels), b (judged 0), c (negative = unjudged).
  const run: Run = new Map([
    [
      'q',
      [
        { docno: 'c', score: 0.1 },
        { docno: 'x', score: 0.9 },
        { docno: 'a', score: 1 },
        { docno: 'b', score: 0.5 },
      ],
    ],
  ]);
  const r = evaluateRun(qrels, run, { measures: ['judged_1', 'judged_2', 'judged_3', 'judged_4', 'Judged@10'] });
  const v = r.perQuery.get('q')!;
  assert.equal(v.judged_1, 1);
  assert.equal(v.judged_2, 0.5);
  assert.equal(v.judged_3, 2 / 3);
  assert.equal(v.judged_4, 0.5);
  assert.equal(v.judged_10, 0.2, 'fewer than K retrieved: the missing ranks count as not judged');
});

test('ties are broken by docno in reverse string order, the given order and ranks ignored', () => {
  const ranked = trecOrder([
    { docno: 'A', score: 1 },
    { docno: 'C', score: 1 },
    { docno: 'B', score: 2 },
    { docno: 'D', score: 1 },
  ]);
  assert.deepEqual(
    ranked.map((d) => d.docno),
    ['B', 'D', 'C', 'A'],
  );
  const run = parseRun('q Q0 A 1 1.0 r\nq Q0 C 2 1.0 r\n');
  const qrels = parseQrels('q 0 A 1\n');
  assert.equal(evaluateRun(qrels, run, { measures: ['MRR'] }).perQuery.get('q')!.recip_rank, 0.5);
});

test('nDCG uses grades as gains, ignores -l, and negative grades count 0', () => {
  const qrels: Qrels = new Map([
    [
      'q',
      new Map([
        ['a', 3],
        ['b', 1],
        ['n', -1],
      ]),
    ],
  ]);
  const run: Run = new Map([
    [
      'q',
      [
        { docno: 'n', score: 3 },
        { docno: 'b', score: 2 },
        { docno: 'a', score: 1 },
      ],
    ],
  ]);
  const dcg = 1 / Math.log2(3) + 3 / Math.log2(4);
  const ideal = 3 + 1 / Math.log2(3);
  for (const relevanceLevel of [1, 2, 3]) {
    const v = evaluateRun(qrels, run, { relevanceLevel, measures: ['ndcg', 'nDCG@2'] }).perQuery.get('q')!;
    assert.ok(Math.abs(v.ndcg! - dcg / ideal) < 1e-12);
    assert.ok(Math.abs(v.ndcg_cut_2! - 1 / Math.log2(3) / ideal) < 1e-12);
  }
  const binary = evaluateRun(qrels, run, { relevanceLevel: 2, measures: ['P@3', 'R@3'] }).perQuery.get('q')!;
  assert.equal(binary.num_rel, 1);
  assert.equal(binary.P_3, 1 / 3);
  assert.equal(binary.recall_3, 1);
});

test('queries in the run but not in the qrels are ignored', () => {
  const qrels: Qrels = new Map([['q1', new Map([['a', 1]])]]);
  const run: Run = new Map([
    ['q1', [{ docno: 'a', score: 1 }]],
    ['q9', [{ docno: 'a', score: 1 }]],
  ]);
  const r = evaluateRun(qrels, run, { measures: ['MAP'] });
  assert.deepEqual([...r.perQuery.keys()], ['q1']);
  assert.equal(r.all.map, 1);
});

test('aliases map to trec names and back', () => {
  const pairs: [string, string][] = [
    ['P@10', 'P_10'],
    ['R@100', 'recall_100'],
    ['nDCG@10', 'ndcg_cut_10'],
    ['MRR', 'recip_rank'],
    ['MAP', 'map'],
    ['hit@5', 'success_5'],
    ['Judged@20', 'judged_20'],
    ['MAP@10', 'map_cut_10'],
    ['R-prec', 'Rprec'],
    ['RBP', 'rbp'],
    ['RBP@0.8', 'rbp_p=0.8'],
  ];
  for (const [alias, trec] of pairs) {
    assert.equal(toTrecName(alias), trec);
    assert.equal(toTrecName(trec), trec);
    assert.equal(toAlias(trec), alias);
  }
  assert.equal(toAlias('ndcg'), 'ndcg');
  // trec_eval names without a common alias pass through both ways.
  for (const name of [
    'bpref',
    'infAP',
    'gm_map',
    'iprec_at_recall_0.10',
    'Rprec_mult_1.20',
    'utility',
    'set_F',
    'unj_5',
    'relative_P_20',
    'rbp_resid',
  ]) {
    assert.equal(toTrecName(name), name);
    assert.equal(toAlias(name), name);
  }
  // Aliases are case-insensitive and normalised; a parameterised value keeps its text.
  assert.equal(toTrecName('r-PREC'), 'Rprec');
  assert.equal(toTrecName('rbp@0.80'), 'rbp_p=0.8');
  assert.equal(toTrecName('iprec_at_recall_0.1'), 'iprec_at_recall_0.10');
  assert.equal(toTrecName('ndcg_1=3,2=9'), 'ndcg_1=3,2=9');
  assert.equal(toAlias('rbp_p=0.80'), 'rbp_p=0.80', 'only the normalised form has the alias');
  for (const bad of ['nDCG@0', 'RBP@2', 'P_0', 'bpref_5', 'prefs_simp', 'Rprec_mult_x'])
    assert.throws(() => toTrecName(bad), InputError, bad);
  assert.throws(
    () => evaluateRun(new Map(), new Map(), { measures: ['P@10', 'foo', 'bar@3'] }),
    (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.details.length, 2);
      return true;
    },
  );
});

test('default measures follow trec_eval cutoffs; custom cutoffs apply to every family', () => {
  const qrels: Qrels = new Map([['q', new Map([['a', 1]])]]);
  const run: Run = new Map([['q', [{ docno: 'a', score: 1 }]]]);
  const d = evaluateRun(qrels, run);
  for (const m of ['P_1000', 'recall_15', 'ndcg_cut_200', 'success_1', 'success_10', 'judged_20', 'map', 'ndcg']) {
    assert.ok(d.measures.includes(m), m);
  }
  const c = evaluateRun(qrels, run, { cutoffs: [3] });
  assert.deepEqual(
    c.measures,
    [
      'num_ret',
      'num_rel',
      'num_rel_ret',
      'map',
      'recip_rank',
      'P_3',
      'recall_3',
      'ndcg',
      'ndcg_cut_3',
      'success_3',
      'judged_3',
    ],
    "in trec_eval's order, judged last",
  );
  assert.throws(() => evaluateRun(qrels, run, { cutoffs: [0, 2.5] }), InputError);
});

test('qrels parse errors name every bad line at once', () => {
  const text = ['1 0 d1 1', '1 0 d2', '', '# comment', '2 0 d1 x', '1 0 d1 0', '2 0 d3 1 extra'].join('\n');
  assert.throws(
    () => parseQrels(text, { source: 'q.txt' }),
    (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.deepEqual(e.details, [
        'q.txt:2: expected 4 fields "qid iter docno rel", found 3',
        'q.txt:5: relevance "x" is not an integer',
        'q.txt:6: duplicate judgment for query "1", document "d1"',
        'q.txt:7: expected 4 fields "qid iter docno rel", found 5',
      ]);
      assert.match(e.message, /4 problems/);
      return true;
    },
  );
});

test('run parse errors name every bad line at once; fields after run_id are ignored', () => {
  const good = parseRun('1 Q0 d1 1 2.5 run junk after\r\n1 Q0 d2 2 -1e3 run\n');
  assert.deepEqual(good.get('1'), [
    { docno: 'd1', score: 2.5 },
    { docno: 'd2', score: -1000 },
  ]);
  const text = ['1 Q0 d1 1 2.5 run', '1 Q0 d2 2', '1 Q0 d3 3 abc run', '1 Q0 d1 4 1.0 run', '2 Q0 d1 1 NaN run'].join(
    '\n',
  );
  assert.throws(
    () => parseRun(text, { source: 'run.txt' }),
    (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.deepEqual(e.details, [
        'run.txt:2: expected 6 fields "qid iter docno rank score run_id", found 4',
        'run.txt:3: score "abc" is not a finite number',
        'run.txt:4: document "d1" retrieved twice for query "1"',
        'run.txt:5: score "NaN" is not a finite number',
      ]);
      return true;
    },
  );
});

test('in-memory runs are checked too, and a missing file is an InputError', async () => {
  const qrels: Qrels = new Map([['q', new Map([['a', 1]])]]);
  const run: Run = new Map([
    [
      'q',
      [
        { docno: 'a', score: Number.NaN },
        { docno: 'a', score: 1 },
      ],
    ],
  ]);
  assert.throws(
    () => evaluateRun(qrels, run),
    (e: unknown) => e instanceof InputError && e.details.length === 2,
  );
  await assert.rejects(readRunFile(path('no-such-run')), InputError);
});
