import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshTarget, type TestDbTarget } from './support/db.js';
import { runCli, targetEnv, type CliResult } from './support/cli.js';
import { writeCorpus } from './support/corpus.js';
import { parseGates } from '../src/evaluate/gates-file.js';
import { parseJudgedSetJsonl } from '../src/judged-set/jsonl.js';
import { parseQrels } from '../src/trec/trec-files.js';
import { loadJudgedSet } from '../src/judged-set/load.js';
import { InputError } from '../src/errors.js';

// Inputs that were accepted although they could only mislead, and messages
// that said the wrong thing (issue 11, item 9). Files first (no database),
// then the commands, on the test pass's backend.

const dir = mkdtempSync(join(tmpdir(), 'embctl-gaps-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** What a person reads on stderr: no pino JSON lines. */
function said(r: CliResult): string[] {
  return r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('{'));
}

describe('files that could only mislead are refused', () => {
  test("a gate threshold outside its metric's range", () => {
    assert.throws(
      () =>
        parseGates(
          JSON.stringify({
            gates: [
              { metric: 'nDCG@10', min: 2 },
              { metric: 'MRR', min: 1 },
              { metric: 'hit@5', min: 1.5 },
            ],
          }),
          'g.json',
        ),
      (e: unknown) => {
        assert.ok(e instanceof InputError);
        assert.deepEqual(e.details, [
          'gates[0].min: nDCG@10 ranges from 0 to 1, so a min of 2 could never pass: use a value from 0 to 1',
          'gates[2].min: hit@5 ranges from 0 to 1, so a min of 1.5 could never pass: use a value from 0 to 1',
        ]);
        return true;
      },
    );
  });

  test('a grade that is not a small integer, in every judged-set format', async () => {
    assert.throws(
      () => parseJudgedSetJsonl('{"id":"q1","query":"x","relevant":{"d1":1e308}}\n', 'j.jsonl'),
      (e: unknown) => {
        assert.ok(e instanceof InputError);
        assert.match(e.details.join('\n'), /bad grade 1e\+308 for "d1": grades are small integers from 0 to 100/);
        return true;
      },
    );
    const qrels = file('qrels.txt', 'q1 0 d1 99999999999999999999\nq1 0 d2 -1000\nq2 0 d3 1\n');
    const topics = file('topics.tsv', 'q1\ttent stove\nq2\trefund\n');
    await assert.rejects(loadJudgedSet(qrels, { queries: topics }), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.details.length, 2);
      assert.match(
        e.details.join('\n'),
        /query "q1": judged key "d2" has grade -1000: grades are small integers from -100 to 100/,
      );
      return true;
    });
    // TREC's own grades (-1 .. 4) stay fine, and TREC mode (--qrels/--run) reads qrels as trec_eval does.
    assert.equal(
      (await loadJudgedSet(file('ok.txt', 'q1 0 d1 -1\nq1 0 d2 4\n'), { queries: topics })).queries[0]!.relevant.get(
        'd2',
      ),
      4,
    );
    assert.equal(parseQrels('q1 0 d1 500\n').get('q1')?.get('d1'), 500);
  });

  test('a YAML tag that would run code is a plain input error, with no process warning', async () => {
    const g = file('tag.yaml', 'gates:\n  - metric: !!js/function "function () { return 1 }"\n    min: 0.5\n');
    const r = await runCli(
      [
        'evaluate',
        '--version',
        'x',
        '--judged',
        file('j.jsonl', '{"id":"q1","query":"x","relevant":{"d1":1}}\n'),
        '--gates',
        g,
      ],
      { env: { DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none', EMBCTL_HOME: join(dir, 'never') } },
    );
    assert.equal(r.code, 2, r.stderr);
    assert.doesNotMatch(r.stderr, /YAMLWarning|\(node:\d+\)|trace-warnings/);
    assert.deepEqual(said(r), [
      `embctl: Invalid gates file ${g}: unsupported YAML`,
      `  ${g}:2:13: unsupported YAML tag (tag:yaml.org,2002:js/function): a gates file is plain data`,
    ]);
  });
});

describe("values PostgreSQL cannot store, in judged sets and gates files (the same class as ingest's)", () => {
  test('a NUL or an unpaired surrogate in a judged set is refused when the set is read, naming the query', () => {
    const cases: [string, RegExp][] = [
      ['{"id":"q\\u0000","query":"tent","relevant":{"d1":1}}', /query "q\\u0000": its id contains a NUL character/],
      ['{"id":"q1","query":"tent\\u0000","relevant":{"d1":1}}', /query "q1": its text contains a NUL character/],
      [
        '{"id":"q1","query":"tent","segment":"s\\ud800","relevant":{"d1":1}}',
        /query "q1": its segment contains an unpaired UTF-16 surrogate/,
      ],
      [
        '{"id":"q1","query":"tent","relevant":{"d\\u0000":1}}',
        /query "q1": judged key "d\\u0000" contains a NUL character/,
      ],
      [
        '{"embctl_judged_set":1,"name":"n\\u0000"}\n{"id":"q1","query":"tent","relevant":{"d1":1}}',
        /the name contains a NUL character/,
      ],
    ];
    for (const [text, problem] of cases) {
      assert.throws(
        () => parseJudgedSetJsonl(text + '\n', 'j.jsonl'),
        (e: unknown) => {
          assert.ok(e instanceof InputError, String(e));
          assert.match(e.message, /^Invalid judged set j\.jsonl: 1 unusable value$/);
          assert.match(e.details[0]!, problem);
          return true;
        },
        text,
      );
    }
  });

  test('a NUL in a gate name is refused with its path', () => {
    assert.throws(
      () => parseGates('{"gates":[{"metric":"nDCG@10","min":0,"name":"g\\u0000"}]}', 'g.json'),
      (e: unknown) => {
        assert.ok(e instanceof InputError);
        assert.deepEqual(e.details, [
          '"gates file" contains a NUL character (at gates file.gates[0].name), which PostgreSQL cannot store: remove it',
        ]);
        return true;
      },
    );
  });
});

describe('commands that said the wrong thing', () => {
  let target: TestDbTarget;
  let env: NodeJS.ProcessEnv;
  const cli = async (...args: string[]) => runCli(args, { env, timeoutMs: 600_000 });
  const ok = async (...args: string[]) => {
    const r = await cli(...args);
    assert.equal(r.code, 0, `embctl ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const gates = () => file('gates.json', JSON.stringify({ gates: [{ metric: 'nDCG@10', min: 0 }] }));

  before(async () => {
    target = await freshTarget();
    env = { ...targetEnv(target), EMBCTL_ACTOR: 'tester' };
    await ok('migrate');
    await ok('ingest', writeCorpus(120, { seed: 4 }));
    for (const [key, enc] of [
      ['v1', 'hash:words-256'],
      ['v2', 'hash:words-32'],
    ] as const) {
      await ok('versions', 'register', key, '--encoder', enc);
      await ok('backfill', key);
    }
    await ok('versions', 'register', 'empty', '--encoder', 'hash:mixed-384');
  });
  after(async () => {
    await target?.destroy();
  });

  test('a report or run file that cannot be written is an input error, and leaves no temporary file', async () => {
    const folder = mkdtempSync(join(dir, 'out-'));
    const r = await cli('report', '--out', folder);
    assert.equal(r.code, 2, r.stderr);
    assert.deepEqual(said(r), [
      `embctl: cannot write the report to ${folder} (it is a folder): choose a file path you can write`,
    ]);
    const e = await cli(
      'evaluate',
      '--version',
      'v1',
      '--judged',
      file('one.jsonl', '{"id":"q1","query":"tent","relevant":{"doc-1":1}}\n'),
      '--gates',
      gates(),
      '--junit',
      folder,
    );
    assert.equal(e.code, 2, e.stderr);
    assert.match(
      said(e).at(-1)!,
      /^embctl: cannot write the JUnit report to .* \(it is a folder\): choose a file path you can write$/,
    );
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.endsWith('.tmp')),
      [],
    );
    assert.deepEqual(readdirSync(folder), []);
  });

  test('searching a version that has no vectors says it is not backfilled', async () => {
    const r = await cli('search', 'tent stove', '--version', 'empty');
    assert.equal(r.code, 1, r.stdout);
    assert.deepEqual(said(r), [
      'embctl: version empty has no vectors yet (it is not backfilled): run embctl backfill empty, or search another version',
    ]);
  });

  test('an unknown version suggests registering it only when the key could be registered', async () => {
    const valid = await cli('search', 'x', '--version', 'v9');
    assert.equal(valid.code, 2);
    assert.deepEqual(said(valid), [
      'embctl: no version "v9" (known: v1, v2, empty): register it with embctl versions register v9 --encoder <spec>',
    ]);
    const invalid = await cli('search', 'x', '--version', "bad key'");
    assert.equal(invalid.code, 2);
    assert.deepEqual(said(invalid), [
      `embctl: no version "bad key'" (known: v1, v2, empty): "bad key'" is not a valid version key (1-63 letters, digits, ".", "_" or "-", starting with a letter or digit)`,
    ]);
  });

  test('a judged set whose documents are all unknown warns, and fails under --gate', async () => {
    const judged = file(
      'alien.jsonl',
      [
        JSON.stringify({ id: 'q1', query: 'tent stove', relevant: { 'alien-1': 1 } }),
        JSON.stringify({ id: 'q2', query: 'refund invoice', relevant: { 'alien-2': 2, 'alien-3': 1 } }),
      ].join('\n') + '\n',
    );
    const plain = await ok(
      'evaluate',
      '--version',
      'v1',
      '--judged',
      judged,
      '--gates',
      gates(),
      '--log-level',
      'warn',
    );
    assert.match(
      plain.stderr,
      /none of the 3 documents judged in alien is in the corpus \(e\.g\. \\"alien-1\\", \\"alien-2\\", \\"alien-3\\"\): every measure would be 0/,
    );
    const gated = await cli('evaluate', '--version', 'v1', '--judged', judged, '--gates', gates(), '--gate');
    assert.equal(gated.code, 1, gated.stderr);
    assert.match(
      said(gated)[0]!,
      /^embctl: none of the 3 documents judged in alien is in the corpus .*: every measure would be 0; check that the corpus was ingested and that --key matches the set/,
    );
    // Some unknown: a warning, the gate decides.
    const mixed = file(
      'mixed.jsonl',
      JSON.stringify({ id: 'q1', query: 'tent stove', relevant: { 'doc-1': 1, 'alien-1': 1 } }) + '\n',
    );
    const m = await ok(
      'evaluate',
      '--version',
      'v1',
      '--judged',
      mixed,
      '--gates',
      gates(),
      '--gate',
      '--log-level',
      'warn',
    );
    assert.match(m.stderr, /1 of the 2 documents judged in mixed are not in the corpus/);
  });

  test('rollback after a plain ingest: chunks neither version has do not block it, and the user is told to sync', async () => {
    await ok('activate', 'v1', '--force', '--reason', 'test');
    await ok('activate', 'v2', '--force', '--reason', 'test');
    await ok('ingest', writeCorpus(30, { seed: 5, prefix: 'late' }));
    const r = await ok('rollback');
    assert.match(r.stdout, /^rolled back to v1 \(was v2\)$/m);
    assert.match(
      r.stdout,
      /^note: 30 live chunks \(ingested since the last sync\) have no vector in either version, so searches miss them: run embctl sync$/m,
    );
    // A target that lacks what the serving version has is still refused.
    await ok('backfill', 'v1');
    const back = await cli('rollback');
    assert.equal(back.code, 1);
    assert.deepEqual(said(back), [
      'embctl: cannot roll back to v2: version v2 lacks vectors for 30 of 150 live chunks that v1 (serving now) has: run embctl backfill v2; or override with --force --reason "..."',
    ]);
  });
});
