/**
 * The tiny cross-encoder shipped in test/fixtures/tiny-cross-encoder (made by
 * scripts/make-tiny-cross-encoder.py): its bytes, how @huggingface/transformers
 * loads and tokenizes it, and its scores through the `cross-encoder:` judge's
 * scorer (loadCrossEncoder), offline. Its
 * score is a hand-built BM25-like lexical overlap (see the script), so the
 * tests can check that it agrees with common sense. Also: the tiny embedding
 * model, which has no classification head, as the broken case.
 *
 * No database: the same on both passes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as transformers from '@huggingface/transformers';
import { loadCrossEncoder, type CrossEncoder } from '../src/judges/index.js';
import { TINY_CROSS_ENCODER, TINY_EMBEDDING_MODEL } from './support/cross-encoder.js';

/** sha256 of each fixture file: regenerating the fixture must reproduce these bytes. */
const FILE_SHA256: Record<string, string> = {
  'config.json': '85c9e42d7e1abe133071e08cfc1d7e4f61022e41c3802016e8ec8c005c1dd6c0',
  'onnx/model.onnx': 'f1f1f454bcb0c625e27f47229803ce3378174bc7d23f840260f8cf5b18050ad2',
  'tokenizer.json': 'dfee8f19ab6f7cac4d6f5dc29136aadc583e4110cb38fe8ada4308b214b2e070',
  'tokenizer_config.json': 'a1accb356dcb48609f90e1b08b7e0ca6a0a4aa14b5cb7703994e79a757475804',
};

const QUERY = 'lightweight backpacking tent';
/** Passages with more and more of QUERY in them. */
const LADDER = [
  'Our refund policy lets you return unused items within 30 days.',
  'A stove for backpacking trips.',
  'A lightweight stove for backpacking trips.',
  'A lightweight tent for backpacking trips.',
];
/** The logit of a pair that shares nothing: 12 * 0 - 6. */
const NO_OVERLAP = -6;

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const round4 = (xs: number[]) => xs.map((x) => Math.round(x * 1e4) / 1e4);

// Any network access fails the test: transformers.js fetches through the global fetch.
const fetched: string[] = [];
const realFetch = globalThis.fetch;
let allowRemoteBefore: boolean;
let model: CrossEncoder;
const loadTransformers = async () => transformers;
/** One raw score per pair; `queries[i]` goes with `passages[i]`. */
const scorer = {
  score: (queries: string[], passages: string[]) =>
    model.score(queries.map((query, i) => ({ query, passage: passages[i]! }))),
};

before(async () => {
  globalThis.fetch = (async (input: unknown) => {
    fetched.push(String(input));
    throw new Error(`network access attempted: ${String(input)}`);
  }) as typeof fetch;
  const { env } = await loadTransformers();
  allowRemoteBefore = env.allowRemoteModels;
  env.allowRemoteModels = false;
  model = await loadCrossEncoder(TINY_CROSS_ENCODER);
});

after(async () => {
  await model?.close();
  (await loadTransformers()).env.allowRemoteModels = allowRemoteBefore;
  globalThis.fetch = realFetch;
  assert.deepEqual(fetched, [], 'no network access');
});

describe('the tiny cross-encoder fixture', () => {
  test("its files are the committed bytes, and its tokenizer is the tiny embedding model's", () => {
    const files = readdirSync(TINY_CROSS_ENCODER, { recursive: true, encoding: 'utf8' })
      .filter((f) => !f.startsWith('.') && statSync(`${TINY_CROSS_ENCODER}/${f}`).isFile())
      .map((f) => f.split(sep).join('/'))
      .sort();
    assert.deepEqual(files, Object.keys(FILE_SHA256).sort());
    for (const [file, hash] of Object.entries(FILE_SHA256)) {
      assert.equal(sha256(`${TINY_CROSS_ENCODER}/${file}`), hash, file);
    }
    assert.equal(sha256(`${TINY_EMBEDDING_MODEL}/tokenizer.json`), FILE_SHA256['tokenizer.json']);
  });

  test('it loads as BertForSequenceClassification: BERT inputs, one regression logit', async () => {
    const { AutoConfig, AutoModelForSequenceClassification } = await loadTransformers();
    const classifier = await AutoModelForSequenceClassification.from_pretrained(TINY_CROSS_ENCODER, {
      local_files_only: true,
      device: 'cpu',
      dtype: 'fp32',
    });
    try {
      const session = classifier.sessions['model'] as { inputNames: string[]; outputNames: string[] };
      assert.equal(classifier.constructor.name, 'BertForSequenceClassification');
      assert.deepEqual(session.inputNames, ['input_ids', 'attention_mask', 'token_type_ids']);
      assert.deepEqual(session.outputNames, ['logits']);
    } finally {
      await classifier.dispose();
    }
    assert.equal(model.maxTokens, 512);
    assert.equal(model.identityBase.settings.labels, 1);
    const config = (await AutoConfig.from_pretrained(TINY_CROSS_ENCODER, {
      local_files_only: true,
    })) as unknown as Record<string, unknown>;
    assert.equal(config['model_type'], 'bert');
    assert.equal(config['num_labels'], 1);
    assert.deepEqual(config['id2label'], { 0: 'LABEL_0' });
    assert.equal(config['problem_type'], 'regression');
  });

  test('the tokenizer encodes a pair as [CLS] query [SEP] passage [SEP], segments 0 then 1', async () => {
    const { AutoTokenizer } = await loadTransformers();
    const tokenizer = await AutoTokenizer.from_pretrained(TINY_CROSS_ENCODER, { local_files_only: true });
    const enc = tokenizer(['red tent', 'a'], { text_pair: ['a tent', 'b c d'], padding: true, truncation: true });
    const ids = enc['input_ids'] as { dims: number[]; data: BigInt64Array };
    const types = enc['token_type_ids'] as { dims: number[]; data: BigInt64Array };
    const mask = enc['attention_mask'] as { dims: number[]; data: BigInt64Array };
    assert.deepEqual(ids.dims, [2, 9]);
    const row = (t: { data: BigInt64Array }, r: number) => Array.from(t.data.slice(r * 9, r * 9 + 9), Number);
    // "tent" is not in the tiny vocabulary: it is two word pieces.
    const tokens = (r: number) => tokenizer.model.convert_ids_to_tokens(row(ids, r)).join(' ');
    assert.equal(tokens(0), '[CLS] red ten ##t [SEP] a ten ##t [SEP]');
    assert.deepEqual(row(types, 0), [0, 0, 0, 0, 0, 1, 1, 1, 1]);
    assert.equal(tokens(1), '[CLS] a [SEP] b c d [SEP] [PAD] [PAD]');
    assert.deepEqual(row(types, 1), [0, 0, 0, 1, 1, 1, 1, 0, 0]);
    assert.deepEqual(row(mask, 1), [1, 1, 1, 1, 1, 1, 1, 0, 0]);
  });

  test('a batch gets one score per pair, the same twice, the same as one pair at a time, pinned', async () => {
    const queries = LADDER.map(() => QUERY);
    const first = await scorer.score(queries, LADDER);
    const second = await scorer.score(queries, LADDER);
    assert.equal(first.length, LADDER.length);
    assert.deepEqual(second, first);
    for (let i = 0; i < LADDER.length; i++) {
      const [alone] = await scorer.score([QUERY], [LADDER[i]!]);
      assert.ok(Math.abs(alone! - first[i]!) < 1e-5, `pair ${i}: ${alone} alone, ${first[i]} in a padded batch`);
    }
    assert.deepEqual(round4(first), [NO_OVERLAP, -3.7402, -0.0292, 2.5381]);
  });

  test('more overlap gives a higher score; no overlap gives the floor', async () => {
    const scores = await scorer.score(
      LADDER.map(() => QUERY),
      LADDER,
    );
    assert.equal(scores[0], NO_OVERLAP);
    for (let i = 1; i < scores.length; i++) {
      assert.ok(scores[i]! > scores[i - 1]!, `passage ${i} (${scores[i]}) above passage ${i - 1} (${scores[i - 1]})`);
    }
  });

  test('a rare word shared counts more than a common one', async () => {
    // Each query word is one token, so only the words' weights tell the passages apart.
    const [rare, common] = await scorer.score(
      ['the policy', 'the policy'],
      ['a policy was sent', 'the letter was sent'],
    );
    assert.ok(rare! > common!, `rare ${rare} > common ${common}`);
    assert.ok(common! > NO_OVERLAP, `a common word still counts a little: ${common}`);
  });

  test('the pair order matters: the score is how much of the first segment the second covers', async () => {
    const short = 'tent';
    const long = 'a lightweight tent for backpacking trips';
    const [forward, backward] = await scorer.score([short, long], [long, short]);
    assert.ok(forward! > backward!, `(short, long) ${forward} > (long, short) ${backward}`);
    assert.deepEqual(round4([forward!, backward!]), [2.581, -4.0761]);
  });

  test('empty texts and passages past the length limit still give one score each', async () => {
    const rare = 'invoice';
    const padding = Array.from({ length: 600 }, () => 'the').join(' ');
    const scores = await scorer.score(['', rare, rare, rare], [rare, '', `${padding} ${rare}`, `${rare} ${padding}`]);
    assert.equal(scores[0], NO_OVERLAP, 'an empty query matches nothing');
    assert.equal(scores[1], NO_OVERLAP, 'an empty passage matches nothing');
    // truncation: true keeps the first 512 tokens of the pair: the passage's tail (and last [SEP]) is dropped.
    assert.equal(scores[2], NO_OVERLAP, 'a query word after token 512 is cut off');
    assert.ok(scores[3]! > NO_OVERLAP, `a query word before token 512 counts: ${scores[3]}`);
  });

  test("it agrees with the demo's judgments: judged documents above non-judged ones", async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const lines = (path: string) =>
      readFileSync(`${root}/${path}`, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const docs = lines('examples/demo/corpus.jsonl') as { id: string; title: string; text: string }[];
    const queries = lines('evals/demo.judged.jsonl').filter((q) => !('embctl_judged_set' in q)) as {
      query: string;
      relevant: Record<string, number>;
    }[];
    let right = 0;
    let pairs = 0;
    let n = 0;
    for (const q of queries) {
      const judged = docs.filter((d) => q.relevant[d.id]);
      // 5 non-judged documents per query, picked by a fixed stride (no randomness in tests).
      const others = docs.filter((d) => !q.relevant[d.id]);
      const picked = Array.from({ length: 5 }, (_, k) => others[(n * 7 + k * 61) % others.length]!);
      n++;
      const batch = [...judged, ...picked];
      const s = await scorer.score(
        batch.map(() => q.query),
        batch.map((d) => `${d.title}\n\n${d.text}`),
      );
      for (let i = 0; i < judged.length; i++) {
        for (let j = judged.length; j < batch.length; j++) {
          right += s[i]! > s[j]! ? 1 : s[i] === s[j] ? 0.5 : 0;
          pairs++;
        }
      }
    }
    assert.ok(right / pairs > 0.9, `share ranked right: ${right / pairs} over ${pairs} pairs`);
  });
});

describe('a model folder without a classification head (the tiny embedding model)', () => {
  // So the judge checks the ONNX outputs, not config.json alone (test/judge-cross-encoder.test.ts checks its refusal).
  test('transformers.js loads it as a sequence classifier without complaint, and it returns no logits', async () => {
    const { AutoModelForSequenceClassification, AutoTokenizer } = await loadTransformers();
    const classifier = await AutoModelForSequenceClassification.from_pretrained(TINY_EMBEDDING_MODEL, {
      local_files_only: true,
      device: 'cpu',
      dtype: 'fp32',
    });
    try {
      assert.equal(classifier.constructor.name, 'BertForSequenceClassification');
      assert.deepEqual((classifier.sessions['model'] as { outputNames: string[] }).outputNames, ['last_hidden_state']);
      const tokenizer = await AutoTokenizer.from_pretrained(TINY_EMBEDDING_MODEL, { local_files_only: true });
      const out = (await classifier(tokenizer(['q'], { text_pair: ['p'], padding: true, truncation: true }))) as {
        logits?: unknown;
      };
      assert.equal(out.logits, undefined);
    } finally {
      await classifier.dispose();
    }
  });
});
