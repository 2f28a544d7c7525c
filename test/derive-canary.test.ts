/**
 * A derived version's encoder canary (issues 15 and 16): `versions derive`
 * stores the parent's canary with each vector transformed as the derived
 * version's queries are, so `versions verify <derived>` works without
 * --record, a model that moves behind the parent's name fails it, and
 * activate refuses the derived version like any other. Both backends.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { freshDb, type TestDb } from './support/db.js';
import { startOpenAIServer, type OpenAIServer } from './support/openai-server.js';
import { fillVersion, ingestDocs, recordGate, syntheticDocs } from './support/fill-version.js';
import { registerVersion, type RegisterInput } from '../src/versions/register.js';
import { readCanary, recordCanary, verifyCanary } from '../src/versions/index.js';
import { requireVersion } from '../src/versions/store.js';
import { deriveVersion, type DeriveInput } from '../src/derive/index.js';
import { activate } from '../src/lifecycle/index.js';
import { RefusedError } from '../src/errors.js';
import { silentLogger } from '../src/log/logger.js';
import { normalize, sign, toHalf } from './support/derive-oracle.js';

const logger = silentLogger();
let db: TestDb;
let server: OpenAIServer;

before(async () => {
  db = await freshDb();
  server = await startOpenAIServer();
  await ingestDocs(db, syntheticDocs(30));
});
after(async () => {
  await db?.destroy();
  await server?.close();
});

const encoderDeps = () => ({ openaiBaseUrl: server.url, env: {} });
const register = (input: RegisterInput) => registerVersion(db, input, { actor: 'tester', logger, ...encoderDeps() });
const derive = (input: DeriveInput) => deriveVersion(db, input, { actor: 'tester', logger });
const verify = (key: string) => verifyCanary(db, key, { actor: 'checker', encoderDeps: encoderDeps() });

async function lastEvent(key: string) {
  const v = await requireVersion(db.kysely, key);
  return db.kysely
    .selectFrom('version_events')
    .selectAll()
    .where('embedding_version_id', '=', v.id)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirstOrThrow();
}

async function canaryOf(key: string) {
  const c = await readCanary(db.kysely, (await requireVersion(db.kysely, key)).id);
  assert.ok(c, `${key} has a canary`);
  return c;
}

describe('the canary of a derived version', () => {
  test('derive stores the parent canary transformed (truncation, halfvec, bit), and verify holds without --record', async () => {
    await register({ key: 'h', encoder: 'hash:mixed-384', matryoshka: true });
    await fillVersion(db, 'h');
    const parent = await canaryOf('h');
    const transforms: [string, Omit<DeriveInput, 'from' | 'key'>, (v: number[]) => number[], number][] = [
      ['h-96', { dimensions: 96 }, (v) => normalize(v.slice(0, 96)), 1e-6],
      ['h-half', { storage: 'halfvec' }, (v) => v.map(toHalf), 0],
      ['h-bit', { storage: 'bit', rerank: 10 }, (v) => [...sign(v)].map(Number), 0],
    ];
    for (const [key, flags, oracle, tol] of transforms) {
      const r = await derive({ key, from: 'h', ...flags });
      assert.ok(!r.notes.some((n) => /no encoder canary/.test(n)), r.notes.join('\n'));
      const c = await canaryOf(key);
      assert.deepEqual(
        c.texts.map((t) => t.sha256),
        parent.texts.map((t) => t.sha256),
      );
      assert.equal(c.setSha256, parent.setSha256);
      assert.equal(c.reportedModel, parent.reportedModel);
      assert.equal(c.dimensions, (await requireVersion(db.kysely, key)).dimensions);
      // Each stored vector is the parent's canary vector through the transform, computed here in TypeScript.
      c.texts.forEach((t, i) => {
        const want = oracle(Array.from(parent.texts[i]!.vector));
        assert.equal(t.vector.length, want.length);
        for (let j = 0; j < want.length; j++)
          assert.ok(Math.abs(t.vector[j]! - want[j]!) <= tol, `${key} text ${i} [${j}]: ${t.vector[j]} vs ${want[j]}`);
      });
      const check = await verify(key);
      assert.equal(check.status, 'passed', check.message);
      assert.equal(check.maxAbsDiff, 0);
      assert.equal(check.texts, parent.texts.length);
      assert.equal((await lastEvent(key)).event, 'canary_checked');
    }
  });

  test('the model moving behind the parent’s name fails the derived canary, and activate refuses it', async () => {
    await register({ key: 'oa', encoder: 'openai:text-embedding-3-small', dimensions: 64 });
    await fillVersion(db, 'oa');
    await derive({ key: 'oa-32', from: 'oa', dimensions: 32 });
    await recordGate(db, 'oa-32', true);
    assert.equal((await verify('oa-32')).status, 'passed');

    server.setDrift({ kind: 'rotate', radians: 0.5 });
    try {
      const bad = await verify('oa-32');
      assert.equal(bad.status, 'failed', bad.message);
      assert.equal(bad.moved, bad.texts);
      assert.match(bad.message, /^canary FAILED for version oa-32 /);
      assert.equal((await lastEvent('oa-32')).event, 'canary_failed');
      await assert.rejects(
        activate(db, 'oa-32', { actor: 'tester' }),
        (e: unknown) => e instanceof RefusedError && e.code === 'canary_failed' && /oa-32/.test(e.message),
      );
    } finally {
      server.setDrift(null);
    }
    assert.equal((await verify('oa-32')).status, 'passed');
    assert.equal((await activate(db, 'oa-32', { actor: 'tester' })).version, 'oa-32');
  });

  test('a parent without a canary: the derived version gets none and says how; --record then works', async () => {
    await register({ key: 'bare', encoder: 'hash:words-256', canary: false });
    await fillVersion(db, 'bare');
    const r = await derive({ key: 'bare-half', from: 'bare', storage: 'halfvec' });
    assert.ok(
      r.notes.some((n) =>
        /bare has no encoder canary, so bare-half got none: .*verify bare --record, then .*verify bare-half --record/.test(
          n,
        ),
      ),
      r.notes.join('\n'),
    );
    assert.equal((await verify('bare-half')).status, 'no_canary');
    const rec = await recordCanary(db, 'bare-half', { actor: 'tester', encoderDeps: encoderDeps() });
    assert.equal(rec.replaced, false);
    const c = await canaryOf('bare-half');
    assert.equal(c.dimensions, 256);
    // Recorded through the transform: each value is a half-precision number.
    for (const t of c.texts) for (const x of t.vector) assert.equal(x, toHalf(x));
    const check = await verify('bare-half');
    assert.equal(check.status, 'passed', check.message);
  });
});
