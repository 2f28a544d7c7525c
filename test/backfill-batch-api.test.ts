// backfill --batch-api through the library, against the test server's Files
// and Batch APIs, on both backends: submit, resume, collect, errors, cancel.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { freshTarget, type TestDbTarget } from './support/db.js';
import { startOpenAIServer, type OpenAIServer } from './support/openai-server.js';
import { writeCorpus } from './support/corpus.js';
import { openDatabase, type Db } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { ingest } from '../src/ingest/index.js';
import { registerVersion } from '../src/versions/register.js';
import { requireVersion } from '../src/versions/store.js';
import { partitionTable } from '../src/partitions/partition.js';
import { silentLogger } from '../src/log/logger.js';
import { planBatchBackfill, runBatchBackfill, type BatchApiOptions } from '../src/backfill/index.js';

const KEY = 'sk-test-SECRET-batch-9876';
const logger = silentLogger();
const DOCS = 120;
let target: TestDbTarget;
let server: OpenAIServer;
let db: Db;
let versionNo = 0;

before(async () => {
  target = await freshTarget();
  server = await startOpenAIServer({ apiKey: KEY, modelDimensions: { 'mock-24': 24 } });
  db = await openDatabase({ databaseUrl: target.url, homeDir: target.homeDir, logger });
  await migrate(db, { logger });
  await ingest(db, [writeCorpus(DOCS, { seed: 11, dupEvery: 10 })], {}, { logger });
});
after(async () => {
  await db?.close();
  await server?.close();
  await target?.destroy();
});

const deps = () => ({ logger, actor: 'tester', openaiApiKey: KEY, env: {} });

/** A new version on the test server (each test gets its own, so texts are counted per version). */
async function newVersion(model = 'mock-24'): Promise<string> {
  const key = `b${++versionNo}`;
  await registerVersion(db, { key, encoder: `openai:${model}`, settings: { baseURL: server.url } }, deps());
  return key;
}

const small: BatchApiOptions = { limits: { inputsPerRequest: 7, requestsPerFile: 4 }, pollMs: 1, maxPollMs: 2 };

async function missing(key: string): Promise<number> {
  const v = await requireVersion(db.kysely, key);
  const r = await sql<{ n: number }>`
    select count(*) as n from document_chunks c where c.retired_at is null
    and not exists (select 1 from ${sql.raw(partitionTable(v.id))} e where e.chunk_id = c.id)`.execute(db.kysely);
  return Number(r.rows[0]!.n);
}

async function distinctTexts(): Promise<string[]> {
  const r = await sql<{ content: string }>`
    select distinct content from document_chunks where retired_at is null`.execute(db.kysely);
  return r.rows.map((x) => x.content);
}

/** Every text billed at most once through batches (the server's per-text counts). */
function assertBilledOnce(texts: string[]): void {
  const twice = texts.filter((t) => (server.stats.batch.billedTexts.get(t) ?? 0) > 1);
  assert.deepEqual(twice, [], 'texts billed twice');
}

test('submit, then a rerun collects: fully covered, each text billed once, vectors are the server’s', async () => {
  server.reset();
  const key = await newVersion();
  const first = await runBatchBackfill(db, key, small, deps());
  assert.ok(first.submitted > 1, `several jobs (${first.submitted})`);
  assert.equal(first.textsWritten, 0);
  assert.equal(server.stats.batch.batchesCreated, first.submitted);
  // A second run while the batches are alive submits nothing new.
  const again = await runBatchBackfill(db, key, small, deps());
  assert.equal(again.submitted, 0);
  assert.equal(server.stats.batch.batchesCreated, first.submitted);
  server.batches.advanceAll();
  const done = await runBatchBackfill(db, key, small, deps());
  assert.equal(done.collected, first.submitted);
  assert.equal(done.complete, true);
  assert.equal(done.state, 'ready');
  assert.equal(await missing(key), 0);
  const texts = await distinctTexts();
  assertBilledOnce(texts);
  for (const t of texts) assert.equal(server.stats.batch.billedTexts.get(t), 1, 'every text billed through a batch');
  assert.equal(server.cost().batch.tokens, done.billedTokens);
});
