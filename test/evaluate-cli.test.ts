import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TREC_EVAL_DIR } from './support/data.js';
import { runCli, targetEnv } from './support/cli.js';
import { freshDb } from './support/db.js';

const TREC = TREC_EVAL_DIR;
const dir = mkdtempSync(join(tmpdir(), 'embctl-eval-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A database that cannot be reached and a PGlite folder that must not be created: TREC mode opens neither. */
const NO_DB = { DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none', EMBCTL_HOME: join(dir, 'never-created') };

/** `measure qid value` lines of trec_eval output -> "measure qid" -> value text. */
function trecLines(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length === 3) out.set(`${f[0]} ${f[1]}`, f[2]!);
  }
  return out;
}

function assertSameAsTrecEval(ours: string, expectedFile: string, wantAtLeast: number): void {
  const want = trecLines(readFileSync(join(TREC, expectedFile), 'utf8'));
  const got = trecLines(ours);
  let compared = 0;
  for (const [key, value] of got) {
    if (!want.has(key) || key.startsWith('runid ')) continue;
    assert.equal(value, want.get(key), `${key} (${expectedFile})`);
    compared++;
  }
  assert.ok(compared >= wantAtLeast, `compared only ${compared} values with ${expectedFile}`);
}

test('--qrels/--run reproduces trec_eval (out.test, -q, -c) without opening a database', async () => {
  const cli = (...args: string[]) => runCli(args, { env: NO_DB });
  const [r, q, c, l, m] = await Promise.all([
    cli('evaluate', '--qrels', join(TREC, 'qrels.test'), '--run', join(TREC, 'results.test')),
    cli('evaluate', '--qrels', join(TREC, 'qrels.test'), '--run', join(TREC, 'results.test'), '-q'),
    cli('evaluate', '--qrels', join(TREC, 'qrels.test'), '--run', join(TREC, 'results.trunc'), '-q', '-c'),
    cli('evaluate', '--qrels', join(TREC, 'qrels.rel_level'), '--run', join(TREC, 'results.test'), '-q', '-l', '2'),
    cli('--json', 'evaluate', '--qrels', join(TREC, 'qrels.test'), '--run', join(TREC, 'results.test'), '-m', 'nDCG@10', '-m', 'MRR'),
  ]);
  assert.equal(r.code, 0, r.stderr);
  // map, recip_rank, P_5 ... P_1000, num_q, num_ret, num_rel, num_rel_ret
  assertSameAsTrecEval(r.stdout, 'out.test', 15);
  const got = trecLines(r.stdout);
  for (const [k, v] of <[string, string][]>[['map all', '0.1785'], ['recip_rank all', '0.4064'], ['P_5 all', '0.2667'], ['P_1000 all', '0.0437'], ['num_rel_ret all', '131']]) {
    assert.equal(got.get(k), v, k);
  }
  assert.match(r.stdout, /^runid +\tall\tSTANDARD$/m);
  assert.match(r.stdout, /^map {19}\tall\t0\.1785$/m);
  assert.ok(!existsSync(NO_DB.EMBCTL_HOME), 'no embedded database was created');

  // Per query, with ndcg and ndcg_cut: out.test.aq (trec_eval -m all_trec -q).
  assert.equal(q.code, 0, q.stderr);
  assertSameAsTrecEval(q.stdout, 'out.test.aq', 4 * 30);
  assert.equal(trecLines(q.stdout).get('ndcg 301'), trecLines(readFileSync(join(TREC, 'out.test.aq'), 'utf8')).get('ndcg 301'));

  // -c on a truncated run: out.test.aqc.
  assert.equal(c.code, 0, c.stderr);
  assertSameAsTrecEval(c.stdout, 'out.test.aqc', 4 * 30);

  // Graded qrels with -l2: out.test.aql.
  assert.equal(l.code, 0, l.stderr);
  assertSameAsTrecEval(l.stdout, 'out.test.aql', 4 * 30);

  // Chosen measures by alias, and --json.
  assert.equal(m.code, 0, m.stderr);
  const json = JSON.parse(m.stdout) as { num_q: number; all: Record<string, number> };
  assert.equal(json.num_q, 3);
  assert.deepEqual(Object.keys(json.all), ['num_ret', 'num_rel', 'num_rel_ret', 'ndcg_cut_10', 'recip_rank']);
  assert.equal(json.all.recip_rank!.toFixed(4), '0.4064');
});

test('--qrels/--run: bad usage exits 2; malformed files list every bad line', async () => {
  let r = await runCli(['evaluate', '--qrels', join(TREC, 'qrels.test')], { env: NO_DB });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--qrels and --run go together/);
  r = await runCli(['evaluate', '--qrels', join(TREC, 'qrels.test'), '--run', join(TREC, 'results.test'), '--version', 'v1'], { env: NO_DB });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--version cannot be used with --qrels\/--run/);

  const qrels = join(dir, 'bad.qrels');
  const run = join(dir, 'bad.run');
  writeFileSync(qrels, '1 0 d1 1\n1 0 d2 high\n2 0 d3\n');
  writeFileSync(run, '1 Q0 d1 1 0.5 x\n1 Q0 d2 2 abc x\n1 Q0 d1 3 0.1 x\n');
  r = await runCli(['evaluate', '--qrels', qrels, '--run', run], { env: NO_DB });
  assert.equal(r.code, 2);
  for (const want of [`${qrels}:2: relevance "high" is not an integer`, `${qrels}:3: expected 4 fields`, `${run}:2: score "abc" is not a finite number`, `${run}:3: document "d1" retrieved twice`]) {
    assert.ok(r.stderr.includes(want), `missing "${want}" in:\n${r.stderr}`);
  }
});

test('a malformed judged set and gates file: every problem with its line or path, exit 2, before any database', async () => {
  const judged = join(dir, 'bad.judged.jsonl');
  writeFileSync(judged, [
    '{"embctl_judged_set": 1, "key": "document_id", "name": "bad"}',
    '{"id": "q1", "query": "tents", "relevant": {"d1": 2}}',
    '{"id": "q2", "query": "", "relevant": {"d2": 1}}',
    '{"id": "q3", "query": "boots", "relevant": {"d3": "yes"}}',
    'not json',
    '{"id": "q1", "query": "again", "relevant": {"d1": 1}}',
  ].join('\n') + '\n');
  const gates = join(dir, 'bad-gates.json');
  writeFileSync(gates, JSON.stringify({ gates: [{ metric: 'nDCG10', min: 0.5 }, { metric: 'MRR' }, { metric: 'P@10', min: 0.5, max_drop: 0.1 }, { metric: 'MAP', min: -1 }] }));
  const r = await runCli(['evaluate', '--judged', judged, '--gate', '--gates', gates], { env: NO_DB });
  assert.equal(r.code, 2, r.stderr);
  for (const want of [
    `${judged}:3: missing or empty "query"`,
    `${judged}:4: bad grade "yes" for "d3"`,
    `${judged}:5: malformed JSON`,
    `${judged}:6: duplicate query id "q1" (first on line 2)`,
    'gates[0].metric: unknown metric "nDCG10"',
    'gates[1]: missing a threshold',
    'gates[2]: give either "min" (absolute) or "max_drop" (relative to the baseline), not both',
    'gates[3].min: Too small: expected number to be >=0',
  ]) assert.ok(r.stderr.includes(want), `missing "${want}" in:\n${r.stderr}`);
  assert.ok(!existsSync(NO_DB.EMBCTL_HOME));

  // A gate on a segment the (valid) set does not have.
  const segGates = join(dir, 'seg-gates.yaml');
  writeFileSync(segGates, 'gates:\n  - metric: P@10\n    segment: invoice\n    min: 0.5\n');
  const s = await runCli(['evaluate', '--judged', 'evals/demo.judged.jsonl', '--gates', segGates], { env: NO_DB });
  assert.equal(s.code, 2, s.stderr);
  assert.match(s.stderr, /gates\[0\]\.segment: no segment "invoice" in judged set demo \(segments: invoices, policies, products, support\)/);

  const k = await runCli(['evaluate', '--judged', 'evals/demo.judged.jsonl', '-k', '1,x,0'], { env: NO_DB });
  assert.equal(k.code, 2);
  assert.match(k.stderr, /bad cutoff "x"/);
});

test('without --version and no active version: refused with the fix (exit 1)', async () => {
  const db = await freshDb();
  const env = targetEnv({ url: db.url, homeDir: db.homeDir });
  await db.close();
  try {
    const r = await runCli(['evaluate', '--judged', 'evals/demo.judged.jsonl'], { env });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /no active version to evaluate: pass --version <key>/);
    const g = await runCli(['evaluate', '--version', 'nope', '--judged', 'evals/demo.judged.jsonl'], { env });
    assert.equal(g.code, 2, g.stderr);
    assert.match(g.stderr, /no version "nope"/);
  } finally {
    await db.destroy();
  }
});
