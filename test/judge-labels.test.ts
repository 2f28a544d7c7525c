/**
 * People's labels in and out: `embctl judge export` writes the unlabelled
 * pool (JSONL, CSV) with query and passage texts; `judge import` (and
 * `judge --judge file:...`) reads grades back as judge `human`, validating
 * every line and importing nothing when one is bad. On a demo-like database
 * (v1 active, v2 backfilled, a 5-query subset of the demo judged set).
 */
import { test, before, after } from 'node:test';
import { withOpen } from './support/db.js';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './support/cli.js';
import { judgeDemo, type JudgeDemo } from './support/judge-demo.js';
import { loadJudgedSet, type JudgedSet } from '../src/judged-set/index.js';
import type { Db } from '../src/db/open.js';

let demo: JudgeDemo;
let set: JudgedSet;
before(async () => {
  demo = await judgeDemo({ every: 20, offset: 3 });
  set = await loadJudgedSet(demo.judged);
});
after(async () => demo?.close());

const cli = (args: string[]) => runCli(args, { env: demo.env });

const withDb = <T>(fn: (db: Db) => Promise<T>): Promise<T> => withOpen(() => demo.open(), fn);

function json(r: { code: number | null; stdout: string; stderr: string }, code = 0) {
  assert.equal(r.code, code, r.stderr);
  return JSON.parse(r.stdout);
}

const humanRows = () =>
  withDb((db) =>
    db.kysely
      .selectFrom('relevance_judgments')
      .select(['query_text', 'doc_key', 'grade', 'judge_spec', 'key_kind', 'actor'])
      .where('judge', '=', 'human')
      .orderBy('id')
      .execute(),
  );

interface Exported {
  query_id: string;
  query: string;
  key_kind: string;
  key: string;
  candidate_rank: number | null;
  baseline_rank: number | null;
  grade: number | null;
  passage: string;
}

/** RFC 4180, written out here (not the code under test): records of fields. */
function readCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) rows.push([...row, field]);
  return rows;
}
const csvField = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

let exported: Exported[];

test('judge export writes the unlabelled pool as JSONL and as CSV, with query and passage texts', async () => {
  const jsonl = join(demo.dir, 'pool.jsonl');
  const out = json(
    await cli(['judge', 'export', '--version', 'v2', '--judged', demo.judged, '--out', jsonl, '--json']),
  );
  exported = readFileSync(jsonl, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Exported);
  assert.equal(exported.length, out.pairs);
  assert.ok(exported.length > 30, `${exported.length} pairs`);
  assert.equal(out.queries, set.queries.length);
  const byId = new Map(set.queries.map((q) => [q.id, q]));
  const seen = new Set<string>();
  for (const e of exported) {
    const q = byId.get(e.query_id)!;
    assert.equal(e.query, q.text);
    assert.equal(e.key_kind, 'document_id');
    assert.equal(e.grade, null);
    assert.ok(!q.relevant.has(e.key), 'labelled pairs are not exported');
    assert.ok(e.passage.length > 20);
    assert.ok(e.candidate_rank !== null || e.baseline_rank !== null);
    for (const r of [e.candidate_rank, e.baseline_rank]) assert.ok(r === null || (r >= 1 && r <= 10));
    assert.ok(!seen.has(`${e.query_id} ${e.key}`), 'each pair once');
    seen.add(`${e.query_id} ${e.key}`);
  }

  const csv = join(demo.dir, 'pool.csv');
  const c = await cli(['judge', 'export', '--version', 'v2', '--judged', demo.judged, '--out', csv]);
  assert.equal(c.code, 0, c.stderr);
  assert.match(
    c.stdout,
    new RegExp(
      `wrote ${exported.length} unlabelled pairs of ${set.queries.length} queries to .*pool\\.csv.*embctl judge import`,
    ),
  );
  const [header, ...rows] = readCsv(readFileSync(csv, 'utf8'));
  assert.deepEqual(header, [
    'query_id',
    'query',
    'key_kind',
    'key',
    'candidate_rank',
    'baseline_rank',
    'grade',
    'passage',
  ]);
  assert.deepEqual(
    rows.map((r) => [r[0], r[1], r[3], r[7]]),
    exported.map((e) => [e.query_id, e.query, e.key, e.passage]),
  );
});

test('filled-in JSONL labels import as judge human; unlabelled lines are left out; the next export leaves them out', async () => {
  const file = join(demo.dir, 'filled.jsonl');
  const filled = exported.map((e, i) => ({ ...e, grade: i < 12 ? i % 4 : null }));
  writeFileSync(file, filled.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const r = await cli(['judge', 'import', file, '--judged', demo.judged]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    new RegExp(
      `imported 12 human labels from .*filled\\.jsonl \\(${exported.length - 12} lines without a grade left out\\)`,
    ),
  );
  const rows = await humanRows();
  assert.deepEqual(
    rows.map((x) => [x.query_text, x.doc_key, x.grade]),
    filled.slice(0, 12).map((e) => [e.query, e.key, e.grade]),
  );
  for (const x of rows) {
    assert.equal(x.judge_spec, `file:${file}`);
    assert.equal(x.key_kind, 'document_id');
    assert.equal(x.actor, 'judge-tester');
  }
  const next = json(
    await cli([
      'judge',
      'export',
      '--version',
      'v2',
      '--judged',
      demo.judged,
      '--out',
      join(demo.dir, 'next.jsonl'),
      '--json',
    ]),
  );
  assert.equal(next.pairs, exported.length - 12);
});

test('filled-in CSV labels import through --judge file:; a pair labelled again takes the new grade', async () => {
  const [header, ...rows] = readCsv(readFileSync(join(demo.dir, 'pool.csv'), 'utf8'));
  const gi = header!.indexOf('grade');
  const graded = rows.map((r, i) => r.map((f, j) => (j === gi && i >= 10 && i < 20 ? String((i + 1) % 4) : f)));
  graded[0]![gi] = '3'; // labelled 0 by the JSONL import: now 3
  const file = join(demo.dir, 'filled.csv');
  writeFileSync(file, [header!, ...graded].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n');
  const r = await cli(['judge', '--version', 'v2', '--judge', `file:${file}`, '--json']);
  const out = json(r);
  assert.equal(out.labels, 11);
  const stored = new Map((await humanRows()).map((x) => [`${x.query_text}\u0000${x.doc_key}`, x]));
  assert.equal(stored.size, 12 + 10 - 2, 'pairs 10 and 11 were in both files');
  const at = (i: number) => stored.get(`${exported[i]!.query}\u0000${exported[i]!.key}`)!;
  assert.equal(at(0).grade, 3);
  assert.equal(at(0).judge_spec, `file:${file}`);
  for (let i = 10; i < 20; i++) assert.equal(at(i).grade, (i + 1) % 4);
});

test('a bad labels file: every bad line reported at once (exit 2), nothing imported', async () => {
  const before = await humanRows();
  const q = set.queries[0]!;
  const good = { query: q.text, key: exported[30]!.key, grade: 2 };
  const lines = [
    JSON.stringify(good),
    JSON.stringify({ query: 'a query no one asked', key: exported[30]!.key, grade: 1 }),
    JSON.stringify({ query: q.text, key: 'no-such-doc', grade: 1 }),
    JSON.stringify({ query: q.text, key: exported[31]!.key, grade: 5 }),
    JSON.stringify({ query: q.text, key: exported[32]!.key, grade: 'two' }),
    '{"query": "broken',
    JSON.stringify({ query_id: 'nope', key: exported[33]!.key, grade: 1 }),
    JSON.stringify(good),
  ];
  const file = join(demo.dir, 'bad.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');
  const r = await cli(['judge', 'import', file, '--judged', demo.judged]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /labels file .*bad\.jsonl: 7 bad lines; nothing was imported: fix them and import again/);
  for (const re of [
    /line 2: unknown query "a query no one asked" \(not in judged set demo\)/,
    /line 3: unknown document "no-such-doc" \(not in the corpus\)/,
    /line 4: grade 5 is not an integer from 0 to 3/,
    /line 5: grade "two" is not an integer from 0 to 3/,
    /line 6: not valid JSON/,
    /line 7: unknown query_id "nope" \(not in judged set demo\)/,
    /line 8: the same query and key as line 1/,
  ])
    assert.match(r.stderr, re);
  assert.deepEqual(await humanRows(), before, 'nothing imported');

  const csv = join(demo.dir, 'bad.csv');
  writeFileSync(csv, 'query,key,score\nsome query,prod-001,1\n');
  const c = await cli(['judge', 'import', csv]);
  assert.equal(c.code, 2, c.stderr);
  assert.match(c.stderr, /line 1: no "grade" column/);
  const open = join(demo.dir, 'open.csv');
  writeFileSync(open, 'query,key,grade\n"unterminated,prod-001,1\n');
  const o = await cli(['judge', 'import', open]);
  assert.equal(o.code, 2, o.stderr);
  assert.match(o.stderr, /line 2: a quoted field is not closed/);
  const badCsv = join(demo.dir, 'bad2.csv');
  writeFileSync(
    badCsv,
    `query,key,grade\n${csvField(q.text)},${exported[30]!.key},1\n${csvField(q.text)},${exported[31]!.key},-1\n`,
  );
  const c2 = await cli(['judge', '--version', 'v2', '--judge', `file:${badCsv}`]);
  assert.equal(c2.code, 2, c2.stderr);
  assert.match(c2.stderr, /1 bad line; nothing was imported/);
  assert.match(c2.stderr, /line 3: grade "-1" is not an integer from 0 to 3/);
  assert.deepEqual(await humanRows(), before, 'nothing imported');

  const txt = await cli(['judge', 'import', join(demo.dir, 'labels.txt')]);
  assert.equal(txt.code, 2, txt.stderr);
  assert.match(txt.stderr, /use a \.jsonl or a \.csv file/);
});

test('label priority in evaluate: the set’s labels, then people’s, then the judge’s', async () => {
  const judged = json(
    await cli([
      'judge',
      '--version',
      'v2',
      '--judged',
      demo.judged,
      '--judge',
      'cross-encoder:test/fixtures/tiny-cross-encoder',
      '--thresholds',
      '-3,0,3',
      '--json',
    ]),
  );
  const judgeId: string = judged.judge;
  const human = await humanRows();
  assert.equal(judged.pool.labelled, judged.pool.pooled - judged.pool.toJudge, 'people’s pairs are not judged');
  assert.equal(judged.run.graded, exported.length - human.length);
  // People now label a pair the judge graded (with another grade): theirs counts.
  const judgeRows = await withDb((db) =>
    db.kysely
      .selectFrom('relevance_judgments')
      .select(['query_text', 'doc_key', 'grade'])
      .where('judge', '=', judgeId)
      .orderBy('id')
      .execute(),
  );
  const pair = judgeRows[0]!;
  const file = join(demo.dir, 'override.jsonl');
  writeFileSync(
    file,
    JSON.stringify({ query: pair.query_text, key: pair.doc_key, grade: (pair.grade! + 2) % 4 }) + '\n',
  );
  assert.equal((await cli(['judge', 'import', file])).code, 0);

  const setLabels = set.queries.reduce((n, q) => n + q.relevant.size, 0);
  const out = json(await cli(['evaluate', '--version', 'v2', '--judged', demo.judged, '--no-record', '--json']));
  assert.deepEqual(out.labels.counts, {
    'judged-set': setLabels,
    human: human.length + 1,
    [judgeId]: judgeRows.length - 1,
  });
  const onlyJudge = json(
    await cli(['evaluate', '--version', 'v2', '--judged', demo.judged, '--judges', judgeId, '--json']),
  );
  assert.deepEqual(onlyJudge.labels.counts, { 'judged-set': setLabels, [judgeId]: judgeRows.length });
});
