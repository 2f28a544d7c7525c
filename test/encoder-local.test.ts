/**
 * The `local:` encoder against a real ONNX model: the tiny random-weight
 * BERT-like model shipped in test/fixtures/tiny-model (made by
 * scripts/make-tiny-model.py), loaded offline by @huggingface/transformers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AutoModel } from '@huggingface/transformers';
import { EncoderError, EncoderOutputError, InputError } from '../src/errors.js';
import { createLocalEncoder, hashModelFolder, type LocalEncoder } from '../src/encoders/local/index.js';
import { splitVectors } from '../src/encoders/local/vectors.js';

const MODEL = fileURLToPath(new URL('./fixtures/tiny-model', import.meta.url));
/** sha256 of the shipped fixture (path NUL size NUL bytes, sorted). Regenerating it must reproduce this. */
const TINY_REVISION = '044830b8a90f05bb79f89fb8a0680c1f2dfd57cf130415eef55585f15d60314d';

const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((x, i) => x === b[i]);

// Any network access fails the test: transformers.js fetches through the global fetch.
const fetched: string[] = [];
const realFetch = globalThis.fetch;
let tmp: string;
let enc: LocalEncoder;

before(async () => {
  globalThis.fetch = (async (input: unknown) => {
    fetched.push(String(input));
    throw new Error(`network access attempted: ${String(input)}`);
  }) as typeof fetch;
  tmp = await mkdtemp(join(tmpdir(), 'embctl-local-'));
  // An empty cache dir and no remote loading: the folder alone must suffice.
  enc = await createLocalEncoder({ model: MODEL, allowRemote: false, cacheDir: join(tmp, 'empty-cache') });
});

after(async () => {
  await enc?.close();
  globalThis.fetch = realFetch;
  await rm(tmp, { recursive: true, force: true });
  assert.deepEqual(fetched, [], 'no network access');
});

describe('local encoder on the shipped tiny model', () => {
  test('identity, limits and dimensions before the first embed', () => {
    assert.equal(enc.spec, `local:${MODEL}`);
    assert.deepEqual(enc.identity, {
      name: 'local:tiny-model',
      revision: TINY_REVISION,
      settings: { pooling: 'mean', normalize: true, dtype: 'fp32' },
    });
    assert.equal(enc.dimensions, 32);
    assert.equal(enc.normalized, true);
    assert.equal(enc.maxBatchItems, 32);
    assert.equal(enc.maxInputTokens, 128);
    assert.equal(enc.maxBatchTokens, 32 * 128);
  });

  test('embeds offline: one unit vector of 32 finite numbers per text, in order', async () => {
    const texts = ['The cat sat on the mat.', 'Stock markets fell sharply today', 'the cat sat on the mat.', ''];
    const vectors = await enc.embed(texts);
    assert.equal(vectors.length, texts.length);
    for (const v of vectors) {
      assert.ok(v instanceof Float32Array);
      assert.equal(v.length, 32);
      assert.ok(v.every(Number.isFinite));
      assert.ok(Math.abs(norm(v) - 1) < 1e-5, `norm ${norm(v)}`);
    }
    // Lower-casing tokenizer: these two are the same token sequence.
    assert.ok(same(vectors[0]!, vectors[2]!));
    assert.ok(!same(vectors[0]!, vectors[1]!));
    assert.equal(fetched.length, 0);
  });

  test('identical texts give identical vectors, different texts different ones', async () => {
    const [a, b, c, d] = await enc.embed(['hello world', 'hello world', 'goodbye world', 'world hello']);
    assert.ok(same(a!, b!));
    assert.ok(!same(a!, c!));
    assert.ok(!same(a!, d!), 'word order matters (position embeddings)');
  });

  test('deterministic across instances and batch sizes', async () => {
    const texts = ['first text about databases', 'a second, longer text about vector indexes and recall', 'third'];
    const other = await createLocalEncoder({ model: MODEL, maxBatchItems: 1 });
    try {
      const events: string[] = [];
      const mine = await enc.embed(texts);
      const theirs = await other.embed(texts, {
        onEvent: (e) => events.push(`${e.type}:${'items' in e ? e.items : '?'}`),
      });
      assert.deepEqual(events, ['request:1', 'response:1', 'request:1', 'response:1', 'request:1', 'response:1']);
      assert.equal(other.identity.revision, enc.identity.revision);
      for (let i = 0; i < texts.length; i++) {
        assert.ok(
          mine[i]!.every((x, j) => Math.abs(x - theirs[i]![j]!) < 1e-6),
          `text ${i}`,
        );
      }
    } finally {
      await other.close();
    }
  });

  test('countTokens uses the WordPiece tokenizer and caps at the max length', () => {
    assert.equal(enc.countTokens('the world'), 4); // [CLS] the world [SEP]
    assert.equal(enc.countTokens('Hello world'), 5); // [CLS] hell ##o world [SEP]
    assert.equal(enc.countTokens(''), 2);
    const long = Array.from({ length: 300 }, () => 'word').join(' ');
    assert.equal(enc.countTokens(long), 128);
  });

  test('inputs over the max length are truncated, not rejected', async () => {
    const head = Array.from({ length: 200 }, (_, i) => (i % 2 ? 'vector' : 'database')).join(' ');
    const [a, b] = await enc.embed([head, `${head} and a different tail after the cut`]);
    assert.ok(same(a!, b!), 'the tail past 128 tokens is not embedded');
  });

  test('reports request and response events with token counts', async () => {
    const events: unknown[] = [];
    await enc.embed(['the world', 'one two three'], { onEvent: (e) => events.push(e) });
    assert.deepEqual(events[0], { type: 'request', items: 2, tokens: 4 + 5 });
    assert.equal((events[1] as { type: string }).type, 'response');
    assert.equal((events[1] as { tokens: number }).tokens, 9);
  });

  test('pooling and normalize change the output and the settings', async () => {
    const cls = await createLocalEncoder({ model: MODEL, pooling: 'cls', normalize: false });
    try {
      assert.deepEqual(cls.identity.settings, { pooling: 'cls', normalize: false, dtype: 'fp32' });
      assert.equal(cls.identity.revision, TINY_REVISION);
      assert.equal(cls.normalized, false);
      const [raw, other] = await cls.embed(['hello world', 'goodbye world']);
      const [mean] = await enc.embed(['hello world']);
      assert.ok(Math.abs(norm(raw!) - 1) > 1e-3, 'not normalised');
      assert.ok(!same(raw!, other!), 'the [CLS] vector depends on the text');
      const unit = raw!.map((x) => x / norm(raw!));
      assert.ok(!unit.every((x, i) => Math.abs(x - mean![i]!) < 1e-4), 'cls differs from mean');
    } finally {
      await cls.close();
    }
  });

  test('empty input needs no model run', async () => {
    assert.deepEqual(await enc.embed([]), []);
  });
});

describe('local encoder lifecycle', () => {
  test('loads the ONNX session once under concurrent calls, lazily', async () => {
    const original = AutoModel.from_pretrained;
    let loads = 0;
    AutoModel.from_pretrained = function (this: unknown, ...args: Parameters<typeof original>) {
      loads++;
      return original.apply(this, args);
    } as typeof original;
    try {
      const lazy = await createLocalEncoder({ model: MODEL });
      assert.equal(loads, 0, 'creating the encoder does not load the model');
      const results = await Promise.all([lazy.embed(['a']), lazy.embed(['b']), lazy.embed(['a']), lazy.load()]);
      assert.equal(loads, 1);
      assert.ok(same(results[0]![0]!, results[2]![0]!));
      await lazy.close();
      await lazy.close(); // safe twice
      await assert.rejects(lazy.embed(['a']), EncoderError);
    } finally {
      AutoModel.from_pretrained = original;
    }
  });

  test('close while the first load is in flight', async () => {
    const e = await createLocalEncoder({ model: MODEL });
    const pending = e.embed(['x']);
    await e.close();
    await assert.rejects(pending, EncoderError);
  });

  test('honours an abort signal before and between batches', async () => {
    const e = await createLocalEncoder({ model: MODEL, maxBatchItems: 1 });
    try {
      await assert.rejects(e.embed(['a'], { signal: AbortSignal.abort() }), { name: 'AbortError' });
      const ctl = new AbortController();
      const seen: string[] = [];
      const run = e.embed(['a', 'b', 'c'], {
        signal: ctl.signal,
        onEvent: (ev) => {
          seen.push(ev.type);
          if (ev.type === 'response') ctl.abort();
        },
      });
      await assert.rejects(run, { name: 'AbortError' });
      assert.deepEqual(seen, ['request', 'response']);
    } finally {
      await e.close();
    }
  });
});

describe('local encoder model lookup and errors', () => {
  test('a missing folder is an InputError', async () => {
    await assert.rejects(createLocalEncoder({ model: join(tmp, 'no-such-model') }), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, /model folder .* not found/);
      return true;
    });
    await assert.rejects(createLocalEncoder({ model: './no/such/folder' }), InputError);
  });

  test('a model id not in the cache dir is an InputError when remote loading is off', async () => {
    const cacheDir = join(tmp, 'cache-empty');
    await assert.rejects(createLocalEncoder({ model: 'someone/missing-model', cacheDir }), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.match(
        e.message,
        /model "someone\/missing-model" not found locally; pass a folder, or allow remote loading/,
      );
      return true;
    });
    assert.equal(fetched.length, 0);
  });

  test('a model id is found in the cache dir, with the same revision', async () => {
    const cacheDir = join(tmp, 'cache');
    await cp(MODEL, join(cacheDir, 'acme', 'tiny'), { recursive: true });
    const e = await createLocalEncoder({ model: 'acme/tiny', cacheDir });
    try {
      assert.equal(e.identity.name, 'local:acme/tiny');
      assert.equal(e.identity.revision, TINY_REVISION);
      const [v] = await e.embed(['hello world']);
      const [w] = await enc.embed(['hello world']);
      assert.ok(same(v!, w!));
    } finally {
      await e.close();
    }
  });

  test('a sentence-transformers 1_Pooling config sets the default pooling', async () => {
    const copy = join(tmp, 'st-model');
    await cp(MODEL, copy, { recursive: true });
    await mkdir(join(copy, '1_Pooling'));
    await writeFile(join(copy, '1_Pooling', 'config.json'), JSON.stringify({ pooling_mode_cls_token: true }));
    const e = await createLocalEncoder({ model: copy });
    assert.equal(e.identity.settings['pooling'], 'cls');
    assert.notEqual(e.identity.revision, TINY_REVISION);
    const explicit = await createLocalEncoder({ model: copy, pooling: 'mean' });
    assert.equal(explicit.identity.settings['pooling'], 'mean');
  });

  test('the revision changes when a model file changes', async () => {
    const copy = join(tmp, 'changed');
    await cp(MODEL, copy, { recursive: true });
    assert.equal(await hashModelFolder(copy), TINY_REVISION);
    await writeFile(join(copy, '.ignored-dotfile'), 'x');
    assert.equal(await hashModelFolder(copy), TINY_REVISION, 'dot-files are not part of the model');
    await writeFile(join(copy, 'extra.txt'), 'x');
    assert.notEqual(await hashModelFolder(copy), TINY_REVISION);
  });

  test('bad options, folders without a model, and a missing dtype file are InputErrors', async () => {
    await assert.rejects(
      createLocalEncoder({ model: MODEL, pooling: 'max' as 'mean', maxBatchItems: 0, dtype: 'fp64' }),
      (e: unknown) => {
        assert.ok(e instanceof InputError);
        assert.equal(e.details.length, 3);
        return true;
      },
    );
    await assert.rejects(createLocalEncoder({ model: tmp }), /no config\.json/);
    await assert.rejects(createLocalEncoder({ model: MODEL, dtype: 'q8' }), /no onnx\/model_quantized\.onnx/);
  });

  test('bad model output is an error naming the encoder', () => {
    const check = { encoder: 'local:tiny-model', count: 2, dimensions: 2, normalized: true, label: 'batch 3' };
    const ok = { dims: [2, 2], type: 'float32', data: new Float32Array([1, 0, 0, 1]) };
    assert.equal(splitVectors(ok, check).length, 2);
    const bad = [
      { ...ok, data: new Float32Array([1, 0, NaN, 1]) },
      { ...ok, dims: [1, 4] },
      { ...ok, dims: [2, 2], data: new Float32Array([2, 0, 0, 1]) },
      { ...ok, dims: [2, 3], data: new Float32Array(6).fill(0.5) },
    ];
    for (const output of bad) {
      assert.throws(
        () => splitVectors(output, check),
        (e: unknown) => {
          assert.ok(e instanceof EncoderOutputError);
          assert.match(e.message, /^local:tiny-model \(batch 3\) returned a bad embedding/);
          return true;
        },
      );
    }
  });
});
