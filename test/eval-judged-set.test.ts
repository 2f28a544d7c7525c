import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCIFACT_DIR, SCIFACT_SKIP } from './support/data.js';
import { InputError } from '../src/errors.js';
import { evaluateRun, type Run } from '../src/trec/index.js';
import {
  judgedSetQrels,
  loadJudgedSet,
  parseJudgedSetJsonl,
  parseTrecJudgedSet,
  readBeirJudgedSet,
  toJudgedSetJsonl,
} from '../src/judged-set/index.js';

const SCIFACT = SCIFACT_DIR;

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    return e.details;
  }
  assert.fail('expected an InputError');
}

async function rejectedProblems(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    return e.details;
  }
  assert.fail('expected an InputError');
}

const GOOD = [
  '{"embctl_judged_set": 1, "key": "semantic_key", "name": "faq", "description": "FAQ queries"}',
  '{"id": "q1", "query": "how do I reset my password", "segment": "account", "relevant": {"k1": 2, "k2": 1, "k9": 0}}',
  '',
  '{"id": "q2", "query": "refund policy", "relevant": {"k3": 1}}',
].join('\n');

test('embctl JSONL: header, queries, segments and grades', () => {
  const set = parseJudgedSetJsonl(GOOD, 'evals/faq.jsonl');
  assert.equal(set.name, 'faq');
  assert.equal(set.description, 'FAQ queries');
  assert.equal(set.keyKind, 'semantic_key');
  assert.equal(set.source, 'evals/faq.jsonl');
  assert.equal(set.queries.length, 2);
  assert.deepEqual(set.queries[0], {
    id: 'q1',
    text: 'how do I reset my password',
    segment: 'account',
    relevant: new Map([
      ['k1', 2],
      ['k2', 1],
      ['k9', 0],
    ]),
  });
  assert.equal(set.queries[1]!.segment, null);
  assert.match(set.sha256, /^[0-9a-f]{64}$/);
});

test('the caller key kind and name win; without a header the key kind defaults to document_id', () => {
  const overridden = parseJudgedSetJsonl(GOOD, 'faq.jsonl', { keyKind: 'document_id', name: 'mine' });
  assert.equal(overridden.keyKind, 'document_id');
  assert.equal(overridden.name, 'mine');
  const bare = parseJudgedSetJsonl(GOOD.split('\n').slice(1).join('\n'), 'evals/support-v2.jsonl');
  assert.equal(bare.keyKind, 'document_id');
  assert.equal(bare.name, 'support-v2');
});

test('sha256 covers the content, not line order, key order, name or description', () => {
  const a = parseJudgedSetJsonl(GOOD, 'a.jsonl');
  const reordered = [
    '{"embctl_judged_set": 1, "key": "semantic_key", "name": "other name"}',
    '{"id": "q2", "query": "refund policy", "relevant": {"k3": 1}}',
    '{"relevant": {"k9": 0, "k2": 1, "k1": 2}, "segment": "account", "query": "how do I reset my password", "id": "q1"}',
  ].join('\n');
  assert.equal(parseJudgedSetJsonl(reordered, 'b.jsonl').sha256, a.sha256);
  const regraded = GOOD.replace('"k3": 1', '"k3": 2');
  assert.notEqual(parseJudgedSetJsonl(regraded, 'a.jsonl').sha256, a.sha256);
  assert.notEqual(parseJudgedSetJsonl(GOOD, 'a.jsonl', { keyKind: 'document_id' }).sha256, a.sha256);
});

test('embctl JSONL: every problem is reported with file and line, all at once', () => {
  const text = [
    '{"embctl_judged_set": 2, "key": "chunk_id"}',
    '{"id": "q1", "query": "ok", "relevant": {"d1": 1}}',
    '{"id": "q1", "query": "dup", "relevant": {"d1": 1}}',
    '{"id": "q2", "query": "broken", ',
    '{"query": "no id", "relevant": {"d1": 1}}',
    '{"id": "q3", "relevant": {"d1": 1}}',
    '{"id": "q4", "query": "grades", "relevant": {"d1": -1, "d2": 1.5, "d3": "2"}}',
    '{"id": "q5", "query": "nothing relevant", "relevant": {}}',
    '{"id": "q6", "query": "only zeros", "relevant": {"d1": 0}}',
    '{"id": "q7", "query": "no relevant field"}',
    '["not", "an", "object"]',
    '{"embctl_judged_set": 1, "key": "document_id"}',
    '{"id": "q8", "query": "bad segment", "segment": 3, "relevant": {"d1": 1}}',
  ].join('\n');
  assert.deepEqual(
    problemsOf(() => parseJudgedSetJsonl(text, 'evals/bad.jsonl')),
    [
      'evals/bad.jsonl:1: unsupported embctl_judged_set version 2 (expected 1)',
      'evals/bad.jsonl:1: unknown key kind "chunk_id" (expected "document_id" or "semantic_key")',
      'evals/bad.jsonl:3: duplicate query id "q1" (first on line 2)',
      `evals/bad.jsonl:4: malformed JSON (${jsonError('{"id": "q2", "query": "broken",')})`,
      'evals/bad.jsonl:5: missing or empty "id" (a non-empty string)',
      'evals/bad.jsonl:6: missing or empty "query" (a non-empty string)',
      'evals/bad.jsonl:7: bad grade -1 for "d1" (an integer >= 0)',
      'evals/bad.jsonl:7: bad grade 1.5 for "d2" (an integer >= 0)',
      'evals/bad.jsonl:7: bad grade "2" for "d3" (an integer >= 0)',
      'evals/bad.jsonl:8: query has no relevant entry',
      'evals/bad.jsonl:9: query has no relevant entry with grade >= 1 (every measure would be 0)',
      'evals/bad.jsonl:10: missing "relevant" (an object of key -> grade)',
      'evals/bad.jsonl:11: expected a JSON object',
      'evals/bad.jsonl:12: the embctl_judged_set header must be the first line',
      'evals/bad.jsonl:13: "segment" must be a non-empty string, got 3',
    ],
  );
  assert.deepEqual(
    problemsOf(() => parseJudgedSetJsonl('\n\n', 'empty.jsonl')),
    ['empty.jsonl: the judged set is empty'],
  );
});

function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

test('TREC qrels + TSV or JSONL queries; queries without qrels are dropped', () => {
  const qrelsText = 'q1 0 d1 1\nq1 0 d2 0\nq2 0 d7 2\n';
  const tsv = parseTrecJudgedSet({
    qrelsText,
    qrelsSource: 'qrels.txt',
    queriesText: 'q1\tfirst query\nq2\tsecond query\nq3\tno judgments\n',
    queriesSource: 'topics.tsv',
  });
  assert.equal(tsv.name, 'qrels');
  assert.equal(tsv.keyKind, 'document_id');
  assert.deepEqual(
    tsv.queries.map((q) => [q.id, q.text, [...q.relevant]]),
    [
      [
        'q1',
        'first query',
        [
          ['d1', 1],
          ['d2', 0],
        ],
      ],
      ['q2', 'second query', [['d7', 2]]],
    ],
  );
  const jsonl = parseTrecJudgedSet(
    {
      qrelsText,
      qrelsSource: 'qrels.txt',
      queriesText: '{"_id": "q2", "text": "second query"}\n{"_id": "q1", "text": "first query"}\n',
      queriesSource: 'queries.jsonl',
    },
    { keyKind: 'semantic_key', name: 'x' },
  );
  assert.equal(jsonl.keyKind, 'semantic_key');
  assert.equal(jsonl.name, 'x');
  assert.equal(
    jsonl.sha256,
    parseTrecJudgedSet(
      {
        qrelsText,
        qrelsSource: 'q',
        queriesText: 'q1\tfirst query\nq2\tsecond query\n',
        queriesSource: 't',
      },
      { keyKind: 'semantic_key' },
    ).sha256,
  );
});

test('TREC judged set: problems of both files reported together', () => {
  const details = problemsOf(() =>
    parseTrecJudgedSet({
      qrelsText: 'q1 0 d1 1\nq1 0 d1 2\nq9 0 d1 1\nq2 0 d3\nq2 0 d4 high\n',
      qrelsSource: 'qrels.txt',
      queriesText: 'q1\tfirst\nq1\tagain\nq2 no tab here\nq3\t\n',
      queriesSource: 'topics.tsv',
    }),
  );
  assert.deepEqual(details, [
    'topics.tsv:2: duplicate query id "q1" (first on line 1)',
    'topics.tsv:3: expected "qid<TAB>text"',
    'topics.tsv:4: empty query text',
    'qrels.txt:2: duplicate judgment for query "q1", document "d1"',
    'qrels.txt:4: expected 4 fields "qid iter docno rel", found 3',
    'qrels.txt:5: relevance "high" is not an integer',
    'qrels.txt:3: qrels for unknown query "q9" (not in the queries file)',
  ]);
});

test('BEIR SciFact: 300 test queries, 339 judgments, scored end to end', { skip: SCIFACT_SKIP }, async () => {
  const set = await readBeirJudgedSet(SCIFACT);
  assert.equal(set.name, 'scifact/test');
  assert.equal(set.keyKind, 'document_id');
  assert.equal(set.queries.length, 300);
  const judgments = set.queries.reduce((n, q) => n + q.relevant.size, 0);
  assert.equal(judgments, 339);
  assert.ok(set.queries.every((q) => q.text.length > 0 && [...q.relevant.values()].every((g) => g === 1)));
  assert.match(set.sha256, /^[0-9a-f]{64}$/);

  // The same set through the generic loader and through embctl's own format has the same hash.
  const viaLoader = await loadJudgedSet(SCIFACT);
  assert.equal(viaLoader.sha256, set.sha256);
  const roundTrip = parseJudgedSetJsonl(toJudgedSetJsonl(set), 'scifact.jsonl');
  assert.equal(roundTrip.sha256, set.sha256);
  assert.equal(roundTrip.name, 'scifact/test');

  // A run that returns exactly the judged documents is perfect.
  const run: Run = new Map(
    set.queries.map((q) => [q.id, [...q.relevant.keys()].map((docno, i) => ({ docno, score: 10 - i }))]),
  );
  const r = evaluateRun(judgedSetQrels(set), run, { measures: ['nDCG@10', 'R@100', 'MRR'] });
  assert.equal(r.numQueries, 300);
  assert.equal(r.all.ndcg_cut_10, 1);
  assert.equal(r.all.recall_100, 1);
  assert.equal(r.all.num_rel, 339);
});

test('BEIR layout: every problem reported with file and line', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'embctl-beir-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'qrels'));
  await writeFile(
    join(dir, 'queries.jsonl'),
    '{"_id": "1", "text": "a claim"}\n{"_id": "2"}\nnot json\n{"_id": 3, "text": "numeric id"}\n',
  );
  await writeFile(
    join(dir, 'qrels', 'test.tsv'),
    'qid\tdoc\tscore\n1\t10\t1\n1\t10\t1\n7\t11\t1\n3\t12\tx\n3\t13\t1\n',
  );
  const details = await rejectedProblems(readBeirJudgedSet(dir));
  assert.equal(details.length, 6, details.join('\n'));
  const q = join(dir, 'queries.jsonl');
  const r = join(dir, 'qrels', 'test.tsv');
  assert.equal(details[0], `${q}:2: missing or empty "text"`);
  assert.match(details[1]!, new RegExp(`^${escape(q)}:3: malformed JSON`));
  assert.equal(details[2], `${r}:1: expected the header "query-id<TAB>corpus-id<TAB>score", found "qid\tdoc\tscore"`);
  assert.equal(details[3], `${r}:3: duplicate judgment for query "1", document "10"`);
  assert.equal(details[4], `${r}:5: score "x" is not an integer`);
  assert.equal(details[5], `${r}:4: qrels for unknown query "7" (not in the queries file)`);

  await assert.rejects(
    readBeirJudgedSet(dir, { split: 'dev' }),
    (e: unknown) => e instanceof InputError && /no such file/.test(e.message),
  );
  await assert.rejects(loadJudgedSet(join(dir, 'missing.jsonl')), InputError);
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
