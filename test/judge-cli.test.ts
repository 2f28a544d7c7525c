/**
 * `embctl judge` with the tiny cross-encoder on a demo-like database (v1
 * active, v2 backfilled, a 9-query subset of the demo judged set), end to
 * end on the command line: the pool it judges is exactly the unlabelled
 * part of the two versions' top 10 (computed here from an independent
 * exact search), once; bad judge specs are refused; `judge calibrate`'s
 * kappa and accuracy match a computation from re-scored pairs; evaluate's
 * coverage, `--judges`, the min_judged and min_kappa gates, and `-J` in
 * version mode against trec mode on the exported run.
 *
 * The tests run in order and build on each other (one database per file).
 */
import { test, before, after } from 'node:test';
import { withOpen } from './support/db.js';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { runCli } from './support/cli.js';
import { createExactRetriever } from './support/exact-retriever.js';
import { CE_SPEC, judgeDemo, type JudgeDemo } from './support/judge-demo.js';
import { loadJudgedSet, type JudgedSet } from '../src/judged-set/index.js';
import { querySha256 } from '../src/judgments/index.js';
import { loadCrossEncoder } from '../src/judges/index.js';
import { requireVersion } from '../src/versions/store.js';
import type { Db } from '../src/db/open.js';

/** The embedded database serves one process at a time: open it only between CLI runs. */
const withDb = <T>(fn: (db: Db) => Promise<T>): Promise<T> => withOpen(() => demo.open(), fn);
import { REPO } from './support/cli.js';

let demo: JudgeDemo;
let set: JudgedSet;
const cli = (args: string[]) => runCli(args, { env: demo.env });
const THRESHOLDS = '-3,0,3';
const FIXED_ID = 'cross-encoder:tiny-cross-encoder@8ff3bfd7aaa7/t=-3,0,3';

before(async () => {
  demo = await judgeDemo({ every: 12 });
  set = await loadJudgedSet(demo.judged);
});
after(async () => {
  await demo?.close();
});

function json(r: { code: number | null; stdout: string; stderr: string }, code = 0) {
  assert.equal(r.code, code, r.stderr);
  return JSON.parse(r.stdout);
}

async function judgmentCount(judge?: string): Promise<number> {
  return withDb(async (db) => {
    let q = db.kysely.selectFrom('relevance_judgments').select(sql<string>`count(*)`.as('n'));
    if (judge) q = q.where('judge', '=', judge);
    return Number((await q.executeTakeFirstOrThrow()).n);
  });
}

/** The top `k` distinct documents of a version for a query, by the tests' own exact search. */
async function topDocs(db: Db, key: string, text: string, k: number): Promise<string[]> {
  const v = await requireVersion(db.kysely, key);
  const retrieve = createExactRetriever(db.kysely);
  try {
    const out: string[] = [];
    for (const h of await retrieve(v, text, 200)) {
      if (!out.includes(h.documentId)) out.push(h.documentId);
      if (out.length === k) break;
    }
    return out;
  } finally {
    await retrieve.close();
  }
}

/** `sha \0 key` of every pair of the pooled top 10 of v1 and v2 that the judged set does not label. */
async function expectedPool(): Promise<Set<string>> {
  return withDb(async (db) => {
    const out = new Set<string>();
    for (const q of set.queries) {
      const docs = new Set([...(await topDocs(db, 'v2', q.text, 10)), ...(await topDocs(db, 'v1', q.text, 10))]);
      for (const d of docs) if (!q.relevant.has(d)) out.add(`${querySha256(q.text)}\u0000${d}`);
    }
    return out;
  });
}

async function storedPairsOf(judge: string): Promise<Array<{ pair: string; grade: number; raw: number }>> {
  const rows = await withDb((db) =>
    db.kysely
      .selectFrom('relevance_judgments')
      .select(['query_sha256', 'doc_key', 'grade', 'raw_score', 'failure', 'key_kind', 'actor'])
      .where('judge', '=', judge)
      .execute(),
  );
  for (const r of rows) {
    assert.equal(r.failure, null);
    assert.equal(r.key_kind, 'document_id');
    assert.equal(r.actor, 'judge-tester');
  }
  return rows.map((r) => ({ pair: `${r.query_sha256}\u0000${r.doc_key}`, grade: r.grade!, raw: r.raw_score! }));
}

const grade = (raw: number, t: readonly number[]) => t.filter((x) => raw >= x).length;

let beforeOverall: Record<string, number>;
const GATES_BLIND = () => {
  const path = join(demo.dir, 'gates-blind.json');
  writeFileSync(
    path,
    JSON.stringify({
      gates: [
        { min_judged: 0.9, k: 10 },
        { metric: 'nDCG@10', max_drop: 0.01 },
        { metric: 'hit@10', min: 0.5 },
      ],
    }),
  );
  return path;
};

test('before judging: Judged@10 is the set’s alone, and a min_judged gate fails with the other gates not decided', async () => {
  const r = await cli([
    'evaluate',
    '--version',
    'v2',
    '--baseline',
    'v1',
    '--judged',
    demo.judged,
    '--gates',
    GATES_BLIND(),
    '--gate',
    '--json',
  ]);
  const out = json(r, 1);
  assert.match(r.stderr, /gate failed for v2: 1 of 3 gate\(s\) failed/);
  assert.deepEqual(
    out.gates.map((g: { status: string }) => g.status),
    ['failed', 'skipped', 'skipped'],
  );
  assert.match(out.gates[0].message, /Judged@10 = v2 0\.\d+, v1 0\.\d+, below min 0\.9: .*embctl judge --version v2/);
  for (const g of out.gates.slice(1)) assert.match(g.message, /^not decided: /);
  const c = out.labels.coverage.candidate;
  assert.equal(c.before, c.after, 'nothing judged yet');
  assert.ok(c.before < 0.5, `Judged@10 before ${c.before}`);
  assert.equal(c.before, out.overall['Judged@10']);
  beforeOverall = out.overall;
});

test('bad judges are refused in one line (exit 2) and write nothing', async () => {
  const base = ['judge', '--version', 'v2', '--judged', demo.judged];
  const unknown = await cli([...base, '--judge', 'foo:bar']);
  assert.equal(unknown.code, 2, unknown.stderr);
  assert.equal(unknown.stderr.trim().split('\n').length, 1, unknown.stderr);
  assert.match(
    unknown.stderr,
    /unknown judge "foo:bar": use cross-encoder:<model folder or id>, openai:<chat model> or file:/,
  );

  const noHead = await cli([...base, '--judge', 'cross-encoder:test/fixtures/tiny-model', '--thresholds', THRESHOLDS]);
  assert.equal(noHead.code, 2, noHead.stderr);
  assert.equal(noHead.stderr.trim().split('\n').length, 1, noHead.stderr);
  assert.match(
    noHead.stderr,
    /tiny-model has no classification head .*: use a reranker exported for sequence classification/,
  );

  const uncalibrated = await cli([...base, '--judge', CE_SPEC]);
  assert.equal(uncalibrated.code, 2, uncalibrated.stderr);
  assert.equal(uncalibrated.stderr.trim().split('\n').length, 1, uncalibrated.stderr);
  assert.match(
    uncalibrated.stderr,
    /has no thresholds .*embctl judge calibrate --judge cross-encoder:test\/fixtures\/tiny-cross-encoder --judged/,
  );
  assert.match(uncalibrated.stderr, /or give --thresholds/);

  const badThresholds = await cli([...base, '--judge', CE_SPEC, '--thresholds', '1,2']);
  assert.equal(badThresholds.code, 2, badThresholds.stderr);
  assert.match(badThresholds.stderr, /--thresholds takes three numbers/);

  assert.equal(await judgmentCount(), 0);
});

test('judge judges exactly the unlabelled pairs of the pooled top 10, once; a second run judges 0', async () => {
  const expected = await expectedPool();
  assert.ok(expected.size > 50, `pool of ${expected.size} pairs`);
  const args = ['judge', '--version', 'v2', '--judged', demo.judged, '--judge', CE_SPEC, '--thresholds', THRESHOLDS];
  const first = json(await cli([...args, '--json']));
  assert.equal(first.judge, FIXED_ID);
  assert.equal(first.baseline, 'v1', 'the active version is the default baseline');
  assert.equal(first.pool.queries, set.queries.length);
  assert.equal(first.pool.toJudge, expected.size);
  assert.equal(first.pool.pooled, expected.size + first.pool.labelled);
  assert.deepEqual(
    [first.run.graded, first.run.failed, first.run.left, first.run.stoppedBy],
    [expected.size, 0, 0, null],
  );
  assert.equal(first.run.cost.usd, 0, 'a local judge costs nothing');

  const rows = await storedPairsOf(FIXED_ID);
  assert.equal(rows.length, expected.size, 'one row per pair');
  assert.deepEqual(new Set(rows.map((r) => r.pair)), expected);
  for (const r of rows) assert.equal(r.grade, grade(r.raw, [-3, 0, 3]), `grade of raw ${r.raw}`);
  assert.ok(new Set(rows.map((r) => r.grade)).size >= 2, 'the thresholds spread the grades');

  const second = await cli(args);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, new RegExp(`${expected.size} already judged by .*; 0 to judge in 0 queries`));
  assert.match(second.stdout, /nothing left to judge: every pooled pair is labelled or already judged by this judge/);
  assert.equal(await judgmentCount(), expected.size);
});

test('after judging: Judged@10 rises to 1 for both versions; --judges judged-set gives the old numbers; min_judged passes', async () => {
  const base = ['evaluate', '--version', 'v2', '--baseline', 'v1', '--judged', demo.judged];
  const afterJudging = json(await cli([...base, '--gates', GATES_BLIND(), '--gate', '--json']));
  const l = afterJudging.labels;
  for (const c of [l.coverage.candidate, l.coverage.baseline]) {
    assert.ok(c.before < c.after, `${c.before} < ${c.after}`);
    assert.equal(c.after, 1, 'the pool is the top 10 of both versions');
    assert.equal(c.sources.unjudged ?? 0, 0);
    assert.ok(c.sources[FIXED_ID] > 0.5, JSON.stringify(c.sources));
  }
  assert.equal(l.coverage.candidate.before, beforeOverall['Judged@10']);
  assert.equal(afterJudging.overall['Judged@10'], 1);
  assert.deepEqual(
    afterJudging.gates.map((g: { status: string }) => g.status),
    ['passed', 'passed', 'passed'],
  );
  assert.equal(afterJudging.passed, true);
  assert.deepEqual(l.kappas, { [FIXED_ID]: null });

  const setOnly = json(await cli([...base, '--judges', 'judged-set', '--json']));
  assert.deepEqual(setOnly.overall, beforeOverall);
  assert.deepEqual(setOnly.labels.judges, []);
});

test('min_kappa with a judge never calibrated fails, saying to calibrate', async () => {
  const path = join(demo.dir, 'gates-kappa0.json');
  writeFileSync(path, JSON.stringify({ min_kappa: 0.1, gates: [{ min_judged: 0.9, k: 10 }] }));
  const r = await cli(['evaluate', '--version', 'v2', '--judged', demo.judged, '--gates', path, '--gate', '--json']);
  const out = json(r, 1);
  const kappa = out.gates.find((g: { name: string }) => g.name.includes('kappa'));
  assert.equal(kappa.status, 'failed');
  assert.match(kappa.message, /was never calibrated: run embctl judge calibrate --judge .* --judged /);
});

/** Quadratic-weighted Cohen's kappa over grades 0..3, written out here. */
function weightedKappa(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const K = 4;
  const obs = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  a.forEach((x, i) => obs[x]![b[i]!]!++);
  const ra = obs.map((row) => row.reduce((s, v) => s + v, 0));
  const cb = Array.from({ length: K }, (_, j) => obs.reduce((s, row) => s + row[j]!, 0));
  let num = 0;
  let den = 0;
  for (let i = 0; i < K; i++)
    for (let j = 0; j < K; j++) {
      const w = ((i - j) * (i - j)) / ((K - 1) * (K - 1));
      num += w * obs[i]![j]!;
      den += (w * ra[i]! * cb[j]!) / n;
    }
  return 1 - num / den;
}

let calibratedId: string;
let calibratedKappa: number;

test('judge calibrate reports kappa and accuracy of the fitted thresholds (checked by re-scoring), stores them; judge then uses them', async () => {
  const out = json(await cli(['judge', 'calibrate', '--judge', CE_SPEC, '--judged', demo.judged, '--json']));
  const labelled = set.queries.flatMap((q) => [...q.relevant].map(([key, g]) => ({ q: q.text, key, g })));
  assert.equal(out.pairs, labelled.length);
  assert.equal(out.failed, 0);
  const t: number[] = out.thresholds;
  assert.equal(t.length, 3);
  assert.ok(t[0]! < t[1]! && t[1]! < t[2]!, `${t}`);
  assert.equal(out.judge, `cross-encoder:tiny-cross-encoder@8ff3bfd7aaa7/t=${t.join(',')}`);

  // Re-score the labelled pairs with the model and grade them by the reported thresholds.
  const scorer = await loadCrossEncoder('test/fixtures/tiny-cross-encoder', { cwd: REPO });
  try {
    const passages = new Map<string, string>();
    await withDb(async (db) => {
      for (const { key } of labelled) {
        const { rows } = await sql<{ content: string }>`
        select content from document_chunks where document_id = ${key} and retired_at is null order by chunk_no`.execute(
          db.kysely,
        );
        passages.set(key, rows.map((r) => r.content).join('\n\n'));
      }
    });
    const raw = await scorer.score(labelled.map((p) => ({ query: p.q, passage: passages.get(p.key)! })));
    const judged = raw.map((r) => grade(r, t));
    const human = labelled.map((p) => p.g);
    const accuracy = judged.filter((g, i) => g === human[i]).length / human.length;
    assert.ok(Math.abs(out.accuracy - accuracy) < 1e-9, `accuracy ${out.accuracy} vs ${accuracy}`);
    assert.ok(Math.abs(out.kappa - weightedKappa(human, judged)) < 1e-9, `kappa ${out.kappa}`);
    const confusion = Array.from({ length: 4 }, () => [0, 0, 0, 0]);
    human.forEach((h, i) => confusion[h]![judged[i]!]!++);
    assert.deepEqual(out.confusion, confusion);
  } finally {
    await scorer.close();
  }
  assert.equal(out.kendall_tau, 1, 'v1 < v2 under people and under the judge');

  const rows = await withDb((db) => db.kysely.selectFrom('judge_calibrations').selectAll().execute());
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.judge, out.judge);
  assert.equal(rows[0]!.judge_base, 'cross-encoder:tiny-cross-encoder@8ff3bfd7aaa7');
  assert.deepEqual(rows[0]!.thresholds, t);
  assert.equal(rows[0]!.kappa, out.kappa);
  assert.equal(rows[0]!.pairs, labelled.length);
  calibratedId = out.judge;
  calibratedKappa = out.kappa;

  const judged = json(await cli(['judge', '--version', 'v2', '--judged', demo.judged, '--judge', CE_SPEC, '--json']));
  assert.equal(judged.judge, calibratedId, 'the calibrated thresholds name the judge');
  const expected = await expectedPool();
  assert.equal(judged.run.graded, expected.size, 'another identity judges the pool again');
  const stored = await storedPairsOf(calibratedId);
  assert.deepEqual(new Set(stored.map((r) => r.pair)), expected);
  for (const r of stored) assert.equal(r.grade, grade(r.raw, t));

  const list = await cli(['judge', 'list']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(
    list.stdout,
    new RegExp(`${escape(calibratedId)}  ${expected.size} graded, 0 failed  kappa ${out.kappa.toFixed(4)}`),
  );
  assert.match(list.stdout, new RegExp(`${escape(FIXED_ID)}  ${expected.size} graded, 0 failed  kappa not calibrated`));
});

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('a gate requiring min_kappa passes below the judge’s kappa and fails above it', async () => {
  const run = async (minKappa: number) => {
    const path = join(demo.dir, `gates-kappa-${minKappa}.json`);
    writeFileSync(
      path,
      JSON.stringify({ judges: [calibratedId], min_kappa: minKappa, gates: [{ min_judged: 0.9, k: 10 }] }),
    );
    return cli(['evaluate', '--version', 'v2', '--judged', demo.judged, '--gates', path, '--gate', '--json']);
  };
  const low = json(await run(Math.round((calibratedKappa - 0.05) * 1000) / 1000));
  assert.equal(low.passed, true);
  assert.deepEqual(low.labels.judges, [calibratedId], 'the gates file picks the judge');
  assert.deepEqual(low.labels.kappas, { [calibratedId]: calibratedKappa });
  const kLow = low.gates.find((g: { name: string }) => g.name.includes('kappa'));
  assert.equal(kLow.status, 'passed');

  const highR = await run(Math.min(1, Math.round((calibratedKappa + 0.05) * 1000) / 1000));
  const high = json(highR, 1);
  const kHigh = high.gates.find((g: { name: string }) => g.name.includes('kappa'));
  assert.equal(kHigh.status, 'failed');
  assert.match(kHigh.message, /kappa = 0\.\d{4} < min_kappa .*: do not trust its labels/);
});

test('evaluate -J in version mode equals trec mode -J on the exported run and the labelled set’s qrels, per query and overall', async () => {
  const runFile = join(demo.dir, 'v2.run');
  const v = json(
    await cli([
      'evaluate',
      '--version',
      'v2',
      '--judged',
      demo.judged,
      '--judges',
      `human,${calibratedId}`, // the id holds commas: the list puts it back together
      '-J',
      '--export-run',
      runFile,
      '--json',
    ]),
  );
  // The labelled set: the set's grades first, then the judge's for what the set does not label.
  const judge = await withDb((db) =>
    db.kysely
      .selectFrom('relevance_judgments')
      .select(['query_sha256', 'doc_key', 'grade'])
      .where('judge', '=', calibratedId)
      .execute(),
  );
  const lines: string[] = [];
  for (const q of set.queries) {
    const sha = querySha256(q.text);
    for (const [d, g] of q.relevant) lines.push(`${q.id} 0 ${d} ${g}`);
    for (const j of judge)
      if (j.query_sha256 === sha && !q.relevant.has(j.doc_key)) lines.push(`${q.id} 0 ${j.doc_key} ${j.grade}`);
  }
  const qrels = join(demo.dir, 'labelled.qrels');
  writeFileSync(qrels, lines.join('\n') + '\n');
  const measures = ['map', 'bpref', 'recip_rank', 'P.10', 'ndcg_cut.10', 'infAP'];
  const t = json(
    await cli([
      'evaluate',
      '--qrels',
      qrels,
      '--run',
      runFile,
      '-J',
      '-q',
      ...measures.flatMap((m) => ['-m', m]),
      '--json',
    ]),
  );
  const pairs: Array<[string, string]> = [
    ['MAP', 'map'],
    ['bpref', 'bpref'],
    ['MRR', 'recip_rank'],
    ['P@10', 'P_10'],
    ['nDCG@10', 'ndcg_cut_10'],
    ['infAP', 'infAP'],
  ];
  const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);
  for (const [mine, trec] of pairs) close(v.overall[mine], t.all[trec], `overall ${mine}`);
  const row = await withDb((db) =>
    db.kysely.selectFrom('evaluation_runs').select('per_query').where('id', '=', v.run_id).executeTakeFirstOrThrow(),
  );
  const perQuery = row.per_query as Array<{ id: string; values: Record<string, number> }>;
  assert.equal(perQuery.length, set.queries.length);
  for (const q of perQuery)
    for (const [mine, trec] of pairs) close(q.values[mine]!, t.per_query[q.id][trec], `${q.id} ${mine}`);
  assert.ok(readFileSync(runFile, 'utf8').split('\n').length > set.queries.length * 10);
});
