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

/**
 * Our output against trec_eval's, line for line (a unified view of the first
 * difference makes a failure readable). Every byte must match: names padded
 * to 22, tabs, counts as integers, values as %6.4f, relstring quoted.
 */
function assertSameLines(ours: string, expectedFile: string, lines: number): void {
  const want = readFileSync(join(TREC, expectedFile), 'utf8').split('\n');
  const got = ours.split('\n');
  assert.equal(want.length - 1, lines, `${expectedFile} has ${lines} lines`);
  for (let i = 0; i < Math.max(want.length, got.length); i++) {
    assert.equal(got[i], want[i], `${expectedFile} line ${i + 1}`);
  }
  assert.equal(ours, want.join('\n'));
}

test('--qrels/--run prints exactly what trec_eval prints (out.test, .a, .aq, .aqc, .aql), without a database', async () => {
  const cli = (...args: string[]) => runCli(['evaluate', ...args], { env: NO_DB });
  const [def, a, aq, aqc, aql] = await Promise.all([
    cli('--qrels', join(TREC, 'qrels.test'), '--run', join(TREC, 'results.test')),
    cli('-m', 'all_trec', '--qrels', join(TREC, 'qrels.test'), '--run', join(TREC, 'results.test')),
    cli('-m', 'all_trec', '-q', '--qrels', join(TREC, 'qrels.test'), '--run', join(TREC, 'results.test')),
    cli('-m', 'all_trec', '-q', '-c', '--qrels', join(TREC, 'qrels.test'), '--run', join(TREC, 'results.trunc')),
    // trec_eval's own spelling, short flags glued to their values.
    cli(
      '-mall_trec',
      '-mrelstring.20',
      '-q',
      '-l2',
      '--qrels',
      join(TREC, 'qrels.rel_level'),
      '--run',
      join(TREC, 'results.test'),
    ),
  ]);
  for (const r of [def, a, aq, aqc, aql]) assert.equal(r.code, 0, r.stderr);
  assertSameLines(def.stdout, 'out.test', 30); // trec_eval's default measures ("official")
  assertSameLines(a.stdout, 'out.test.a', 99);
  assertSameLines(aq.stdout, 'out.test.aq', 387);
  assertSameLines(aqc.stdout, 'out.test.aqc', 387);
  assertSameLines(aql.stdout, 'out.test.aql', 387);
  assert.ok(!existsSync(NO_DB.EMBCTL_HOME), 'no embedded database was created');
});

test('-J: judged documents only, exactly as trec_eval prints it (out.test.aqJ, out.test.aqlJ: bpref, infAP and all)', async () => {
  const cli = (...args: string[]) => runCli(['evaluate', ...args], { env: NO_DB });
  const [aqJ, aqlJ] = await Promise.all([
    cli('-m', 'all_trec', '-q', '-J', '--qrels', join(TREC, 'qrels.test'), '--run', join(TREC, 'results.test')),
    cli(
      '-m',
      'all_trec',
      '-m',
      'relstring.20',
      '-q',
      '-l2',
      '--judged-only',
      '--qrels',
      join(TREC, 'qrels.rel_level'),
      '--run',
      join(TREC, 'results.test'),
    ),
  ]);
  for (const r of [aqJ, aqlJ]) assert.equal(r.code, 0, r.stderr);
  assertSameLines(aqJ.stdout, 'out.test.aqJ', 387);
  assertSameLines(aqlJ.stdout, 'out.test.aqlJ', 387);
  // -J changes what is scored: the files differ from the runs without it.
  assert.notEqual(readFileSync(join(TREC, 'out.test.aqJ'), 'utf8'), readFileSync(join(TREC, 'out.test.aq'), 'utf8'));
});

test('--qrels/--run: -m picks measures (trec_eval order), --json holds what is printed', async () => {
  const [m, j] = await Promise.all([
    runCli(
      [
        'evaluate',
        '--qrels',
        join(TREC, 'qrels.test'),
        '--run',
        join(TREC, 'results.test'),
        '-m',
        'P.10,5',
        '-m',
        'bpref',
        '-m',
        'nDCG@10',
      ],
      { env: NO_DB },
    ),
    runCli(
      [
        '--json',
        'evaluate',
        '--qrels',
        join(TREC, 'qrels.test'),
        '--run',
        join(TREC, 'results.test'),
        '-m',
        'nDCG@10',
        '-m',
        'MRR',
        '-m',
        'gm_map',
        '-q',
      ],
      { env: NO_DB },
    ),
  ]);
  assert.equal(m.code, 0, m.stderr);
  // Only what was asked for (no runid or num_q), in trec_eval's order, values as in out.test.aq.
  assert.equal(
    m.stdout,
    [
      'bpref                 \tall\t0.1981',
      'P_5                   \tall\t0.2667',
      'P_10                  \tall\t0.3000',
      'ndcg_cut_10           \tall\t0.3016',
      '',
    ].join('\n'),
  );
  assert.equal(j.code, 0, j.stderr);
  const json = JSON.parse(j.stdout) as {
    runid: string;
    num_q: number;
    all: Record<string, number>;
    per_query: Record<string, Record<string, number>>;
  };
  assert.equal(json.runid, 'STANDARD');
  assert.equal(json.num_q, 3);
  assert.deepEqual(Object.keys(json.all), ['gm_map', 'recip_rank', 'ndcg_cut_10']);
  assert.equal(json.all.recip_rank!.toFixed(4), '0.4064');
  assert.equal(json.all.gm_map!.toFixed(4), '0.1051');
  assert.deepEqual(
    Object.keys(json.per_query['301']!),
    ['recip_rank', 'ndcg_cut_10'],
    'gm_map is not a per-query value in trec_eval',
  );
});

test('--qrels/--run: -J, -M and -n on a small case (expected values derived by hand)', async () => {
  // Case A of test/eval-trec-flags.test.ts: relevance list [-1, 0, -2, 1, -1, 1, 0], num_rel 3.
  const qrels = join(dir, 'a.qrels');
  const run = join(dir, 'a.run');
  writeFileSync(qrels, ['q 0 d1 1', 'q 0 d2 0', 'q 0 d3 1', 'q 0 d4 -1', 'q 0 d5 0', 'q 0 d6 1'].join('\n') + '\n');
  writeFileSync(
    run,
    ['x1', 'd2', 'd4', 'd1', 'x2', 'd3', 'd5'].map((d, i) => `q Q0 ${d} ${i + 1} ${(9 - i) / 10} caseA`).join('\n') +
      '\n',
  );
  const cli = (...args: string[]) =>
    runCli(['evaluate', '--qrels', qrels, '--run', run, '-m', 'num_ret', '-m', 'map', '-m', 'relstring', ...args], {
      env: NO_DB,
    });
  const [plain, judged, max, noSummary, nothing] = await Promise.all([
    cli('-q'),
    cli('-q', '-J'),
    cli('-M', '4'),
    cli('-q', '-n', '-J'),
    cli('-n'),
  ]);
  for (const r of [plain, judged, max, noSummary, nothing]) assert.equal(r.code, 0, r.stderr);
  const row = (m: string, q: string, v: string) => `${m.padEnd(22)}\t${q}\t${v}`;
  // map (1/4 + 2/6) / 3; with -J (1/2 + 2/3) / 3; with -M 4 (1/4) / 3.
  assert.equal(
    plain.stdout,
    [
      row('num_ret', 'q', '7'),
      row('map', 'q', '0.1944'),
      row('relstring', 'q', "'-0.1-10'"),
      row('num_ret', 'all', '7'),
      row('map', 'all', '0.1944'),
      '',
    ].join('\n'),
  );
  assert.equal(
    judged.stdout,
    [
      row('num_ret', 'q', '4'),
      row('map', 'q', '0.3889'),
      row('relstring', 'q', "'0110'"),
      row('num_ret', 'all', '4'),
      row('map', 'all', '0.3889'),
      '',
    ].join('\n'),
  );
  assert.equal(max.stdout, [row('num_ret', 'all', '4'), row('map', 'all', '0.0833'), ''].join('\n'));
  assert.equal(
    noSummary.stdout,
    [row('num_ret', 'q', '4'), row('map', 'q', '0.3889'), row('relstring', 'q', "'0110'"), ''].join('\n'),
  );
  assert.equal(nothing.stdout, '', '-n without -q prints nothing, as trec_eval');
});

test('--qrels/--run: other trec_eval flags are refused in one line (exit 2)', async () => {
  const base = ['evaluate', '--qrels', join(TREC, 'qrels.test'), '--run', join(TREC, 'results.test')];
  const [n, z, m, j] = await Promise.all([
    runCli([...base, '-N', '1000'], { env: NO_DB }),
    runCli([...base, '-Z', 'zscores.txt', '-D', '1'], { env: NO_DB }),
    runCli([...base, '-m', 'P.0', '-m', 'prefs', '-M', '0'], { env: NO_DB }),
    runCli(['evaluate', '--judged', 'evals/demo.judged.jsonl', '-l', '2'], { env: NO_DB }),
  ]);
  assert.equal(n.code, 2);
  assert.equal(
    n.stderr,
    'embctl: -N: trec_eval flag not supported by embctl evaluate (supported: -q -m -c -J -l -M -n)\n',
  );
  assert.equal(z.code, 2);
  assert.match(z.stderr, /^embctl: -D, -Z: trec_eval flags not supported/);
  assert.equal(m.code, 2);
  assert.match(m.stderr, /-M.*expected a whole number from 1/);
  assert.equal(j.code, 2);
  assert.match(j.stderr, /--level apply to --qrels\/--run only/); // -J applies to both modes
});

test('--qrels/--run: bad usage exits 2; malformed files list every bad line', async () => {
  let r = await runCli(['evaluate', '--qrels', join(TREC, 'qrels.test')], { env: NO_DB });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--qrels and --run go together/);
  r = await runCli(
    ['evaluate', '--qrels', join(TREC, 'qrels.test'), '--run', join(TREC, 'results.test'), '--version', 'v1'],
    { env: NO_DB },
  );
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--version cannot be used with --qrels\/--run/);

  const other = join(dir, 'other.run');
  writeFileSync(other, '999 Q0 d1 1 0.5 x\n');
  r = await runCli(['evaluate', '--qrels', join(TREC, 'qrels.test'), '--run', other], { env: NO_DB });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /No query of .*other\.run is in .*qrels\.test: nothing to score/);

  const qrels = join(dir, 'bad.qrels');
  const run = join(dir, 'bad.run');
  writeFileSync(qrels, '1 0 d1 1\n1 0 d2 high\n2 0 d3\n');
  writeFileSync(run, '1 Q0 d1 1 0.5 x\n1 Q0 d2 2 abc x\n1 Q0 d1 3 0.1 x\n');
  r = await runCli(['evaluate', '--qrels', qrels, '--run', run], { env: NO_DB });
  assert.equal(r.code, 2);
  for (const want of [
    `${qrels}:2: relevance "high" is not an integer`,
    `${qrels}:3: expected 4 fields`,
    `${run}:2: score "abc" is not a finite number`,
    `${run}:3: document "d1" retrieved twice`,
  ]) {
    assert.ok(r.stderr.includes(want), `missing "${want}" in:\n${r.stderr}`);
  }
});

test('a malformed judged set and gates file: every problem with its line or path, exit 2, before any database', async () => {
  const judged = join(dir, 'bad.judged.jsonl');
  writeFileSync(
    judged,
    [
      '{"embctl_judged_set": 1, "key": "document_id", "name": "bad"}',
      '{"id": "q1", "query": "tents", "relevant": {"d1": 2}}',
      '{"id": "q2", "query": "", "relevant": {"d2": 1}}',
      '{"id": "q3", "query": "boots", "relevant": {"d3": "yes"}}',
      'not json',
      '{"id": "q1", "query": "again", "relevant": {"d1": 1}}',
    ].join('\n') + '\n',
  );
  const gates = join(dir, 'bad-gates.json');
  writeFileSync(
    gates,
    JSON.stringify({
      gates: [
        { metric: 'nDCG10', min: 0.5 },
        { metric: 'MRR' },
        { metric: 'P@10', min: 0.5, max_drop: 0.1 },
        { metric: 'MAP', min: -1 },
      ],
    }),
  );
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
    'gates[3].min: MAP ranges from 0 to 1, so a min of -1 checks nothing: use a value from 0 to 1',
  ])
    assert.ok(r.stderr.includes(want), `missing "${want}" in:\n${r.stderr}`);
  assert.ok(!existsSync(NO_DB.EMBCTL_HOME));

  // A gate on a segment the (valid) set does not have.
  const segGates = join(dir, 'seg-gates.yaml');
  writeFileSync(segGates, 'gates:\n  - metric: P@10\n    segment: invoice\n    min: 0.5\n');
  const s = await runCli(['evaluate', '--judged', 'evals/demo.judged.jsonl', '--gates', segGates], { env: NO_DB });
  assert.equal(s.code, 2, s.stderr);
  assert.match(
    s.stderr,
    /gates\[0\]\.segment: no segment "invoice" in judged set demo \(segments: invoices, policies, products, support\)/,
  );

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
