import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../src/errors.js';
import {
  DEFAULT_HASH_VARIANT,
  HASH_ENCODER_REVISION,
  HASH_VARIANTS,
  createHashEncoder,
  porterStem,
} from '../src/encoders/hash/index.js';
import { murmur3Bytes } from '../src/encoders/hash/murmur3.js';

const KNOWN = 'Vitamin D deficiency increases the risk of tuberculosis.';

async function embedOne(spec: string | undefined, text: string): Promise<Float32Array> {
  const [v] = await createHashEncoder(spec).embed([text]);
  return v!;
}

function norm(v: Float32Array): number {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
}

function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s / (norm(a) * norm(b));
}

/** The first `n` non-zero components as [index, value]. */
function firstNonZero(v: Float32Array, n: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < v.length && out.length < n; i++) if (v[i] !== 0) out.push([i, v[i]!]);
  return out;
}

test('murmur3 x86_32 matches the reference test vectors', () => {
  const h = (s: string, seed: number) => {
    const b = new TextEncoder().encode(s);
    return murmur3Bytes(b, 0, b.length, seed);
  };
  assert.equal(h('', 0), 0);
  assert.equal(h('', 1), 0x514e28b7);
  assert.equal(h('a', 0x9747b28c), 0x7fa09ea6);
  assert.equal(h('Hello, world!', 0x9747b28c), 0x24884cba);
  assert.equal(h('The quick brown fox jumps over the lazy dog', 0x9747b28c), 0x2fa826cd);
});

// Fixed outputs: if one of these changes, the algorithm changed and
// HASH_ENCODER_REVISION must be bumped (stored vectors are no longer comparable).
test('outputs are fixed (a change here needs a revision bump)', async () => {
  assert.equal(HASH_ENCODER_REVISION, 'hash-v1');
  const a = 0.40824830532073975; // 1/sqrt(6) in float32: six distinct stemmed content words
  assert.deepEqual(firstNonZero(await embedOne('words-32', KNOWN), 6), [
    [4, a],
    [16, -a],
    [20, -a],
    [21, -a],
    [22, a],
    [31, -a],
  ]);
  assert.deepEqual(firstNonZero(await embedOne('words-256', KNOWN), 6), [
    [36, a],
    [80, -a],
    [85, -a],
    [150, a],
    [159, -a],
    [180, -a],
  ]);
  const b = 0.06651900708675385;
  assert.deepEqual(firstNonZero(await embedOne('mixed-1536', KNOWN), 6), [
    [19, -b],
    [41, b],
    [45, -0.1330380141735077],
    [75, b],
    [79, -b],
    [87, -b],
  ]);
});

test('deterministic across calls and encoder instances, and batch-independent', async () => {
  const enc = createHashEncoder();
  const [x1, other, x2] = await enc.embed([KNOWN, 'something else entirely', KNOWN]);
  assert.deepEqual(x1, x2);
  assert.deepEqual(await embedOne(undefined, KNOWN), x1);
  assert.notDeepEqual(x1, other);
});

test('every variant: declared dimensions, unit norm, float32, finite', async () => {
  const texts = [KNOWN, 'A', '¿Qué tal? Ça va — 東京 2024', 'the of and', '', 'x'.repeat(5000)];
  for (const v of HASH_VARIANTS) {
    const enc = createHashEncoder(v.name);
    assert.equal(enc.dimensions, v.dimensions);
    assert.ok(v.dimensions <= 2000, `${v.name}: pgvector HNSW limit`);
    assert.equal(enc.normalized, true);
    const out = await enc.embed(texts);
    assert.equal(out.length, texts.length);
    for (const vec of out) {
      assert.ok(vec instanceof Float32Array);
      assert.equal(vec.length, v.dimensions);
      assert.ok(vec.every(Number.isFinite));
      assert.ok(Math.abs(norm(vec) - 1) < 1e-5, `${v.name}: norm ${norm(vec)}`);
    }
  }
});

test('the variants named in the brief exist with their dimensions', () => {
  const dims = Object.fromEntries(HASH_VARIANTS.map((v) => [v.name, v.dimensions]));
  assert.deepEqual(dims, { 'words-32': 32, 'words-256': 256, 'mixed-384': 384, 'mixed-768': 768, 'mixed-1536': 1536 });
  for (const v of HASH_VARIANTS) assert.ok(v.description.length > 0);
});

test('similar texts are closer than unrelated ones', async () => {
  for (const v of HASH_VARIANTS.filter((x) => x.dimensions >= 256)) {
    const [q, near, far] = await createHashEncoder(v.name).embed([
      'Vitamin D deficiency raises tuberculosis risk',
      'Deficient vitamin D levels and the risk of tuberculosis infection',
      'Stock markets rallied after the central bank cut interest rates',
    ]);
    assert.ok(cosine(q!, near!) > cosine(q!, far!) + 0.2, v.name);
  }
});

test('stemming and case folding make inflected forms match', async () => {
  const enc = createHashEncoder('words-256');
  const [a, b] = await enc.embed(['Running mice were TREATED', 'run mouse treat']);
  // 'mice' is irregular (Porter leaves it), the other two words match.
  assert.ok(Math.abs(cosine(a!, b!) - 2 / 3) < 1e-6);
  const [c, d] = await enc.embed(['Ｃａｆé connections', 'café connection']); // NFKC folds full-width letters
  assert.ok(Math.abs(cosine(c!, d!) - 1) < 1e-6);
});

test('porter stemmer', () => {
  const cases: Record<string, string> = {
    caresses: 'caress',
    ponies: 'poni',
    ties: 'ti',
    cats: 'cat',
    feed: 'feed',
    agreed: 'agre',
    plastered: 'plaster',
    motoring: 'motor',
    sing: 'sing',
    hopping: 'hop',
    falling: 'fall',
    filing: 'file',
    sized: 'size',
    happy: 'happi',
    sky: 'sky',
    relational: 'relat',
    conditional: 'condit',
    rational: 'ration',
    generalizations: 'gener',
    adjustment: 'adjust',
    effective: 'effect',
    electrical: 'electr',
    hopeful: 'hope',
    goodness: 'good',
    adoption: 'adopt',
    replacement: 'replac',
    controll: 'control',
    roll: 'roll',
    running: 'run',
    cells: 'cell',
    is: 'is',
    naïve: 'naïve',
    covid19: 'covid19',
  };
  for (const [word, stem] of Object.entries(cases)) assert.equal(porterStem(word), stem, word);
});

test('`hash` alone is the default variant, with the same identity', () => {
  const bare = createHashEncoder('hash');
  const none = createHashEncoder();
  const explicit = createHashEncoder(`hash:${DEFAULT_HASH_VARIANT}`);
  const short = createHashEncoder(DEFAULT_HASH_VARIANT);
  for (const e of [bare, none, short]) assert.deepEqual(e.identity, explicit.identity);
  assert.equal(explicit.identity.name, `hash:${DEFAULT_HASH_VARIANT}`);
  assert.equal(explicit.identity.revision, HASH_ENCODER_REVISION);
  assert.equal(explicit.identity.settings.dimensions, explicit.dimensions);
  assert.equal(bare.spec, 'hash');
  assert.equal(explicit.spec, `hash:${DEFAULT_HASH_VARIANT}`);
  assert.equal(short.spec, `hash:${DEFAULT_HASH_VARIANT}`);
  assert.notDeepEqual(createHashEncoder('words-256').identity, explicit.identity);
});

test('empty, whitespace and wordless texts get one fixed non-zero unit vector', async () => {
  const enc = createHashEncoder();
  const [empty, blank, punct, stop, word] = await enc.embed(['', ' \n\t ', '!!! -- ...', 'to be or not to be', 'be']);
  for (const v of [empty, blank, punct, stop]) assert.ok(Math.abs(norm(v!) - 1) < 1e-6);
  assert.deepEqual(blank, empty);
  assert.deepEqual(punct, empty);
  // A text of stopwords only keeps them instead of collapsing to the empty vector.
  assert.notDeepEqual(stop, empty);
  assert.ok(cosine(stop!, word!) > 0);
});

test('countTokens counts word tokens', () => {
  const enc = createHashEncoder();
  assert.equal(enc.countTokens(''), 0);
  assert.equal(enc.countTokens('  Hello, world! IL-6 levels rose 3.5% '), 8); // 3.5 is two tokens
  assert.equal(enc.countTokens('the of and'), 3);
});

test('unknown variant is an InputError listing the known variants', () => {
  assert.throws(
    () => createHashEncoder('hash:nope-99'),
    (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, /nope-99/);
      for (const v of HASH_VARIANTS) assert.ok(e.details.some((d) => d.includes(`hash:${v.name}`)));
      return true;
    },
  );
});

test('embed enforces the batch size, rejects non-strings and honours abort', async () => {
  const enc = createHashEncoder('words-256');
  await assert.rejects(enc.embed(new Array(enc.maxBatchItems + 1).fill('x')), InputError);
  await assert.rejects(enc.embed([42 as unknown as string]), InputError);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(enc.embed(['x'], { signal: ac.signal }), { name: 'AbortError' });
  const events: string[] = [];
  await enc.embed(['a b', 'c'], { onEvent: (e) => events.push(`${e.type}:${'tokens' in e ? e.tokens : ''}`) });
  assert.deepEqual(events, ['request:3', 'response:3']);
  assert.deepEqual(await enc.embed([]), []);
  await enc.close();
  await enc.close();
});

test('the token memo stays bounded over endless distinct tokens, and vectors do not depend on what it holds', async () => {
  const { Lexicon } = await import('../src/encoders/hash/lexicon.js');
  const lex = new Lexicon(HASH_VARIANTS.find((v) => v.name === 'mixed-384')!);
  for (let i = 0; i < 200_000; i++) lex.get(`token${i}`);
  assert.ok(lex.size <= 65_536, `memo holds ${lex.size} tokens`);
  lex.get('frequent');
  for (let i = 0; i < 30_000; i++) {
    lex.get(`other${i}`);
    if (i % 100 === 0) assert.equal(lex.get('frequent'), lex.get('frequent'), 'a word in use keeps its entry');
  }

  const encoder = createHashEncoder('mixed-384');
  const texts = [KNOWN, 'A text with a repeated repeated word, and numbers 12 12 345.'];
  const before = await encoder.embed(texts);
  // Fill the memo past two generations with tokens of no text above, then embed the same texts again.
  const filler = Array.from({ length: 100 }, (_, b) =>
    Array.from({ length: 1000 }, (_, i) => `filler${b * 1000 + i}`).join(' '),
  );
  await encoder.embed(filler);
  const after = await encoder.embed(texts);
  for (let i = 0; i < texts.length; i++) assert.deepEqual(after[i], before[i]);
  assert.deepEqual(before[0], await embedOne('mixed-384', KNOWN));
});
