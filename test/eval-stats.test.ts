import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../src/errors.js';
import { alignByQuery, bootstrapConfidenceInterval, createRandom, randomizationTest } from '../src/stats/index.js';

/** Deterministic per-query scores in [0, 1]. */
function scores(n: number, seed: number): number[] {
  const rng = createRandom(seed);
  return Array.from({ length: n }, () => rng.next());
}

test('identical systems: p = 1 and the interval contains 0', () => {
  const a = scores(50, 1);
  const r = randomizationTest(a, [...a]);
  assert.equal(r.pValue, 1);
  assert.equal(r.meanDifference, 0);
  assert.equal(r.permutations, 10_000);
  const ci = bootstrapConfidenceInterval(a, [...a]);
  assert.ok(ci.lower <= 0 && ci.upper >= 0);
  assert.equal(ci.resamples, 10_000);
  assert.equal(ci.confidence, 0.95);
});

test('a clearly better system: p < 0.01 and the interval is above 0', () => {
  const base = scores(60, 2);
  const better = base.map((x, i) => Math.min(1, x + 0.1 + (i % 5) * 0.01));
  const r = randomizationTest(better, base);
  assert.ok(r.pValue < 0.01, `p = ${r.pValue}`);
  assert.equal(r.pValue, 1 / 10_001, 'no sign assignment is as extreme: the +1 correction is the floor');
  const ci = bootstrapConfidenceInterval(better, base);
  assert.ok(ci.lower > 0, `lower = ${ci.lower}`);
  assert.ok(ci.lower <= ci.meanDifference && ci.meanDifference <= ci.upper);
  // Swapping the systems mirrors the result.
  const swapped = bootstrapConfidenceInterval(base, better);
  assert.ok(swapped.upper < 0);
  assert.equal(randomizationTest(base, better).pValue, r.pValue);
});

test('noise only: a large p-value and an interval around 0', () => {
  const a = scores(80, 3);
  const b = scores(80, 4);
  const r = randomizationTest(a, b);
  assert.ok(r.pValue > 0.05, `p = ${r.pValue}`);
  const ci = bootstrapConfidenceInterval(a, b);
  assert.ok(ci.lower < 0 && ci.upper > 0);
});

test('the same seed gives the same result; another seed may differ', () => {
  const a = scores(40, 5);
  const b = a.map((x, i) => x + (i % 2 ? 0.03 : -0.01));
  const p1 = randomizationTest(a, b, { seed: 7, permutations: 2000 });
  const p2 = randomizationTest(a, b, { seed: 7, permutations: 2000 });
  assert.deepEqual(p1, p2);
  const c1 = bootstrapConfidenceInterval(a, b, { seed: 'release-42', resamples: 2000 });
  const c2 = bootstrapConfidenceInterval(a, b, { seed: 'release-42', resamples: 2000 });
  assert.deepEqual(c1, c2);
  const c3 = bootstrapConfidenceInterval(a, b, { seed: 'other', resamples: 2000 });
  assert.notDeepEqual(c1, c3);
  assert.deepEqual(randomizationTest(a, b), randomizationTest(a, b), 'the default seed is fixed');
});

test('the p-value agrees with the exact sign-flip distribution on a small case', () => {
  // 4 differences: 16 equally likely sign assignments; |sum| >= |observed| in exactly 2 of them.
  const a = [1, 1, 1, 1];
  const b = [0, 0, 0, 0];
  const r = randomizationTest(a, b, { permutations: 100_000, seed: 1 });
  const exact = 2 / 16;
  assert.ok(Math.abs(r.pValue - exact) < 0.01, `p = ${r.pValue}`);
});

test('bad input is an InputError listing every problem', () => {
  assert.throws(() => randomizationTest([1, 2], [1]), InputError);
  assert.throws(() => randomizationTest([], []), InputError);
  assert.throws(
    () => bootstrapConfidenceInterval([1, Number.NaN], [1, Number.POSITIVE_INFINITY]),
    (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.details.length, 1);
      return true;
    },
  );
  assert.throws(() => bootstrapConfidenceInterval([1], [0], { confidence: 1.5 }), InputError);
  assert.throws(() => randomizationTest([1], [0], { permutations: 0 }), InputError);
});

test('alignByQuery pairs per-query values by id and names the unpaired ones', () => {
  const aligned = alignByQuery(
    new Map([
      ['b', 2],
      ['a', 1],
    ]),
    new Map([
      ['a', 10],
      ['b', 20],
    ]),
  );
  assert.deepEqual(aligned, { qids: ['a', 'b'], a: [1, 2], b: [10, 20] });
  assert.throws(
    () =>
      alignByQuery(
        new Map([
          ['a', 1],
          ['c', 3],
        ]),
        new Map([
          ['a', 1],
          ['d', 4],
        ]),
      ),
    (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.details.length, 2);
      return true;
    },
  );
});
