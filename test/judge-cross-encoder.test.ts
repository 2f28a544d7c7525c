/**
 * The `cross-encoder:` judge over the tiny hand-built cross-encoder shipped in
 * test/fixtures/tiny-cross-encoder (scripts/make-tiny-cross-encoder.py): its
 * logit is a BM25-like overlap of the query and the passage, so scores are
 * deterministic and agree with common sense. Loaded offline: any network
 * access fails the test.
 *
 * No database: the same on both passes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EncoderEvent } from '../src/encoders/index.js';
import { EncoderError, InputError } from '../src/errors.js';
import {
  createCrossEncoderJudge,
  crossEncoderJudge,
  loadCrossEncoder,
  type CrossEncoder,
  type Judge,
  type JudgePair,
} from '../src/judges/index.js';
import { labelsProblem, rawScores } from '../src/judges/cross-encoder/logits.js';
import { TINY_CROSS_ENCODER, TINY_EMBEDDING_MODEL } from './support/cross-encoder.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RELATIVE = 'test/fixtures/tiny-cross-encoder';
/** sha256 of the fixture's files (path NUL size NUL bytes, sorted), as hashModelFolder computes it. */
const REVISION = '8ff3bfd7aaa7031653b13f571e9e9b34fdbfa0f626a38e14bb4312cb2f5a3800';

const QUERY = 'lightweight backpacking tent';
/** Passages with more and more of QUERY in them; their logits are pinned below. */
const LADDER: JudgePair[] = [
  'Our refund policy lets you return unused items within 30 days.',
  'A stove for backpacking trips.',
  'A lightweight stove for backpacking trips.',
  'A lightweight tent for backpacking trips.',
].map((passage) => ({ query: QUERY, passage }));
const LADDER_RAW = [-6, -3.7402, -0.0292, 2.5381];
/** The logit of a pair that shares nothing: 12 * 0 - 6. */
const NO_OVERLAP = -6;

const round4 = (xs: number[]) => xs.map((x) => Math.round(x * 1e4) / 1e4);
const okRaw = (v: { ok: boolean; raw?: number }[]) => round4(v.map((x) => (x.ok ? x.raw! : NaN)));

const fetched: string[] = [];
const realFetch = globalThis.fetch;
let tmp: string;
let emptyCache: string;
let judge: Judge;

before(async () => {
  globalThis.fetch = (async (input: unknown) => {
    fetched.push(String(input));
    throw new Error(`network access attempted: ${String(input)}`);
  }) as typeof fetch;
  tmp = await mkdtemp(join(tmpdir(), 'embctl-judge-ce-'));
  emptyCache = join(tmp, 'empty-cache');
  judge = await createCrossEncoderJudge(RELATIVE, { thresholds: [-4, 0, 2], cwd: ROOT, cacheDir: emptyCache });
});

after(async () => {
  await judge?.close?.();
  globalThis.fetch = realFetch;
  if (tmp) await rm(tmp, { recursive: true, force: true });
  assert.deepEqual(fetched, [], 'no network access');
});

/** A copy of the fixture whose config.json is changed by `edit`. */
async function fixtureCopy(name: string, edit: (config: Record<string, unknown>) => void): Promise<string> {
  const dir = join(tmp, name);
  await cp(TINY_CROSS_ENCODER, dir, { recursive: true });
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  edit(config);
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

describe('the cross-encoder judge: identity', () => {
  test('kind, spec, absolute folder, revision, settings and the id', () => {
    assert.deepEqual(judge.identity, {
      id: `cross-encoder:tiny-cross-encoder@${REVISION.slice(0, 12)}/t=-4,0,2`,
      kind: 'cross-encoder',
      spec: `cross-encoder:${RELATIVE}`,
      model: TINY_CROSS_ENCODER,
      revision: REVISION,
      settings: { thresholds: [-4, 0, 2], maxTokens: 512, labels: 1, dtype: 'fp32' },
    });
    assert.equal(judge.spec, `cross-encoder:${RELATIVE}`);
    assert.equal(judge.pricing, null);
    assert.equal(judge.maxBatchPairs, 32);
  });

  test('stable across loads; thresholds and max tokens change it, the revision stays', async () => {
    const same = await createCrossEncoderJudge(TINY_CROSS_ENCODER, { thresholds: [-4, 0, 2], cacheDir: emptyCache });
    const other = await createCrossEncoderJudge(TINY_CROSS_ENCODER, {
      thresholds: [-5, -1, 1.5],
      maxTokens: 64,
      cacheDir: emptyCache,
    });
    try {
      assert.equal(same.identity.id, judge.identity.id);
      assert.equal(same.identity.model, judge.identity.model);
      assert.equal(other.identity.id, `cross-encoder:tiny-cross-encoder@${REVISION.slice(0, 12)}/t=-5,-1,1.5`);
      assert.equal(other.identity.revision, REVISION);
      assert.deepEqual(other.identity.settings, { thresholds: [-5, -1, 1.5], maxTokens: 64, labels: 1, dtype: 'fp32' });
    } finally {
      await same.close?.();
      await other.close?.();
    }
  });

  test('a changed model file changes the revision', async () => {
    const dir = await fixtureCopy('edited', (c) => {
      c['_comment'] = 'edited';
    });
    const edited = await loadCrossEncoder(dir, { cacheDir: emptyCache });
    try {
      assert.notEqual(edited.identityBase.revision, REVISION);
      assert.match(edited.identityBase.revision, /^[0-9a-f]{64}$/);
      assert.equal(edited.identityBase.name, 'edited');
      assert.equal(edited.identityBase.model, dir);
    } finally {
      await edited.close();
    }
  });
});

describe('the cross-encoder judge: scores and grades', () => {
  test('raw is the logit, pinned; grades are the thresholds reached', async () => {
    const verdicts = await judge.judge(LADDER);
    assert.deepEqual(okRaw(verdicts), LADDER_RAW);
    assert.deepEqual(
      verdicts.map((v) => (v.ok ? v.grade : -1)),
      [0, 1, 1, 3],
    );
    const finer = await createCrossEncoderJudge(TINY_CROSS_ENCODER, { thresholds: [-6, -1, 1], cacheDir: emptyCache });
    try {
      // -6 reaches the threshold -6 exactly: a score equal to a threshold gets that grade.
      assert.deepEqual(
        (await finer.judge(LADDER)).map((v) => (v.ok ? v.grade : -1)),
        [1, 1, 2, 3],
      );
    } finally {
      await finer.close?.();
    }
  });

  test('a relevant passage scores above an irrelevant one, and the pair order is kept', async () => {
    const pairs: JudgePair[] = [
      { query: 'refund policy', passage: 'A lightweight tent for backpacking trips.' },
      { query: 'refund policy', passage: 'Our refund policy lets you return unused items within 30 days.' },
    ];
    const [irrelevant, relevant] = await judge.judge(pairs);
    assert.ok(irrelevant?.ok && relevant?.ok);
    assert.equal(irrelevant.raw, NO_OVERLAP);
    assert.ok(relevant.raw > irrelevant.raw, `relevant ${relevant.raw} > irrelevant ${irrelevant.raw}`);
    assert.ok(relevant.grade > irrelevant.grade);
  });

  test('batches of batchPairs give the same scores as one batch, with a request and a response event each', async () => {
    const small = await loadCrossEncoder(TINY_CROSS_ENCODER, { batchPairs: 3, cacheDir: emptyCache });
    try {
      const events: EncoderEvent[] = [];
      const scores = await small.score(LADDER, { onEvent: (e) => events.push(e) });
      assert.deepEqual(round4(scores), LADDER_RAW);
      assert.deepEqual(
        events.map((e) => `${e.type}:${'items' in e ? e.items : ''}`),
        ['request:3', 'response:3', 'request:1', 'response:1'],
      );
      const tokens = LADDER.map((p) => small.countTokens(p));
      const first = events[0] as { tokens: number };
      assert.equal(first.tokens, tokens[0]! + tokens[1]! + tokens[2]!);
      assert.deepEqual(await small.score([]), []);
    } finally {
      await small.close();
    }
  });

  test('countTokens is the encoded pair: [CLS] query [SEP] passage [SEP]', () => {
    // "tent" is two word pieces in the tiny vocabulary: [CLS] red ten ##t [SEP] a ten ##t [SEP].
    assert.equal(judge.countTokens({ query: 'red tent', passage: 'a tent' }), 9);
    assert.equal(judge.countTokens({ query: '', passage: '' }), 3);
  });

  test('a very long passage is cut to the model length: its tail is not seen, and countTokens says so', async () => {
    const rare = 'invoice';
    const padding = Array.from({ length: 600 }, () => 'the').join(' ');
    const late = { query: rare, passage: `${padding} ${rare}` };
    const early = { query: rare, passage: `${rare} ${padding}` };
    assert.equal(judge.countTokens(late), 512);
    const [l, e] = await judge.judge([late, early]);
    assert.ok(l?.ok && e?.ok);
    assert.equal(l.raw, NO_OVERLAP, 'a query word after token 512 is cut off');
    assert.ok(e.raw > NO_OVERLAP, `a query word before token 512 counts: ${e.raw}`);
  });

  test('maxTokens cuts shorter, and is capped at the model length', async () => {
    const short = await loadCrossEncoder(TINY_CROSS_ENCODER, { maxTokens: 16, cacheDir: emptyCache });
    const huge = await loadCrossEncoder(TINY_CROSS_ENCODER, { maxTokens: 100_000, cacheDir: emptyCache });
    try {
      assert.equal(short.maxTokens, 16);
      assert.equal(huge.maxTokens, 512);
      const filler = Array.from({ length: 20 }, () => 'the').join(' ');
      const late = { query: 'invoice', passage: `${filler} invoice` };
      const early = { query: 'invoice', passage: `invoice ${filler}` };
      assert.equal(short.countTokens(late), 16);
      // "invoice" is two word pieces: [CLS] 2 [SEP] 20 2 [SEP].
      assert.equal(huge.countTokens(late), 27);
      const [l, e] = await short.score([late, early]);
      assert.equal(l, NO_OVERLAP, 'the query word at tokens 25-26 is past 16');
      assert.ok(e! > NO_OVERLAP);
      assert.ok((await huge.score([late]))[0]! > NO_OVERLAP, 'within 512 tokens it counts');
    } finally {
      await short.close();
      await huge.close();
    }
  });

  test('a score that is not finite is an ok:false verdict with a reason, not a grade', async () => {
    const fake: CrossEncoder = {
      identityBase: {
        kind: 'cross-encoder',
        spec: 'cross-encoder:fake',
        name: 'fake',
        model: 'fake',
        revision: 'f'.repeat(64),
        settings: { maxTokens: 8, labels: 1, dtype: 'fp32' },
      },
      folder: '/nowhere',
      maxTokens: 8,
      batchPairs: 4,
      countTokens: () => 3,
      score: async (pairs) => pairs.map((_, i) => [NaN, 1.5, Infinity][i]!),
      close: async () => {},
    };
    const j = crossEncoderJudge(fake, [0, 1, 2]);
    assert.equal(j.identity.id, 'cross-encoder:fake@ffffffffffff/t=0,1,2');
    assert.deepEqual(await j.judge(LADDER.slice(0, 3)), [
      { ok: false, reason: "the cross-encoder's score is not a finite number (NaN)" },
      { ok: true, grade: 2, raw: 1.5 },
      { ok: false, reason: "the cross-encoder's score is not a finite number (Infinity)" },
    ]);
  });

  test('two labels score logit[1] - logit[0]; one label its logit; a wrong shape is an EncoderError', () => {
    const tensor = (dims: number[], data: number[]) => ({ dims, type: 'float32', data: Float32Array.from(data) });
    assert.deepEqual(rawScores(tensor([2, 2], [0, 1, 2, -1]), 2, 2, 'm'), [1, -3]);
    assert.deepEqual(rawScores(tensor([2, 1], [0.5, -2]), 2, 1, 'm'), [0.5, -2]);
    assert.throws(
      () => rawScores(tensor([2, 1], [0.5, -2]), 3, 1, 'm'),
      (e: Error) => e instanceof EncoderError && e.message === 'm: expected logits [3, 1] from the model, got [2, 1]',
    );
    assert.throws(() => rawScores(undefined, 1, 1, 'm'), EncoderError);
    assert.equal(labelsProblem(2, undefined), undefined);
    assert.equal(labelsProblem(1, 1), undefined);
    assert.match(labelsProblem(3, undefined)!, /^the model returns 3 labels per pair; a relevance judge needs/);
    assert.match(labelsProblem(undefined, 5)!, /^config.json declares 5 labels; a relevance judge needs/);
    assert.equal(labelsProblem(undefined, undefined), undefined);
  });
});

describe('the cross-encoder judge: refusals', () => {
  test('the embedding model (no classification head) is refused in one line that says what to use', async () => {
    await assert.rejects(createCrossEncoderJudge(TINY_EMBEDDING_MODEL, { thresholds: [-2, 0, 2] }), (e: Error) => {
      assert.ok(e instanceof InputError, e.constructor.name);
      assert.equal(
        e.message,
        `cross-encoder:${TINY_EMBEDDING_MODEL}: ${TINY_EMBEDDING_MODEL} has no classification head ` +
          '(its ONNX model returns last_hidden_state, not logits; config.json architectures: BertModel): ' +
          'use a reranker exported for sequence classification, e.g. cross-encoder:./models/ms-marco-MiniLM-L-6-v2',
      );
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  });

  test('a missing folder is refused', async () => {
    await assert.rejects(
      createCrossEncoderJudge('./no-such-model', { thresholds: [-2, 0, 2], cwd: tmp, cacheDir: emptyCache }),
      (e: Error) =>
        e instanceof InputError &&
        e.message ===
          `cross-encoder:./no-such-model: model folder "./no-such-model" not found: ${join(tmp, 'no-such-model')}`,
    );
  });

  test('a model id that is not downloaded is refused offline, saying to download it into a folder', async () => {
    await assert.rejects(
      loadCrossEncoder('cross-encoder/ms-marco-MiniLM-L-6-v2', { cwd: tmp, cacheDir: emptyCache }),
      (e: Error) => {
        assert.ok(e instanceof InputError);
        assert.equal(
          e.message,
          'cross-encoder:cross-encoder/ms-marco-MiniLM-L-6-v2: no such folder, and the model is not downloaded; ' +
            'judges run offline: download the model (ONNX) into a folder and pass cross-encoder:<that folder>',
        );
        assert.deepEqual((e as InputError).details, [
          `looked for the folder cross-encoder/ms-marco-MiniLM-L-6-v2 under ${tmp}`,
          `looked for the model id in ${join(emptyCache, 'cross-encoder', 'ms-marco-MiniLM-L-6-v2')}`,
        ]);
        return true;
      },
    );
  });

  test('a model id found in the cache dir loads, and its identity names the id; a folder by path names the folder', async () => {
    const cache = join(tmp, 'cache');
    await cp(TINY_CROSS_ENCODER, join(cache, 'acme', 'tiny-ce'), { recursive: true });
    const byId = await createCrossEncoderJudge('acme/tiny-ce', { thresholds: [-4, 0, 2], cwd: tmp, cacheDir: cache });
    try {
      assert.equal(byId.identity.model, 'acme/tiny-ce');
      assert.equal(byId.identity.revision, REVISION);
      assert.equal(byId.identity.id, `cross-encoder:acme/tiny-ce@${REVISION.slice(0, 12)}/t=-4,0,2`);
      assert.deepEqual(okRaw(await byId.judge(LADDER)), LADDER_RAW);
    } finally {
      await byId.close?.();
    }
    // A bare folder name given by path is still named by its absolute folder.
    const byPath = await loadCrossEncoder('tiny-cross-encoder', {
      cwd: join(ROOT, 'test', 'fixtures'),
      cacheDir: cache,
    });
    try {
      assert.equal(byPath.identityBase.model, TINY_CROSS_ENCODER);
      assert.equal(byPath.identityBase.name, 'tiny-cross-encoder');
    } finally {
      await byPath.close();
    }
  });

  test('bad thresholds are refused with what thresholds must be', async () => {
    const cases: [number[], RegExp][] = [
      [[1, 0, 2], /thresholds must ascend/],
      [[0, 0, 2], /thresholds must ascend/],
      [[0, 1], /thresholds are three finite numbers/],
      [[NaN, 0, 1], /thresholds are three finite numbers/],
      [[0, 1, 2, 3], /thresholds are three finite numbers/],
    ];
    for (const [thresholds, message] of cases) {
      await assert.rejects(
        createCrossEncoderJudge(TINY_CROSS_ENCODER, { thresholds, cacheDir: emptyCache }),
        (e: Error) => e instanceof InputError && message.test(e.message) && e.message.startsWith('cross-encoder:'),
        `thresholds ${thresholds.join(',')}`,
      );
    }
  });

  test('bad maxTokens or batchPairs are refused together', async () => {
    await assert.rejects(
      loadCrossEncoder(TINY_CROSS_ENCODER, { maxTokens: 0, batchPairs: 1.5, cacheDir: emptyCache }),
      (e: Error) =>
        e instanceof InputError &&
        e.message ===
          `cross-encoder:${TINY_CROSS_ENCODER}: maxTokens must be a positive integer (got 0); ` +
            'batchPairs must be a positive integer (got 1.5)',
    );
  });

  test('a model with more than two labels is refused, and so is one whose config disagrees with its output', async () => {
    const three = await fixtureCopy('three-labels', (c) => {
      c['id2label'] = { 0: 'a', 1: 'b', 2: 'c' };
      c['num_labels'] = 3;
    });
    await assert.rejects(
      loadCrossEncoder(three, { cacheDir: emptyCache }),
      (e: Error) =>
        e instanceof InputError &&
        e.message ===
          `cross-encoder:${three}: config.json declares 3 labels; a relevance judge needs a reranker ` +
            'with one score (1 label) or not-relevant/relevant (2 labels)',
    );
    const two = await fixtureCopy('two-labels', (c) => {
      c['id2label'] = { 0: 'not relevant', 1: 'relevant' };
      c['num_labels'] = 2;
    });
    await assert.rejects(
      loadCrossEncoder(two, { cacheDir: emptyCache }),
      (e: Error) =>
        e instanceof InputError &&
        e.message === `cross-encoder:${two}: config.json declares 2 labels but the model returns 1`,
    );
  });

  test('close twice is safe; a closed judge refuses to judge', async () => {
    const j = await createCrossEncoderJudge(TINY_CROSS_ENCODER, { thresholds: [-4, 0, 2], cacheDir: emptyCache });
    assert.equal((await j.judge(LADDER.slice(0, 1))).length, 1);
    await j.close?.();
    await j.close?.();
    await assert.rejects(j.judge(LADDER), (e: Error) => e instanceof EncoderError && /is closed/.test(e.message));
  });

  test('an aborted signal stops before any model run', async () => {
    const events: EncoderEvent[] = [];
    await assert.rejects(
      judge.judge(LADDER, { signal: AbortSignal.abort(), onEvent: (e) => events.push(e) }),
      (e: Error) => e.name === 'AbortError',
    );
    assert.deepEqual(events, []);
  });
});
