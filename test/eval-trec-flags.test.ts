import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../src/errors.js';
import {
  evaluateRun,
  formatFixed,
  formatTrecValue,
  parseQrels,
  parseRun,
  type EvaluateOptions,
} from '../src/trec/index.js';

/*
 * trec_eval's own outputs do not cover -J, -M, parameters or the -c quirks,
 * so the expected values here are derived by hand from its C source
 * (usnistgov/trec_eval f4253652: form_res_rels.c, m_*.c, trec_eval.c), on
 * cases small enough to follow. Values are compared as trec_eval prints them.
 */

const f4 = (x: number | undefined) => formatFixed(x ?? Number.NaN, 4);

// Case A, binary. Qrels: d1, d3, d6 relevant; d2, d5 judged non-relevant; d4 pooled but unjudged (-1).
// Run by score: x1 (not in qrels), d2, d4, d1, x2 (not in qrels), d3, d5.
// trec_eval's relevance list (form_res_rels.c): [-1, 0, -2, 1, -1, 1, 0]; num_rel = 3, num_ret = 7.
// With -J the unjudged x1, d4, x2 are removed first: [0, 1, 1, 0], num_ret = 4.
const qrelsA = parseQrels(['q 0 d1 1', 'q 0 d2 0', 'q 0 d3 1', 'q 0 d4 -1', 'q 0 d5 0', 'q 0 d6 1'].join('\n'));
const runA = parseRun(
  ['x1 0.9', 'd2 0.8', 'd4 0.7', 'd1 0.6', 'x2 0.5', 'd3 0.4', 'd5 0.3']
    .map((l, i) => `q Q0 ${l.split(' ')[0]} ${i + 1} ${l.split(' ')[1]} r`)
    .join('\n'),
);
const MEASURES = [
  'num_ret',
  'num_rel_ret',
  'num_nonrel_judged_ret',
  'map',
  'Rprec',
  'bpref',
  'infAP',
  'recip_rank',
  'P_5',
  'unj_5',
  'rbp_resid',
  'relstring',
];

function scoreA(options: EvaluateOptions) {
  const r = evaluateRun(qrelsA, runA, { measures: MEASURES, ...options });
  const v = r.perQuery.get('q')!;
  return { v, relstring: r.text.get('q')!.relstring, f: (m: string) => f4(v[m]) };
}

test('-J: unjudged results are removed before ranking (hand-derived from form_res_rels.c and m_*.c)', () => {
  const plain = scoreA({});
  // map: relevant at ranks 4 and 6: (1/4 + 2/6) / 3.  -J: ranks 2 and 3: (1/2 + 2/3) / 3.
  assert.equal(plain.f('map'), '0.1944');
  const judged = scoreA({ judgedOnly: true });
  assert.equal(judged.f('map'), '0.3889');
  assert.equal(judged.v.num_ret, 4);
  assert.equal(judged.v.num_rel_ret, 2);
  // num_nonrel_judged_ret = ret - unpooled - unjudged - rel_ret: 7 - 2 - 1 - 2 = 2; with -J 4 - 0 - 0 - 2 = 2.
  assert.equal(plain.v.num_nonrel_judged_ret, 2);
  assert.equal(judged.v.num_nonrel_judged_ret, 2);
  // bpref skips unjudged results anyway: num_nonrel = 2; each relevant has 1 judged non-relevant above:
  // (1 - min(1,3)/min(2,3)) * 2 / 3 = 1/3, with and without -J.
  assert.equal(plain.f('bpref'), '0.3333');
  assert.equal(judged.f('bpref'), '0.3333');
  // infAP (m_infap.c), eps = 0.00001. Without -J: at j=3 (1 non-rel, 1 pooled-unjudged above):
  // 1/4 + 3/4 * (2/3) * (eps / (1 + 2 eps)) = 0.2500050; at j=5: 1/6 + 5/6 * (3/5) * ((1 + eps) / (2 + 2 eps)) = 5/12.
  // (0.2500050 + 0.4166667) / 3 = 0.222224.  With -J: j=1: 1/2 + 1/2 * 1 * eps/(1 + 2 eps); j=2: 1/3 + 2/3 * 1 * 1/2;
  // (0.5000050 + 0.6666667) / 3 = 0.388890.
  assert.equal(plain.f('infAP'), '0.2222');
  assert.equal(judged.f('infAP'), '0.3889');
  // Rprec: top 3 = [-1, 0, -2] -> 0; with -J [0, 1, 1] -> 2/3. recip_rank: 1/4; with -J 1/2.
  assert.equal(plain.f('Rprec'), '0.0000');
  assert.equal(judged.f('Rprec'), '0.6667');
  assert.equal(plain.f('recip_rank'), '0.2500');
  assert.equal(judged.f('recip_rank'), '0.5000');
  // P_5: 1 relevant in [-1, 0, -2, 1, -1]; with -J 2 in [0, 1, 1, 0] (the 5th rank counts as non-relevant).
  assert.equal(plain.f('P_5'), '0.2000');
  assert.equal(judged.f('P_5'), '0.4000');
  // unj_5: 3 of the first 5 are unpooled or unjudged; with -J none.
  assert.equal(plain.f('unj_5'), '0.6000');
  assert.equal(judged.f('unj_5'), '0.0000');
  // rbp_resid, p = 0.9: unjudged at ranks 1, 3, 5: 0.9^7 + 0.1 * (1 + 0.81 + 0.6561) = 0.7249; with -J none -> 0.
  assert.equal(plain.f('rbp_resid'), '0.7249');
  assert.equal(judged.f('rbp_resid'), '0.0000');
  // relstring: '-' not in the qrels, '.' pooled but unjudged.
  assert.equal(plain.relstring, '-0.1-10');
  assert.equal(judged.relstring, '0110');
});

test('-M N: only the first N results (after ordering) are scored (hand-derived)', () => {
  const m3 = scoreA({ maxRetrieved: 3 });
  // [-1, 0, -2]: nothing relevant; unj_5 = 2/5 (ranks 4 and 5 count as judged non-relevant);
  // rbp_resid = 0.9^3 + 0.1 * (1 + 0.81) = 0.91.
  assert.deepEqual(
    [m3.v.num_ret, m3.v.num_rel_ret, m3.f('map'), m3.f('unj_5'), m3.f('rbp_resid'), m3.relstring],
    [3, 0, '0.0000', '0.4000', '0.9100', '-0.'],
  );
  const m4 = scoreA({ maxRetrieved: 4 });
  // [-1, 0, -2, 1]: map (1/4) / 3; bpref (1 - 1/2) / 3; P_5 1/5.
  assert.deepEqual([m4.v.num_ret, m4.f('map'), m4.f('bpref'), m4.f('P_5')], [4, '0.0833', '0.1667', '0.2000']);
  assert.throws(() => evaluateRun(qrelsA, runA, { maxRetrieved: 0 }), InputError);
  // -M and -J together: the first 4 are [-1, 0, -2, 1], of which the judged are [0, 1].
  const both = scoreA({ maxRetrieved: 4, judgedOnly: true });
  assert.deepEqual([both.v.num_ret, both.f('map'), both.relstring], [2, '0.1667', '01']);
});

// Case G, graded 0-3: a=2, b=1, c=0, d=3, e=-1 (pooled, unjudged). Run: a, x (not in qrels), b, e, d, c.
// Relevance list: [2, -1, 1, -2, 3, 0]. With -l2 relevant = {a, d}: num_rel 2, judged non-relevant {b, c}.
const qrelsG = parseQrels(['g 0 a 2', 'g 0 b 1', 'g 0 c 0', 'g 0 d 3', 'g 0 e -1'].join('\n'));
const runG = parseRun(
  ['g Q0 a 1 0.9 r', 'g Q0 x 2 0.8 r', 'g Q0 b 3 0.7 r', 'g Q0 e 4 0.6 r', 'g Q0 d 5 0.5 r', 'g Q0 c 6 0.4 r'].join(
    '\n',
  ),
);

test('-J with -l2 on graded qrels: map, bpref, infAP, ndcg (hand-derived)', () => {
  const score = (judgedOnly: boolean) =>
    evaluateRun(qrelsG, runG, {
      measures: ['map', 'bpref', 'infAP', 'ndcg', 'P_2'],
      relevanceLevel: 2,
      judgedOnly,
    }).perQuery.get('g')!;
  const plain = score(false);
  const judged = score(true);
  // map: relevant at ranks 1 and 5 -> (1 + 2/5) / 2 = 0.7; -J ([2, 1, 3, 0]) ranks 1 and 3 -> (1 + 2/3) / 2.
  assert.equal(f4(plain.map), '0.7000');
  assert.equal(f4(judged.map), '0.8333');
  // bpref: a (none above) +1; d: 1 judged non-relevant (b) above: 1 - 1/min(2, 2) = 0.5 -> 1.5 / 2, either way.
  assert.equal(f4(plain.bpref), '0.7500');
  assert.equal(f4(judged.bpref), '0.7500');
  // infAP: a at j=0 -> 1; d at j=4 (1 non-rel, 1 pooled-unjudged above): 1/5 + 4/5 * 3/4 * (1+eps)/(2+2eps) = 0.5
  // -> 0.75. -J: d at j=2: 1/3 + 2/3 * 1 * 1/2 = 2/3 -> (1 + 2/3) / 2, = AP as judgments are then complete.
  assert.equal(f4(plain.infAP), '0.7500');
  assert.equal(f4(judged.infAP), '0.8333');
  // ndcg ignores -l: gains are the grades. Ideal 3 + 2/log2(3) + 1/log2(4) = 4.76186.
  // Run: 2 + 1/log2(4) + 3/log2(6) = 3.66055 -> 0.7687; -J: 2 + 1/log2(3) + 3/log2(4) = 4.13093 -> 0.8675.
  assert.equal(f4(plain.ndcg), '0.7687');
  assert.equal(f4(judged.ndcg), '0.8675');
  assert.equal(f4(plain.P_2), '0.5000');
  assert.equal(f4(judged.P_2), '0.5000');
});

test("-c: a missing query is trec_eval's one-unjudged-document ranking, then the named values reset", () => {
  const qrels = parseQrels(['q1 0 a 2', 'q1 0 b 1', 'q2 0 c 3', 'q2 0 d 1', 'q2 0 e 0'].join('\n'));
  const run = parseRun('q1 Q0 a 1 1.0 r\nq1 Q0 z 2 0.5 r\n');
  const measures = ['num_ret', 'num_rel', 'utility', 'unj_5', 'rbp_resid', 'relstring', 'relstring_20', 'P_5', 'map'];
  const r = evaluateRun(qrels, run, { measures, completeQueries: true, relevanceLevel: 2 });
  const q2 = r.perQuery.get('q2')!;
  // trec_eval.c resets num_ret, utility, unj* and rbp_resid (and clears the "relstring" string) after
  // scoring the bogus ranking; without the reset they would be 1, -1, 0.2 and 1.0.
  assert.deepEqual([q2.num_ret, q2.utility, q2.unj_5, q2.rbp_resid, q2.P_5, q2.map], [0, 0, 0, 0, 0, 0]);
  assert.equal(r.text.get('q2')!.relstring, '');
  // It matches by exact name, so relstring_20 is not cleared: it shows the bogus document, not in the qrels.
  assert.equal(r.text.get('q2')!.relstring_20, '-');
  // num_rel per query follows -l2 (q2: c), but with -c the total counts every grade > 0 in the qrels (a, b, c, d).
  assert.equal(q2.num_rel, 1);
  assert.equal(r.all.num_rel, 4);
  const without = evaluateRun(qrels, run, { measures, relevanceLevel: 2 });
  assert.deepEqual([...without.perQuery.keys()], ['q1']);
  assert.equal(without.all.num_rel, 1);
  // A query with an empty result list (possible in memory, not in a run file) is a missing query.
  const empty = evaluateRun(qrels, new Map([...run, ['q2', []]]), {
    measures,
    completeQueries: true,
    relevanceLevel: 2,
  });
  assert.deepEqual(empty.perQuery.get('q2'), q2);
});

test('-J leaving no result: trec_eval divides 0 by 0 in iprec_at_recall and 11pt_avg, and prints -nan', () => {
  const qrels = parseQrels('q 0 a 1\n');
  const run = parseRun('q Q0 x 1 1.0 r\n');
  const v = evaluateRun(qrels, run, {
    measures: ['iprec_at_recall', '11pt_avg', 'map', 'Rprec_mult'],
    judgedOnly: true,
  }).perQuery.get('q')!;
  // num_rel = 1: recall points 0.0-0.4 round to 0 relevant documents and take int_precis = 0/0; 0.5-1.0 round to 1 > num_rel_ret.
  assert.ok(Number.isNaN(v['iprec_at_recall_0.00']!) && Number.isNaN(v['iprec_at_recall_0.40']!));
  assert.equal(v['iprec_at_recall_0.50'], 0);
  assert.equal(formatTrecValue(v['11pt_avg']!), '  -nan');
  assert.equal(v.map, 0);
  assert.equal(v['Rprec_mult_1.00'], 0);
});

test('a grade too large to count levels up to is refused, with where it is', () => {
  // trec_eval counts judged documents per grade from 0 up to the largest grade (form_res_rels.c).
  const qrels = parseQrels('q 0 a 1\nq 0 b 2000000\n');
  assert.throws(
    () => evaluateRun(qrels, parseRun('q Q0 a 1 1 r\n')),
    (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.deepEqual(e.details, ['query "q", document "b": grade 2000000']);
      return true;
    },
  );
});

test("printf rounding: ties to even on the exact binary value, as glibc prints trec_eval's numbers", () => {
  // 0.03125 = 1/32 is exact: a tie. trec_eval prints iprec_at_recall_0.80 all = 0.0312 on its test files.
  assert.equal(formatFixed(0.03125, 4), '0.0312');
  assert.equal(formatFixed(0.09375, 4), '0.0938');
  assert.equal(formatFixed(-0.03125, 4), '-0.0312');
  assert.equal(formatFixed(0.00005, 4), '0.0001', '0.00005 is stored a little above 0.00005');
  assert.equal(formatFixed(-412.6666666666667, 4), '-412.6667');
  assert.equal(formatFixed(0.125, 2), '0.12');
  assert.equal(formatFixed(2.5, 0), '2');
  assert.equal(formatFixed(1e21, 1), '1000000000000000000000.0');
  assert.equal(formatTrecValue(0), '0.0000');
  assert.equal(formatTrecValue(Number.NaN), '  -nan');
});

test('parameters: -m family.params as trec_eval takes them (hand-derived on case A)', () => {
  const r = evaluateRun(qrelsA, runA, {
    measures: [
      'utility.2,-1,0,0',
      'set_F.0.5',
      'rbp.p=0.5',
      'iprec_at_recall.0.25',
      '11pt_avg.0.2,0.5,0.8',
      'P.10,5',
      'binG',
      'relative_P.5',
      'success.1,5',
    ],
  });
  // Printed in trec_eval's order whatever the order of the -m flags; cutoffs ascending.
  assert.deepEqual(
    r.columns.map((c) => c.name),
    [
      'iprec_at_recall_0.25',
      'P_5',
      'P_10',
      'utility_2,-1,0,0',
      '11pt_avg_0.2,0.5,0.8',
      'binG',
      'relative_P_5',
      'success_1',
      'success_5',
      'set_F_0.5',
      'rbp_p=0.5',
    ],
  );
  const v = r.perQuery.get('q')!;
  // utility = 2 * rel_ret - 1 * nonrel_ret = 2*2 - (7-2) = -1.
  assert.equal(v['utility_2,-1,0,0'], -1);
  // set_F, x = 0.5: P = 2/7, R = 2/3: 1.5 P R / (0.5 P + R) = 6/17.
  assert.equal(f4(v['set_F_0.5']), '0.3529');
  // rbp, p = 0.5: relevant at ranks 4 and 6: 0.5 * (0.5^3 + 0.5^5) = 0.078125.
  assert.equal(v['rbp_p=0.5'], 0.078125);
  // recall 0.25 of 3 relevant rounds to 1 relevant document: best precision from then on = 2/6.
  assert.equal(f4(v['iprec_at_recall_0.25']), '0.3333');
  // 3-point average: 0.2, 0.5, 0.8 of 3 round to 1, 2, 2 relevant documents: 1/3 at each.
  assert.equal(f4(v['11pt_avg_0.2,0.5,0.8']), '0.3333');
  // binG: 1/log2(2 + 2 non-relevant above d1) + 1/log2(2 + 3 above d3), over 3 -> 0.2725.
  assert.equal(f4(v.binG), '0.2725');
  // relative_P_5: 1 relevant in the top 5, over min(5, num_rel = 3).
  assert.equal(f4(v.relative_P_5), '0.3333');
  assert.deepEqual([v.success_1, v.success_5], [0, 1]);
});

test('parameters: level=gain pairs for the gain measures (ndcg.3=10 on case G)', () => {
  const v = evaluateRun(qrelsG, runG, { measures: ['ndcg.3=10'] }).perQuery.get('g')!;
  // Gains 0, 1, 2 and 10 for grade 3. Ideal: 10 + 2/log2(3) + 1/log2(4) = 11.76186.
  // Run [2, -1, 1, -2, 3, 0]: 2 + 1/log2(4) + 10/log2(6) = 6.36853 -> 0.5415.
  assert.equal(f4(v['ndcg_3=10']), '0.5415');
});

test("bad -m arguments are all listed at once; trec_eval's quirks are refused, not guessed", () => {
  assert.throws(
    () =>
      evaluateRun(qrelsA, runA, {
        measures: [
          'P.5,5',
          'P.0',
          'map.5',
          'utility.1,2',
          'rbp.q=1',
          'iprec_at_recall.-1',
          'all_trec.5',
          'prefs',
          'nope',
          'G.1=x',
          'dcg',
        ],
      }),
    (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.details.length, 11, e.details.join('\n'));
      assert.match(e.details[0]!, /two parameters both print as P_5/);
      assert.match(e.details[2]!, /map takes no parameters/);
      assert.match(e.details[7]!, /preference/);
      assert.match(e.details[10]!, /outside -m all_trec/);
      return true;
    },
  );
  // trec_eval takes the first parameters given for a family; value names add cutoffs.
  const r = evaluateRun(qrelsA, runA, { measures: ['P.5', 'P.10', 'P_20', 'P@3'] });
  assert.deepEqual(r.measures, ['P_3', 'P_5', 'P_20']);
  // A set plus one more cutoff: the defaults and the extra cutoff.
  const o = evaluateRun(qrelsA, runA, { measures: ['official', 'P@7'] });
  assert.deepEqual(
    o.measures.filter((m) => m.startsWith('P_')),
    ['P_5', 'P_7', 'P_10', 'P_15', 'P_20', 'P_30', 'P_100', 'P_200', 'P_500', 'P_1000'],
  );
});
