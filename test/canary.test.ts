/**
 * The encoder canary (issue 15 §2) as library calls: recorded at registration,
 * verified exactly for the deterministic hash: and local: encoders, and for
 * openai: against the local test server, which switches its model output
 * mid-test (a rotation, noise, a renamed model). Verify records the figures,
 * activate refuses a failed canary unless forced, and an encoder that cannot
 * embed the canary loses nothing.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { freshDb, type TestDb } from './support/db.js';
import { startOpenAIServer, type OpenAIServer } from './support/openai-server.js';
import { fillVersion, ingestDocs, recordGate, syntheticDocs } from './support/fill-version.js';
import { registerVersion, type RegisterInput } from '../src/versions/register.js';
import { readCanary, recordCanary, shippedCanarySet, verifyCanary } from '../src/versions/index.js';
import { parseEventDetails } from '../src/versions/event-details.js';
import { activate } from '../src/lifecycle/index.js';
import { silentLogger } from '../src/log/logger.js';
import { InputError, RefusedError } from '../src/errors.js';
import { sha256Hex } from '../src/versions/canary/shipped-set.js';

const TINY_MODEL = fileURLToPath(new URL('./fixtures/tiny-model/', import.meta.url));
const MODEL = 'text-embedding-3-small';
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
const register = (input: RegisterInput) =>
  registerVersion(db, input, { actor: 'tester', logger: silentLogger(), ...encoderDeps() });
const verify = (key: string) => verifyCanary(db, key, { actor: 'checker', encoderDeps: encoderDeps() });

async function events(key: string) {
  const v = await db.kysely
    .selectFrom('embedding_versions')
    .select('id')
    .where('version_key', '=', key)
    .executeTakeFirstOrThrow();
  return db.kysely
    .selectFrom('version_events')
    .selectAll()
    .where('embedding_version_id', '=', v.id)
    .orderBy('id')
    .execute();
}

describe('encoder canary', () => {
  test('registration stores the shipped set with its sha256s, vectors, the model name and a canary_recorded event', async () => {
    const v = await register({ key: 'h1', encoder: 'hash:words-256' });
    const c = await readCanary(db.kysely, v.id);
    const shipped = shippedCanarySet();
    assert.ok(c);
    assert.ok(shipped.texts.length >= 30, 'a few dozen texts');
    assert.equal(c.texts.length, shipped.texts.length);
    assert.equal(c.setName, 'embctl-canary-v1');
    assert.equal(c.reportedModel, 'hash:words-256@hash-v1');
    assert.equal(c.dimensions, 256);
    c.texts.forEach((t, i) => {
      assert.equal(t.content, shipped.texts[i]!.content);
      assert.equal(t.sha256, sha256Hex(t.content));
      assert.equal(t.vector.length, 256);
    });
    const ev = await events('h1');
    assert.deepEqual(
      ev.map((e) => e.event),
      ['registered', 'canary_recorded'],
    );
    const d = parseEventDetails('canary_recorded', ev[1]!.details);
    assert.equal(d?.texts, shipped.texts.length);
    assert.equal(d?.reportedModel, 'hash:words-256@hash-v1');
  });

  test('hash: verify holds exactly and records canary_checked with its figures', async () => {
    const r = await verify('h1');
    assert.equal(r.status, 'passed', r.message);
    assert.equal(r.moved, 0);
    assert.equal(r.maxAbsDiff, 0, 'bit-identical vectors');
    assert.ok(Math.abs(r.minCosine! - 1) < 1e-9);
    assert.match(r.message, /^canary of h1 holds: \d+ texts, min cosine 1,/);
    const ev = await events('h1');
    const last = ev.at(-1)!;
    assert.equal(last.event, 'canary_checked');
    assert.equal(last.actor, 'checker');
    assert.equal(Number(last.id), r.eventId);
    const d = parseEventDetails('canary_checked', last.details);
    assert.equal(d?.moved, 0);
    assert.equal(d?.maxAbsDiff, 0);
    assert.equal(d?.by, 'verify');
  });

  test('local: the tiny ONNX model holds exactly', async () => {
    const v = await register({ key: 'loc', encoder: `local:${TINY_MODEL}` });
    const c = await readCanary(db.kysely, v.id);
    assert.match(c!.reportedModel, /^local:/);
    const r = await verify('loc');
    assert.equal(r.status, 'passed', r.message);
    assert.equal(r.maxAbsDiff, 0, 'bit-identical vectors');
  });

  test('--canary-sample adds distinct live corpus texts after the shipped ones', async () => {
    const v = await register({ key: 'hs', encoder: 'hash:mixed-384', canarySample: 5 });
    const c = await readCanary(db.kysely, v.id);
    const shipped = shippedCanarySet().texts.length;
    assert.equal(c!.texts.length, shipped + 5);
    assert.equal(c!.corpusSample, 5);
    assert.equal(c!.setName, 'embctl-canary-v1+corpus');
    assert.deepEqual(
      c!.texts.slice(shipped).map((t) => t.source),
      ['corpus', 'corpus', 'corpus', 'corpus', 'corpus'],
    );
    assert.equal(new Set(c!.texts.slice(shipped).map((t) => t.content)).size, 5);
    assert.equal((await verify('hs')).status, 'passed');
  });

  test('openai: the model switching behind its name fails verify (rotation), activate refuses it, --force --reason overrides', async () => {
    await register({ key: 'oa', encoder: `openai:${MODEL}`, dimensions: 64 });
    await fillVersion(db, 'oa');
    await recordGate(db, 'oa', true);
    const ok = await verify('oa');
    assert.equal(ok.status, 'passed', ok.message);
    assert.equal(ok.maxAbsDiff, 0);
    assert.equal(ok.reportedModel, MODEL);

    server.setDrift({ kind: 'rotate', radians: 0.5 });
    try {
      const bad = await verify('oa');
      assert.equal(bad.status, 'failed');
      assert.equal(bad.moved, bad.texts);
      assert.ok(Math.abs(bad.minCosine! - Math.cos(0.5)) < 1e-4, `min cosine ${bad.minCosine}`);
      assert.match(
        bad.message,
        /^canary FAILED for version oa \(openai:text-embedding-3-small\): 40 of 40 canary texts moved, min cosine 0\.877\d* \(tolerance cosine ≥ 0\.999\).*register and backfill a new version/,
      );
      assert.ok(!bad.message.includes('\n'), 'one line');
      const last = (await events('oa')).at(-1)!;
      assert.equal(last.event, 'canary_failed');
      const d = parseEventDetails('canary_failed', last.details);
      assert.equal(d?.moved, 40);
      assert.ok(Math.abs(d!.minCosine - Math.cos(0.5)) < 1e-4);
      assert.equal(d?.worst.length, 5);

      await assert.rejects(
        activate(db, 'oa', { actor: 'tester' }),
        (e: unknown) =>
          e instanceof RefusedError &&
          e.code === 'canary_failed' &&
          /^cannot activate oa: the last encoder canary check of version oa .* failed: .*; or override with --force --reason/.test(
            e.message,
          ),
      );
      assert.equal(
        (
          await db.kysely
            .selectFrom('embedding_versions')
            .select('active')
            .where('version_key', '=', 'oa')
            .executeTakeFirstOrThrow()
        ).active,
        false,
      );
      const forced = await activate(db, 'oa', {
        actor: 'tester',
        force: true,
        reason: 'provider confirmed same model',
      });
      assert.equal(forced.forced, true);
      assert.deepEqual(
        forced.overridden.map((p) => p.code),
        ['canary_failed'],
      );
      const act = (await events('oa')).at(-1)!;
      assert.equal(act.event, 'activated');
      assert.equal(act.forced, true);
      assert.equal(act.reason, 'provider confirmed same model');
    } finally {
      server.setDrift(null);
    }
  });

  test('openai: small noise stays within the tolerance, large noise fails; a renamed model alone passes and is reported', async () => {
    server.setDrift({ kind: 'noise', sigma: 1e-4 });
    try {
      const small = await verify('oa');
      assert.equal(small.status, 'passed', small.message);
      assert.ok(small.maxAbsDiff! > 0, 'the vectors did change');
      assert.ok(small.minCosine! < 1 && small.minCosine! > 0.999);
      // After a failure, a passing check is recorded as canary_checked: activation is allowed again.
      assert.equal((await events('oa')).at(-1)!.event, 'canary_checked');

      server.setDrift({ kind: 'noise', sigma: 0.05 });
      const large = await verify('oa');
      assert.equal(large.status, 'failed');
      assert.ok(large.minCosine! < 0.999);

      server.setDrift({ kind: 'rename', reportModel: `${MODEL}-2026-11` });
      const renamed = await verify('oa');
      assert.equal(renamed.status, 'passed');
      assert.equal(renamed.reportedModel, `${MODEL}-2026-11`);
      assert.equal(renamed.recordedModel, MODEL);
      assert.match(
        renamed.message,
        /the provider now reports model text-embedding-3-small-2026-11 \(recorded: text-embedding-3-small\)/,
      );
    } finally {
      server.setDrift(null);
    }
  });

  test('a version without a canary: verify says so and how to record one; activate does not refuse it for that; --record', async () => {
    await register({ key: 'old', encoder: 'hash:words-256', canary: false });
    const v = await fillVersion(db, 'old');
    await recordGate(db, 'old', true);
    assert.equal(await readCanary(db.kysely, v.id), undefined);
    const r = await verify('old');
    assert.equal(r.status, 'no_canary');
    assert.match(r.message, /^version old has no canary .*: record one with embctl versions verify old --record/);
    assert.deepEqual(
      (await events('old')).map((e) => e.event),
      ['registered'],
    );
    const a = await activate(db, 'old', { actor: 'tester' });
    assert.equal(a.forced, false);

    const rec = await recordCanary(db, 'old', { actor: 'tester', encoderDeps: encoderDeps() });
    assert.equal(rec.replaced, false);
    assert.equal((await verify('old')).status, 'passed');
    await assert.rejects(
      recordCanary(db, 'old', { actor: 'tester' }),
      (e: unknown) => e instanceof RefusedError && /already has a canary .*--record --force --reason/.test(e.message),
    );
    await assert.rejects(recordCanary(db, 'old', { actor: 'tester', force: true }), InputError);
    const again = await recordCanary(db, 'old', { actor: 'tester', force: true, reason: 'new canary set' });
    assert.equal(again.replaced, true);
    const last = (await events('old')).filter((e) => e.event === 'canary_recorded').at(-1)!;
    assert.equal(last.forced, true);
    assert.equal(last.reason, 'new canary set');
  });

  test('an encoder that cannot embed the canary: registration fails in one line and writes nothing; verify records nothing', async () => {
    // The probe (one text) passes; the canary request (many texts) is refused.
    server.setFaults({
      fault: { kind: 'status', status: 400, message: 'input rejected' },
      times: Infinity,
      match: (r) => r.texts.length > 1,
    });
    try {
      await assert.rejects(
        register({ key: 'oa-bad', encoder: `openai:${MODEL}`, dimensions: 64 }),
        (e: unknown) =>
          e instanceof InputError &&
          /^cannot register oa-bad: the encoder could not embed the 40 canary texts \(.*input rejected.*\); nothing was written: .*--no-canary/.test(
            e.message,
          ) &&
          !e.message.includes('\n'),
      );
      const row = await db.kysely
        .selectFrom('embedding_versions')
        .select('id')
        .where('version_key', '=', 'oa-bad')
        .executeTakeFirst();
      assert.equal(row, undefined);
      const orphan = await db.kysely
        .selectFrom('version_events')
        .select('id')
        .where('version_key', '=', 'oa-bad')
        .executeTakeFirst();
      assert.equal(orphan, undefined);

      const before = (await events('oa')).length;
      await assert.rejects(
        verify('oa'),
        (e: unknown) =>
          e instanceof InputError && /^cannot verify the canary of oa: the encoder could not embed/.test(e.message),
      );
      assert.equal((await events('oa')).length, before, 'no event for a check that could not be made');
    } finally {
      server.setFaults();
    }
    // With --no-canary the same encoder registers (with no canary).
    const v = await register({ key: 'oa-bad', encoder: `openai:${MODEL}`, dimensions: 64, canary: false });
    assert.equal(await readCanary(db.kysely, v.id), undefined);
  });
});
