import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { freshDb, type TestDb } from './support/db.js';
import { startOpenAIServer, type OpenAIServer } from './support/openai-server.js';
import { registerVersion, type RegisterInput } from '../src/versions/register.js';
import { partitionExists } from '../src/partitions/partition.js';
import { silentLogger } from '../src/log/logger.js';
import { InputError } from '../src/errors.js';

const KEY = 'sk-test-SECRET-register-9f8e7d';
const TINY_MODEL = fileURLToPath(new URL('./fixtures/tiny-model/', import.meta.url));
let db: TestDb;
let server: OpenAIServer;

before(async () => {
  db = await freshDb();
  server = await startOpenAIServer({ apiKey: KEY, modelDimensions: { 'nomic-embed-text': 768 } });
});
after(async () => {
  await db?.destroy();
  await server?.close();
});

const deps = () => ({ actor: 'tester', logger: silentLogger(), openaiApiKey: KEY, openaiBaseUrl: server.url, env: {} });
const register = (input: RegisterInput) => registerVersion(db, input, deps());

describe('versions register', () => {
  test('records the version, its partition and a registered event', async () => {
    const v = await register({ key: 'oa-small', encoder: 'openai:text-embedding-3-small', dimensions: 1536 });
    assert.equal(v.dimensions, 1536);
    assert.equal(v.encoder_name, 'openai:text-embedding-3-small');
    assert.equal(v.state, 'registered');
    assert.ok(await partitionExists(db.kysely, v.id));
    const ev = await db.kysely
      .selectFrom('version_events')
      .selectAll()
      .where('embedding_version_id', '=', v.id)
      .execute();
    assert.deepEqual(
      ev.map((e) => e.event),
      ['registered', 'canary_recorded'],
    );
    assert.equal(ev[0]!.actor, 'tester');
    // Settings keep the server but never the key.
    const everything = JSON.stringify({ v, ev });
    assert.ok(!everything.includes(KEY), 'API key stored somewhere');
    assert.equal((v.encoder_settings as { baseURL?: string }).baseURL, server.url);
  });

  test('refuses a declared dimension the encoder does not produce', async () => {
    await assert.rejects(
      register({ key: 'oa-wrong', encoder: 'openai:nomic-embed-text', dimensions: 1024 }),
      (e: Error) => e instanceof InputError && /expected 1024 dimensions, not 768/.test(e.message),
    );
    server.setFaults({ kind: 'wrong-dimensions', dimensions: 1024 });
    await assert.rejects(
      register({ key: 'oa-wrong2', encoder: 'openai:text-embedding-3-small', dimensions: 1536 }),
      /expected 1536 dimensions, not 1024/,
    );
    server.setFaults();
    assert.equal(
      await db.kysely
        .selectFrom('embedding_versions')
        .select('id')
        .where('version_key', 'in', ['oa-wrong', 'oa-wrong2'])
        .executeTakeFirst(),
      undefined,
    );
  });

  test('refuses HNSW on vector above 2000 dims, with the halfvec advice; accepts halfvec', async () => {
    await assert.rejects(
      register({ key: 'oa-large', encoder: 'openai:text-embedding-3-large' }),
      /cannot build an HNSW index on vector\(3072\).*--storage halfvec/,
    );
    const v = await register({ key: 'oa-large', encoder: 'openai:text-embedding-3-large', storage: 'halfvec' });
    assert.equal(v.dimensions, 3072);
    assert.equal(v.index_storage, 'halfvec');
  });

  test('refuses ip on unnormalised output', async () => {
    await assert.rejects(
      register({ key: 'local-raw-ip', encoder: `local:${TINY_MODEL}`, metric: 'ip', settings: { normalize: false } }),
      /--metric ip ranks by vector length on unnormalised output/,
    );
    const ok = await register({ key: 'local-ip', encoder: `local:${TINY_MODEL}`, metric: 'ip' });
    assert.equal(ok.distance_metric, 'ip');
    assert.match(ok.encoder_revision, /^[0-9a-f]{64}$/);
  });

  test('refuses the same key twice and bad options, listing every problem', async () => {
    await register({ key: 'h1', encoder: 'hash:words-256' });
    await assert.rejects(register({ key: 'h1', encoder: 'hash:words-256' }), /version h1 already exists/);
    await assert.rejects(
      register({ key: 'bad key!', encoder: 'hash', metric: 'dot' as 'ip' }),
      (e: InputError) =>
        e instanceof InputError &&
        e.details.length === 2 &&
        e.details.some((d) => d.startsWith('version key:')) &&
        e.details.some((d) => d.startsWith('--metric:')),
    );
    await assert.rejects(register({ key: 'h2', encoder: 'tfidf:x' }), /unknown encoder "tfidf:x"/);
    await assert.rejects(register({ key: 'h3', encoder: 'hash:nope' }), /unknown hash variant|nope/);
    await assert.rejects(
      register({ key: 'h4', encoder: 'hash', index: 'hnsw', lists: 10 }),
      /--lists applies to --index ivfflat only/,
    );
  });

  test('a missing API key for the official API is a clear input error', async () => {
    await assert.rejects(
      registerVersion(
        db,
        { key: 'no-key', encoder: 'openai:text-embedding-3-small' },
        { actor: 't', logger: silentLogger(), env: {} },
      ),
      /OPENAI_API_KEY/,
    );
  });
});
