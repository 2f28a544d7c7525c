import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, parseResetDuration, parseRetryAfter, parseRetryAfterValue } from '../src/util/backoff.js';

const fixed = (x: number) => () => x;

test('full jitter: uniform in [0, min(max, base·2^(n-1))]', () => {
  const p = { baseMs: 100, maxMs: 1000, jitter: 'full' as const };
  assert.equal(backoffDelay({ attempt: 1 }, { ...p, random: fixed(0) }), 0);
  assert.equal(backoffDelay({ attempt: 1 }, { ...p, random: fixed(0.5) }), 50);
  assert.equal(backoffDelay({ attempt: 3 }, { ...p, random: fixed(0.5) }), 200);
  assert.equal(backoffDelay({ attempt: 10 }, { ...p, random: fixed(0.5) }), 500); // capped at 1000
  assert.ok(backoffDelay({ attempt: 10_000 }, { ...p, random: fixed(0.999) }) <= 1000); // no overflow
  for (let i = 0; i < 200; i++) {
    const d = backoffDelay({ attempt: 4 }, { ...p });
    assert.ok(d >= 0 && d <= 800, String(d));
  }
});

test('no jitter: plain capped exponential', () => {
  const p = { baseMs: 100, maxMs: 1000, jitter: 'none' as const };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay({ attempt }, p)),
    [100, 200, 400, 800, 1000, 1000],
  );
});

test('decorrelated jitter: in [base, 3·previous], capped', () => {
  const p = { baseMs: 100, maxMs: 1000, jitter: 'decorrelated' as const };
  assert.equal(backoffDelay({ attempt: 1 }, { ...p, random: fixed(0) }), 100);
  assert.equal(backoffDelay({ attempt: 1 }, { ...p, random: fixed(0.999999) }), 300);
  assert.equal(backoffDelay({ attempt: 2, previousDelayMs: 300 }, { ...p, random: fixed(0.5) }), 500);
  assert.equal(backoffDelay({ attempt: 5, previousDelayMs: 900 }, { ...p, random: fixed(0.9) }), 1000);
  let prev: number | undefined;
  for (let attempt = 1; attempt < 50; attempt++) {
    const d = backoffDelay({ attempt, previousDelayMs: prev }, p);
    assert.ok(d >= 100 && d <= 1000 && d <= 3 * Math.max(100, prev ?? 100), `${d} after ${prev}`);
    prev = d;
  }
});

test('a server delay is a floor, capped by maxServerDelayMs', () => {
  const p = { baseMs: 100, maxMs: 1000, maxServerDelayMs: 5000, random: fixed(0) };
  assert.equal(backoffDelay({ attempt: 1, retryAfterMs: 2000 }, p), 2000);
  assert.equal(backoffDelay({ attempt: 1, retryAfterMs: 2000.2 }, p), 2001); // never less than asked
  assert.equal(backoffDelay({ attempt: 1, retryAfterMs: 60_000 }, p), 5000);
  assert.equal(backoffDelay({ attempt: 4, retryAfterMs: 10 }, { ...p, random: fixed(0.5) }), 400); // larger computed wins
  assert.equal(backoffDelay({ attempt: 1, retryAfterMs: null }, p), 0);
  assert.equal(backoffDelay({ attempt: 1, retryAfterMs: -5 }, p), 0);
  assert.equal(backoffDelay({ attempt: 1, retryAfterMs: NaN }, p), 0);
});

test('a bad random source cannot push a delay out of range', () => {
  const p = { baseMs: 100, maxMs: 1000 };
  assert.equal(backoffDelay({ attempt: 1 }, { ...p, random: fixed(NaN) }), 0);
  assert.ok(backoffDelay({ attempt: 1 }, { ...p, random: fixed(7) }) <= 100);
  assert.equal(backoffDelay({ attempt: 1 }, { ...p, random: fixed(-1) }), 0);
});

test('Retry-After: seconds, decimals, HTTP-date, garbage', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  assert.equal(parseRetryAfterValue('3', now), 3000);
  assert.equal(parseRetryAfterValue(' 1.5 ', now), 1500);
  assert.equal(parseRetryAfterValue('0', now), 0);
  assert.equal(parseRetryAfterValue('Wed, 01 Jan 2025 00:00:10 GMT', now), 10_000);
  assert.equal(parseRetryAfterValue('Tue, 31 Dec 2024 23:59:00 GMT', now), 0); // in the past
  assert.equal(parseRetryAfterValue('-3', now), null);
  assert.equal(parseRetryAfterValue('soon', now), null);
  assert.equal(parseRetryAfterValue('', now), null);
  assert.equal(parseRetryAfterValue(undefined, now), null);
});

test('parseRetryAfter: retry-after-ms wins, works on Headers and plain records', () => {
  const now = 1_000_000;
  assert.equal(parseRetryAfter(new Headers({ 'retry-after': '2', 'retry-after-ms': '1234' }), { now }), 1234);
  assert.equal(parseRetryAfter(new Headers({ 'Retry-After': '2' }), { now }), 2000);
  assert.equal(parseRetryAfter({ 'Retry-After': '4' }, { now }), 4000);
  assert.equal(parseRetryAfter({ 'retry-after': ['5'] }, { now }), 5000);
  assert.equal(parseRetryAfter(new Headers({ 'retry-after-ms': 'x', 'retry-after': '1' }), { now }), 1000);
  assert.equal(parseRetryAfter(new Headers({}), { now }), null);
  assert.equal(parseRetryAfter(null), null);
});

test('x-ratelimit-reset-* is a fallback for exhausted budgets only', () => {
  const h = new Headers({
    'x-ratelimit-remaining-requests': '0',
    'x-ratelimit-reset-requests': '1m2.5s',
    'x-ratelimit-remaining-tokens': '100',
    'x-ratelimit-reset-tokens': '5m',
  });
  assert.equal(parseRetryAfter(h), null);
  assert.equal(parseRetryAfter(h, { useRateLimitReset: true }), 62_500);
  assert.equal(parseResetDuration('250ms'), 250);
  assert.equal(parseResetDuration('6m0s'), 360_000);
  assert.equal(parseResetDuration('1h'), 3_600_000);
  assert.equal(parseResetDuration('2'), 2000);
  assert.equal(parseResetDuration('1x'), null);
});
