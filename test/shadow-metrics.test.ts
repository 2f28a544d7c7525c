import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { agreement, jaccardAtK, overlapAtK, rankBiasedOverlap, topK } from '../src/shadow/agreement.js';
import { sampled } from '../src/shadow/sampling.js';
import { mean, quantile } from '../src/stats/index.js';
import { parseDuration, parseSince } from '../src/shadow/duration.js';
import { UsageError } from '../src/errors.js';

const close = (actual: number, expected: number, eps = 1e-12) =>
  assert.ok(Math.abs(actual - expected) <= eps, `expected ${expected}, got ${actual}`);

describe('overlap@K and Jaccard', () => {
  test('hand-computed values', () => {
    // top-4: {1,2,3,4} ∩ {2,5,1,6} = {1,2}; union has 6 ids.
    close(overlapAtK([1, 2, 3, 4], [2, 5, 1, 6], 4), 2 / 4);
    close(jaccardAtK([1, 2, 3, 4], [2, 5, 1, 6], 4), 2 / 6);
    // K cuts both lists first: {1,2} vs {2,5}.
    close(overlapAtK([1, 2, 3, 4], [2, 5, 1, 6], 2), 1 / 2);
    close(jaccardAtK([1, 2, 3, 4], [2, 5, 1, 6], 2), 1 / 3);
    close(overlapAtK([1, 2, 3], [1, 2, 3], 3), 1);
    close(overlapAtK([1, 2, 3], [4, 5, 6], 3), 0);
    close(jaccardAtK([1, 2, 3], [4, 5, 6], 3), 0);
  });

  test('lists shorter than K are compared on what they hold', () => {
    close(overlapAtK([1, 2], [2, 1], 10), 1);
    close(overlapAtK([1, 2], [1], 10), 1 / 2);
    close(jaccardAtK([1, 2], [1], 10), 1 / 2);
    // Both empty agree; one empty does not.
    close(overlapAtK([], [], 10), 1);
    close(jaccardAtK([], [], 10), 1);
    close(overlapAtK([1], [], 10), 0);
  });

  test('repeated ids count once, K must be a positive whole number', () => {
    assert.deepEqual(topK([3, 3, 1, 3, 2], 2), [3, 1]);
    close(overlapAtK([1, 1, 2], [2, 3], 2), 1 / 2);
    assert.throws(() => overlapAtK([1], [1], 0), RangeError);
    assert.throws(() => jaccardAtK([1], [1], 1.5), RangeError);
  });
});

describe('rank-biased overlap (RBO_ext, p = 0.9)', () => {
  test('identical lists give 1, disjoint lists 0', () => {
    const l = Array.from({ length: 10 }, (_, i) => i);
    close(rankBiasedOverlap(l, [...l]), 1);
    close(rankBiasedOverlap([1], [1]), 1);
    close(rankBiasedOverlap([1, 2, 3], [4, 5, 6]), 0);
    close(rankBiasedOverlap([1, 2], [3, 4, 5]), 0);
    close(rankBiasedOverlap([], []), 1);
    close(rankBiasedOverlap([1, 2], []), 0);
  });

  test('[a,b,c] vs [a,c,b]: X = 1,1,3', () => {
    // (1-p)/p·(1·0.9 + ½·0.81 + 3/3·0.729) + 3/3·0.729 = 2.034/9 + 0.729 = 0.955
    close(rankBiasedOverlap(['a', 'b', 'c'], ['a', 'c', 'b']), 0.955);
  });

  test('[b,a] vs [a,b]: agreement 0 at depth 1, then 1 for ever = p', () => {
    // (1/9)·(0 + 2/2·0.81) + 2/2·0.81 = 0.09 + 0.81 = 0.9
    close(rankBiasedOverlap(['b', 'a'], ['a', 'b']), 0.9);
  });

  test('uneven lengths: the shorter list is extrapolated (eq. 32)', () => {
    // S=[a,e], L=[a,b,c,d]: s=2, l=4, X = 1,1,1,1, X_s = X_l = 1.
    // Σ X_d/d·p^d = 0.9 + 0.405 + 0.243 + 0.164025 = 1.712025
    // Σ_{d=3,4} X_s(d-s)/(s·d)·p^d = 0.1215 + 0.164025 = 0.285525
    // (1/9)·1.99755 + (0/4 + 1/2)·0.6561 = 0.22195 + 0.32805 = 0.55
    close(rankBiasedOverlap(['a', 'e'], ['a', 'b', 'c', 'd']), 0.55);
    // S=[a,b], L=[c,a,d,b]: X = 0,1,1,2, X_s = 1, X_l = 2.
    // Σ X_d/d·p^d = 0 + 0.405 + 0.243 + 0.32805 = 0.97605; extrapolation 0.285525 as above
    // (1/9)·1.261575 + ((2-1)/4 + 1/2)·0.6561 = 0.140175 + 0.492075 = 0.63225
    close(rankBiasedOverlap(['a', 'b'], ['c', 'a', 'd', 'b']), 0.63225);
    // A prefix of the other list: extrapolated agreement stays 1.
    close(rankBiasedOverlap(['a', 'b'], ['a', 'b', 'c', 'd']), 1);
  });

  test('symmetric, bounded, and order-sensitive where overlap@K is not', () => {
    const a = [5, 1, 9, 3, 7];
    const b = [1, 5, 3, 8, 2, 9];
    close(rankBiasedOverlap(a, b), rankBiasedOverlap(b, a));
    const top = rankBiasedOverlap([1, 2, 3, 4], [1, 2, 4, 3]);
    const bottom = rankBiasedOverlap([1, 2, 3, 4], [2, 1, 3, 4]);
    assert.ok(top > bottom, 'a swap at the top costs more than one lower down');
    close(overlapAtK([1, 2, 3, 4], [1, 2, 4, 3], 4), overlapAtK([1, 2, 3, 4], [2, 1, 3, 4], 4));
    assert.throws(() => rankBiasedOverlap([1], [1], 1), RangeError);
  });

  test('agreement() cuts at K first', () => {
    const g = agreement([1, 2, 3, 4, 5], [1, 2, 9, 8, 7], 2);
    assert.deepEqual(g, { overlapAtK: 1, jaccard: 1, rbo: 1 });
    const h = agreement(['a', 'b', 'c'], ['a', 'c', 'b'], 3);
    close(h.overlapAtK, 1);
    close(h.jaccard, 1);
    close(h.rbo, 0.955);
  });
});

describe('report statistics and inputs', () => {
  test('mean and type-7 quantiles', () => {
    assert.equal(mean([]), null);
    close(mean([1, 2, 3, 4])!, 2.5);
    close(quantile([5, 1, 4, 2, 3], 0.1)!, 1.4);
    close(quantile([1, 2, 3, 4, 5], 0.5)!, 3);
    close(quantile([1, 2, 3, 4, 5], 0.95)!, 4.8);
    close(quantile([7], 0.95)!, 7);
    assert.equal(quantile([], 0.5), null);
  });

  test('sampling: rate 1 takes every query, rate 0 none', () => {
    assert.equal(
      sampled(1, () => 0.999999),
      true,
    );
    assert.equal(
      sampled(0, () => 0),
      false,
    );
    assert.equal(
      sampled(0.25, () => 0.2),
      true,
    );
    assert.equal(
      sampled(0.25, () => 0.25),
      false,
    );
  });

  test('durations: 30m, 24h, 7d; anything else is a usage error', () => {
    assert.equal(parseDuration('30m'), 30 * 60_000);
    assert.equal(parseDuration('24h'), 86_400_000);
    assert.equal(parseDuration('7d'), 7 * 86_400_000);
    const now = new Date('2025-01-10T12:00:00Z');
    assert.equal(parseSince('24h', now).toISOString(), '2025-01-09T12:00:00.000Z');
    assert.equal(parseSince('2025-01-01T00:00:00Z', now).toISOString(), '2025-01-01T00:00:00.000Z');
    for (const bad of ['5x', '0h', '', 'h', '-1d']) assert.throws(() => parseDuration(bad), UsageError, bad);
  });
});
