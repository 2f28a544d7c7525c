import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Quota, TokenBucket, type Clock } from '../src/backfill/quota.js';
import { requestGroups } from '../src/backfill/request-groups.js';
import { createHashEncoder } from '../src/encoders/hash/index.js';

/** A clock that only moves when told to (sleep advances it). */
function fakeClock(): Clock & { t: number } {
  const c = {
    t: 0,
    now: () => c.t,
    sleep: async (ms: number) => {
      c.t += Math.max(ms, 0.001);
    },
  };
  return c;
}

describe('quota', () => {
  test('a token bucket starts empty and refills at the stated rate', () => {
    const clock = fakeClock();
    const b = new TokenBucket(600, clock, 1000); // 10 per second, 1 s of burst
    assert.ok(Math.abs(b.waitFor(1) - 100) < 1e-6);
    clock.t = 1000;
    assert.equal(b.waitFor(10), 0);
    b.take(10);
    assert.ok(Math.abs(b.waitFor(5) - 500) < 1e-6);
  });

  test('requests are admitted at the rpm limit (times headroom), never faster', async () => {
    const clock = fakeClock();
    const q = new Quota({ rpm: 600, maxConcurrency: 100, headroom: 1, clock });
    for (let i = 0; i < 60; i++) (await q.acquire(1))();
    // 60 requests at 10/s from an empty bucket: ~6 s.
    assert.ok(clock.t >= 5999 && clock.t <= 6100, `took ${clock.t} ms`);
  });

  test('tokens per minute bound large requests', async () => {
    const clock = fakeClock();
    const q = new Quota({ tpm: 60_000, maxConcurrency: 10, headroom: 1, clock });
    for (let i = 0; i < 10; i++) (await q.acquire(2000))(); // 20k tokens at 1000/s
    assert.ok(clock.t >= 18_000 && clock.t <= 21_000, `took ${clock.t} ms`);
  });

  test('a 429 halves concurrency and pauses everyone for Retry-After; clean answers grow it back', async () => {
    const clock = fakeClock();
    const q = new Quota({ maxConcurrency: 16, clock });
    assert.equal(q.stats.concurrency, 4);
    for (let i = 0; i < 200; i++) q.onSuccess();
    assert.equal(q.stats.concurrency, 16);
    clock.t = 5000;
    q.onRateLimited(2000);
    assert.equal(q.stats.concurrency, 8);
    q.onRateLimited(2000); // within the cooldown: no second halving
    assert.equal(q.stats.concurrency, 8);
    const release = await q.acquire(1);
    assert.ok(clock.t >= 7000, 'waited for Retry-After');
    release();
  });

  test('a 429 drains any saved-up burst, so retries do not land together with new requests', async () => {
    const clock = fakeClock();
    const q = new Quota({ rpm: 600, maxConcurrency: 10, headroom: 1, clock });
    clock.t = 60_000; // idle for a minute: the bucket holds its burst
    q.onRateLimited(null);
    const t0 = clock.t;
    (await q.acquire(1))();
    assert.ok(clock.t - t0 >= 99, `admitted after ${clock.t - t0} ms; expected a full refill interval`);
  });

  test('concurrency is enforced', async () => {
    const q = new Quota({ maxConcurrency: 2 });
    const a = await q.acquire(1);
    const b = await q.acquire(1);
    let third = false;
    const p = q.acquire(1).then((r) => {
      third = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(third, false);
    a();
    (await p)();
    b();
    assert.equal(third, true);
  });

  test('request groups respect item and token limits', () => {
    const enc = createHashEncoder('words-256');
    const texts = Array.from({ length: 1200 }, (_, i) => `text number ${i} with some words`);
    const groups = requestGroups(texts, (t) => t, enc, 100);
    assert.equal(
      groups.reduce((n, g) => n + g.items.length, 0),
      1200,
    );
    assert.ok(groups.every((g) => g.items.length <= 100));
    assert.deepEqual(
      groups.flatMap((g) => g.items),
      texts,
      'every text once, in order',
    );

    // Token budget: long texts split groups well before the item limit, and each group's count is true.
    const budget = 1000;
    const small: typeof enc = Object.create(enc, { maxBatchTokens: { value: budget } });
    const long = Array.from({ length: 60 }, (_, i) => `${'word '.repeat(40 + (i % 7) * 30)}end ${i}`);
    const byTokens = requestGroups(long, (t) => t, small, 100);
    assert.ok(byTokens.length > 1, 'the token budget split the texts');
    for (const g of byTokens) {
      const tokens = g.items.reduce((n, t) => n + enc.countTokens(t), 0);
      assert.equal(g.tokens, tokens, 'a group reports its true token count');
      assert.ok(
        g.tokens <= budget || g.items.length === 1,
        `a group of ${g.items.length} texts holds ${g.tokens} tokens, over ${budget}`,
      );
    }
    assert.deepEqual(
      byTokens.flatMap((g) => g.items),
      long,
    );
    // A single text larger than the budget goes alone (the encoder truncates or rejects it), never with others.
    const huge = 'word '.repeat(3000);
    const withHuge = requestGroups(['a b c', huge, 'd e f'], (t) => t, small, 100);
    assert.deepEqual(
      withHuge.map((g) => g.items.length),
      [1, 1, 1],
    );
  });
});
