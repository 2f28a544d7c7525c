import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { BACKEND, freshTarget, type TestDbTarget, withTargetDb } from './support/db.js';
import { runCli, targetEnv } from './support/cli.js';
import { startOpenAIServer, type OpenAIServer } from './support/openai-server.js';
import { writeCorpus } from './support/corpus.js';
import type { Db } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { ingest } from '../src/ingest/index.js';
import { registerVersion } from '../src/versions/register.js';
import { runBackfill, type BackfillSummary } from '../src/backfill/index.js';
import { syncLiveVersions } from '../src/backfill/sync.js';
import { retire } from '../src/lifecycle/index.js';
import { partitionExists, partitionTable } from '../src/partitions/partition.js';
import { requireVersion } from '../src/versions/store.js';
import { silentLogger } from '../src/log/logger.js';

// `embctl sync` and `embctl ingest --sync` through the CLI: chunks ingested
// after a backfill are embedded for every version that is not retired (so a
// candidate does not go stale while it is shadowed); a retired version gets
// nothing. Each version has its own model at the test server, which counts
// what each model was sent.

const KEY = 'sk-test-SECRET-sync-1357';
const logger = silentLogger();
const VERSIONS = [
  ['live1', 'mock-a'],
  ['live2', 'mock-b'],
  ['gone', 'mock-c'],
] as const;

let target: TestDbTarget;
let server: OpenAIServer;

const withDb = <T>(fn: (db: Db) => Promise<T>): Promise<T> => withTargetDb(target, fn);

before(async () => {
  target = await freshTarget();
  server = await startOpenAIServer({ apiKey: KEY, modelDimensions: { 'mock-a': 24, 'mock-b': 28, 'mock-c': 20 } });
  await withDb(async (db) => {
    await migrate(db, { logger });
    await ingest(db, [writeCorpus(120, { seed: 5, prefix: 'first' })], {}, { logger });
    const deps = { logger, actor: 'tester', openaiApiKey: KEY, env: {} };
    for (const [key, model] of VERSIONS) {
      await registerVersion(db, { key, encoder: `openai:${model}`, settings: { baseURL: server.url } }, deps);
      await runBackfill(db, key, {}, deps);
    }
    await retire(db, 'gone', { actor: 'tester', reason: 'replaced' });
  });
});
after(async () => {
  await server?.close();
  await target?.destroy();
});

const env = () => ({ ...targetEnv(target), OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url });

/** Live chunks without a vector in the version's partition. */
async function missing(db: Db, key: string): Promise<number> {
  const v = await requireVersion(db.kysely, key);
  const r = await sql<{ n: number }>`
    select count(*) as n from document_chunks c where c.retired_at is null
    and not exists (select 1 from ${sql.raw(partitionTable(v.id))} e where e.chunk_id = c.id)`.execute(db.kysely);
  return Number(r.rows[0]!.n);
}

/** Texts each model was sent since the last reset. */
const sentTo = (model: string) =>
  server.stats.log.filter((r) => r.model === model && r.status === 200).reduce((n, r) => n + r.items, 0);

async function checkCovered(newTexts: number, what: string): Promise<void> {
  await withDb(async (db) => {
    for (const key of ['live1', 'live2'])
      assert.equal(await missing(db, key), 0, `${what}: ${key} is not fully covered`);
    const gone = await requireVersion(db.kysely, 'gone');
    assert.equal(gone.state, 'retired');
    assert.equal(await partitionExists(db.kysely, gone.id), false, `${what}: the retired version got a partition back`);
    const batches = await db.kysely
      .selectFrom('backfill_batches')
      .select('id')
      .where('embedding_version_id', '=', gone.id)
      .execute();
    assert.equal(batches.length, 0, `${what}: work was planned for the retired version`);
  });
  assert.equal(sentTo('mock-a'), newTexts, `${what}: live1 was sent exactly the new texts`);
  assert.equal(sentTo('mock-b'), newTexts, `${what}: live2 was sent exactly the new texts`);
  assert.equal(sentTo('mock-c'), 0, `${what}: the retired version's model was called`);
}

describe(`sync through the CLI (${BACKEND})`, () => {
  test('ingest --sync embeds the new chunks for every version that is not retired, and nothing for the retired one', async () => {
    server.reset();
    const r = await runCli(['ingest', writeCorpus(40, { seed: 6, prefix: 'second' }), '--sync'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /live1: 40 new chunks embedded \(40 texts sent, 0 reused\)/);
    assert.match(r.stdout, /live2: 40 new chunks embedded/);
    assert.doesNotMatch(r.stdout, /gone:/);
    await checkCovered(40, 'ingest --sync');
  });

  test('embctl sync after a plain ingest does the same; a second sync has nothing to do', async () => {
    server.reset();
    const ing = await runCli(['ingest', writeCorpus(25, { seed: 7, prefix: 'third' })], { env: env() });
    assert.equal(ing.code, 0, ing.stderr);
    await withDb(async (db) => assert.equal(await missing(db, 'live1'), 25));
    const s = await runCli(['sync', '--json'], { env: env() });
    assert.equal(s.code, 0, s.stderr);
    const results = JSON.parse(s.stdout) as { version: string; chunksWritten: number; complete: boolean }[];
    assert.deepEqual(
      results.map((x) => [x.version, x.chunksWritten, x.complete]),
      [
        ['live1', 25, true],
        ['live2', 25, true],
      ],
    );
    await checkCovered(25, 'embctl sync');
    server.reset();
    const again = await runCli(['sync', '--json'], { env: env() });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(
      (JSON.parse(again.stdout) as { chunksWritten: number }[]).map((x) => x.chunksWritten),
      [0, 0],
    );
    assert.equal(server.stats.requests, 0);
  });

  test('the library call, syncLiveVersions: the same work, a summary per live version; a stopped sync starts no further version', async () => {
    const deps = { logger, actor: 'tester', openaiApiKey: KEY, env: {} };
    server.reset();
    await withDb(async (db) => {
      await ingest(db, [writeCorpus(15, { seed: 8, prefix: 'fourth' })], {}, { logger });
      const synced: string[] = [];
      const results = await syncLiveVersions(db, { workers: 2, onSynced: (s) => synced.push(s.version) }, deps);
      assert.deepEqual(
        results.map((x) => [x.version, x.chunksWritten, x.complete]),
        [
          ['live1', 15, true],
          ['live2', 15, true],
        ],
      );
      assert.deepEqual(synced, ['live1', 'live2']);
    });
    await checkCovered(15, 'syncLiveVersions');
    server.reset();
    await withDb(async (db) => {
      await ingest(db, [writeCorpus(10, { seed: 9, prefix: 'fifth' })], {}, { logger });
      const stop = new AbortController();
      stop.abort(new Error('SIGINT'));
      const synced: BackfillSummary[] = [];
      const results = await syncLiveVersions(db, { signal: stop.signal, onSynced: (s) => synced.push(s) }, deps);
      assert.deepEqual(
        results.map((x) => x.version),
        ['live1'],
        'only the first version ran',
      );
      assert.equal(synced.length, 0, 'a stopped version is not reported as synced');
      assert.equal(await missing(db, 'live2'), 10, 'live2 was not started');
    });
  });
});
