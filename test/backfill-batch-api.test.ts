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
  server = await startOpenAIServer({ apiKey: KEY, defaultDimensions: 24 });
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

/** A new version on the test server, with its own model (an identical encoder would reuse every vector). */
async function newVersion(model = `mock-${versionNo + 1}`): Promise<string> {
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
  assert.equal(server.cost().batch.usd * 2, (done.billedTokens * server.price('x').input) / 1e6);

  // A version with the identical encoder reuses every vector by content sha256: nothing is submitted.
  await registerVersion(
    db,
    { key: `${key}-twin`, encoder: `openai:mock-${versionNo}`, settings: { baseURL: server.url } },
    deps(),
  );
  const twin = await runBatchBackfill(db, `${key}-twin`, small, deps());
  assert.equal(twin.submitted, 0);
  assert.equal(twin.reused, texts.length);
  assert.equal(twin.complete, true);
  assert.equal(server.stats.batch.batchesCreated, first.submitted);
});

/** Each poll moves every batch one step (the test's clock). */
const stepping = (): BatchApiOptions => ({ ...small, wait: true, sleep: async () => void server.batches.advance() });

test('--wait polls until fully covered and reports progress; the dry run priced it at half the online cost', async () => {
  server.reset();
  const key = await newVersion();
  const plan = await planBatchBackfill(db, key, small, deps());
  assert.equal(plan.texts, (await distinctTexts()).length);
  assert.ok(plan.files > 1 && plan.requests >= plan.files);
  assert.ok(plan.tokens > 0);
  assert.equal(server.stats.batch.filesUploaded, 0, 'the dry run uploads nothing');
  const seen: number[] = [];
  const s = await runBatchBackfill(db, key, { ...stepping(), onProgress: (p) => seen.push(p.textsWritten) }, deps());
  assert.equal(s.complete, true);
  assert.equal(s.state, 'ready');
  assert.equal(await missing(key), 0);
  assert.equal(s.textsWritten, plan.texts);
  assert.ok(seen.length >= 2 && seen[seen.length - 1] === plan.texts, `progress ${seen}`);
  assertBilledOnce(await distinctTexts());
  assert.equal(
    server.stats.ok,
    2,
    'nothing but the registration (its probe and its canary) went through the online endpoint',
  );
});

test('expired and failed batches: their unrun texts are submitted again, the ones that ran are not', async () => {
  server.reset();
  const key = await newVersion();
  server.batches.setFaults(
    { fault: { kind: 'expire', completed: 2 }, match: (b) => b.n === 1 },
    { fault: { kind: 'fail' }, match: (b) => b.n === 2 },
  );
  const s = await runBatchBackfill(db, key, stepping(), deps());
  assert.equal(s.complete, true);
  assert.equal(await missing(key), 0);
  const all = server.batches.list();
  assert.ok(all.some((b) => b.status === 'expired'));
  assert.ok(all.some((b) => b.status === 'failed'));
  assertBilledOnce(await distinctTexts());
  // Every text was submitted; the expired and failed batches' leftovers twice.
  const resubmitted = [...server.stats.batch.submittedTexts.values()].filter((n) => n > 1).length;
  assert.ok(resubmitted > 0, 'some texts were submitted again');
});

test('error file lines are submitted again; after the attempts the online path takes them (the default)', async () => {
  server.reset();
  const key = await newVersion();
  server.batches.setFaults({ fault: { kind: 'error-lines', customIds: ['r1'], status: 500 }, times: Infinity });
  const s = await runBatchBackfill(db, key, { ...stepping(), maxAttempts: 2 }, deps());
  assert.equal(s.complete, true);
  assert.ok(s.online, 'the online path ran');
  assert.ok(s.online!.embedded > 0, 'it embedded the texts out of batch attempts');
  assert.equal(await missing(key), 0);
  assertBilledOnce(await distinctTexts());
  // Those texts were billed online once, never through a batch.
  for (const [t, n] of server.stats.billedTextCalls) {
    if (t.includes('probe')) continue;
    assert.equal(n, 1);
    assert.equal(server.stats.batch.billedTexts.get(t) ?? 0, 0, 'billed online only');
  }
});

test('set-aside: texts out of attempts stay missing and show in status', async () => {
  server.reset();
  const key = await newVersion();
  server.batches.setFaults({ fault: { kind: 'error-lines', customIds: ['r0'], status: 400 }, times: Infinity });
  const s = await runBatchBackfill(db, key, { ...stepping(), maxAttempts: 2, exhausted: 'set-aside' }, deps());
  assert.equal(s.complete, false);
  assert.equal(s.online, null);
  assert.ok(s.setAside > 0);
  assert.equal((await missing(key)) > 0, true);
  const { getStatus } = await import('../src/status/index.js');
  const st = (await getStatus(db)).versions.find((v) => v.key === key)!;
  assert.equal(st.batchApi?.setAside, s.setAside);
  assert.ok(st.batchApi!.jobs.length > 0);
  assert.equal(st.state, 'backfilling');
});

test('malformed, unknown and bad output lines: only their texts are submitted again', async () => {
  server.reset();
  const key = await newVersion();
  server.batches.setFaults(
    { kind: 'malformed-line', customId: 'r0' },
    { kind: 'unknown-custom-id' },
    { kind: 'nan', customId: 'r1' },
    { kind: 'wrong-dimensions', dimensions: 5, customId: 'r2' },
    { kind: 'duplicate-line', customId: 'r3' },
  );
  const s = await runBatchBackfill(db, key, stepping(), deps());
  assert.equal(s.complete, true);
  assert.equal(await missing(key), 0);
  assert.ok(
    s.problems.some((p) => /not valid JSON/.test(p)),
    s.problems.join('\n'),
  );
  assert.ok(s.problems.some((p) => /not one of this batch/.test(p)));
  assert.ok(s.problems.some((p) => /non-finite|NaN/.test(p)));
  assert.ok(s.problems.some((p) => /dimensions/.test(p)));
  // Billed twice: exactly the texts of the three bad lines (the provider billed them, their vectors were unusable).
  const twice = (await distinctTexts()).filter((t) => (server.stats.batch.billedTexts.get(t) ?? 0) > 1);
  assert.equal(twice.length, 3 * 7);
});

test('a short data list, a missing line and an infinite number: only their texts are submitted again', async () => {
  server.reset();
  const key = await newVersion();
  server.batches.setFaults(
    { kind: 'short-list', customId: 'r0' },
    { kind: 'missing-line', customId: 'r1' },
    { kind: 'infinity', customId: 'r2', item: 3 },
  );
  const s = await runBatchBackfill(db, key, stepping(), deps());
  assert.equal(s.complete, true);
  assert.equal(await missing(key), 0);
  assert.ok(
    s.problems.some((p) => /custom_id r0 returned 6 embeddings for 7 inputs/.test(p)),
    s.problems.join('\n'),
  );
  assert.ok(s.problems.some((p) => /custom_id r2 returned a non-finite value \(Infinity\)/.test(p)));
  assert.equal(s.problems.length, 2, 'a missing line is no problem line; its texts fail as unanswered');
  const v = await requireVersion(db.kysely, key);
  const unanswered = await sql<{ n: number }>`
    select count(*) as n from batch_api_texts
    where embedding_version_id = ${v.id} and last_error = 'no line in the output or error file'`.execute(db.kysely);
  assert.equal(Number(unanswered.rows[0]!.n), 7, 'the missing line’s 7 texts');
  // Submitted and billed twice: exactly the texts of the three requests (7 each); everything else once.
  const texts = await distinctTexts();
  const twice = (m: Map<string, number>) => texts.filter((t) => (m.get(t) ?? 0) > 1).length;
  assert.equal(twice(server.stats.batch.submittedTexts), 3 * 7);
  assert.equal(twice(server.stats.batch.billedTexts), 3 * 7);
  assert.ok(texts.every((t) => (server.stats.batch.submittedTexts.get(t) ?? 0) <= 2));
});

test('a download cut off midway: the complete lines are written, a rerun writes the rest once', async () => {
  server.reset();
  const key = await newVersion();
  const first = await runBatchBackfill(db, key, { ...small, limits: { inputsPerRequest: 7 } }, deps());
  assert.equal(first.submitted, 1);
  server.batches.advanceAll();
  const job = server.batches.list()[0]!;
  server.files.cutDownload({
    fileId: job.output_file_id!,
    afterBytes: Math.floor(server.files.get(job.output_file_id!)!.meta.bytes / 2),
  });
  const cut = await runBatchBackfill(db, key, small, deps());
  assert.equal(cut.collected, 0);
  assert.ok(cut.textsWritten > 0, 'the lines before the cut were written');
  assert.ok(
    cut.problems.some((p) => /cut off/.test(p)),
    cut.problems.join('\n'),
  );
  const rest = await runBatchBackfill(db, key, small, deps());
  assert.equal(rest.collected, 1);
  assert.equal(cut.textsWritten + rest.textsWritten, (await distinctTexts()).length);
  assert.equal(await missing(key), 0);
  assert.equal(server.stats.batch.batchesCreated, 1, 'nothing submitted again');
  assertBilledOnce(await distinctTexts());
});

test('cancel: live batches are cancelled remotely, recorded, and their output collected', async () => {
  server.reset();
  const key = await newVersion();
  const s = await runBatchBackfill(db, key, small, deps());
  const id = server.batches.list()[0]!.id;
  server.batches.advance(id); // in_progress
  const c = await runBatchBackfill(db, key, { ...small, cancel: true }, deps());
  assert.equal(c.cancelled, s.submitted);
  assert.equal(server.stats.batch.cancels, s.submitted);
  assert.ok(server.batches.list().every((b) => b.status === 'cancelling'));
  assert.equal(c.submitted, 0);
  server.batches.advanceAll();
  const after = await runBatchBackfill(db, key, { ...small, cancel: true }, deps());
  assert.equal(after.jobs.filter((j) => j.status !== 'collected').length, 0);
  assert.ok(after.jobs.every((j) => j.remoteStatus === 'cancelled'));
});

test('bad input: a non-OpenAI encoder, a base URL without Batch support, a batch the provider does not know', async () => {
  await registerVersion(db, { key: 'lexical', encoder: 'hash' }, deps());
  await assert.rejects(runBatchBackfill(db, 'lexical', small, deps()), /needs an openai: encoder.*without --batch-api/);

  const plain = await startOpenAIServer({ apiKey: KEY, modelDimensions: { 'mock-24': 24 }, batch: false });
  try {
    await registerVersion(db, { key: 'nobatch', encoder: 'openai:mock-24', settings: { baseURL: plain.url } }, deps());
    await assert.rejects(runBatchBackfill(db, 'nobatch', small, deps()), (e: Error) => {
      assert.match(e.message, /has no Batch API .*run `embctl backfill nobatch` without --batch-api/);
      assert.ok(!e.message.includes(KEY));
      return true;
    });
    const v = await requireVersion(db.kysely, 'nobatch');
    const jobs = await sql<{
      n: number;
    }>`select count(*) as n from batch_api_jobs where embedding_version_id = ${v.id}`.execute(db.kysely);
    assert.equal(Number(jobs.rows[0]!.n), 0, 'nothing recorded');
  } finally {
    await plain.close();
  }

  server.reset();
  const key = await newVersion();
  await runBatchBackfill(db, key, small, deps());
  const gone = server.batches.list()[0]!.id;
  server.batches.forget(gone);
  await assert.rejects(
    runBatchBackfill(db, key, small, deps()),
    new RegExp(`batch ${gone} of version ${key} does not exist`),
  );
  const v = await requireVersion(db.kysely, key);
  const kept = await sql<{ status: string }>`select status from batch_api_jobs where batch_id = ${gone}`.execute(
    db.kysely,
  );
  assert.equal(kept.rows[0]!.status, 'validating', 'the job is kept as it was');
  assert.ok(v.id > 0);
  await assert.rejects(runBatchBackfill(db, key, small, deps()), /--cancel releases them/);
  // --cancel: the user says it is gone for good; its texts are released, then submitted again and written once.
  const cancelled = await runBatchBackfill(db, key, { ...small, cancel: true }, deps());
  assert.equal(cancelled.released.length, 1, JSON.stringify(cancelled));
  assert.match(cancelled.released[0]!, new RegExp(`batch ${gone}: .* does not know it; its \\d+ texts were released`));
  assert.deepEqual(cancelled.problems, [], 'a released batch is not a problem');
  const done = await runBatchBackfill(db, key, stepping(), deps());
  assert.equal(done.complete, true);
  assert.equal(await missing(key), 0);
});
