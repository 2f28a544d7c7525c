// backfill --batch-api through the CLI, killed with SIGKILL between the
// upload and the batch's creation, between the creation and its recording,
// after `creating` is recorded but before the create, and inside a
// collection's write transaction (failpoints: the child SIGKILLs itself
// there), then run again:
// no batch is created twice and no text is billed twice (the test server
// counts submissions and billing per text and per custom id). Both backends.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { freshTarget, type TestDbTarget, withTargetDb } from './support/db.js';
import { runCli, targetEnv } from './support/cli.js';
import { startOpenAIServer, type OpenAIServer } from './support/openai-server.js';
import { writeCorpus } from './support/corpus.js';
import type { Db } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { ingest } from '../src/ingest/index.js';
import { registerVersion } from '../src/versions/register.js';
import { requireVersion } from '../src/versions/store.js';
import { partitionTable } from '../src/partitions/partition.js';
import { silentLogger } from '../src/log/logger.js';

const KEY = 'sk-test-SECRET-batchcrash-2468';
const logger = silentLogger();
const DOCS = 60;
let target: TestDbTarget;
let server: OpenAIServer;

const withDb = <T>(fn: (db: Db) => Promise<T>): Promise<T> => withTargetDb(target, fn);

before(async () => {
  target = await freshTarget();
  server = await startOpenAIServer({ apiKey: KEY, defaultDimensions: 16 });
  await withDb(async (db) => {
    await migrate(db, { logger });
    await ingest(db, [writeCorpus(DOCS, { seed: 5 })], {}, { logger });
    for (const [key, encoder] of [
      ['crash', 'openai:mock-crash'],
      ['lexical', 'hash'],
    ]) {
      await registerVersion(
        db,
        { key: key!, encoder: encoder!, settings: encoder!.startsWith('openai') ? { baseURL: server.url } : {} },
        {
          logger,
          actor: 'tester',
          openaiApiKey: KEY,
          env: {},
        },
      );
    }
  });
});
after(async () => {
  await server?.close();
  await target?.destroy();
});

const env = (extra: NodeJS.ProcessEnv = {}) => ({
  ...targetEnv(target),
  OPENAI_API_KEY: KEY,
  EMBCTL_LOG_LEVEL: 'debug',
  ...extra,
});
const args = ['backfill', 'crash', '--batch-api', '--batch-inputs-per-request', '5', '--batch-requests-per-file', '3'];

async function jobs(): Promise<
  Array<{ id: number; status: string; batch_id: string | null; input_file_id: string | null }>
> {
  return withDb(async (db) => {
    const r = await sql<{ id: number; status: string; batch_id: string | null; input_file_id: string | null }>`
      select id, status, batch_id, input_file_id from batch_api_jobs order by id`.execute(db.kysely);
    return r.rows.map((j) => ({ ...j, id: Number(j.id) }));
  });
}

test('SIGKILL after the upload and after the create, then a rerun: no batch created twice, no text billed twice', async () => {
  const outputs: string[] = [];
  // 1. Killed right after the first upload, before its file id is recorded.
  const a = await runCli(args, { env: env({ EMBCTL_FAILPOINT: 'batch-api.uploaded' }) });
  outputs.push(a.stdout, a.stderr);
  assert.equal(a.signal, 'SIGKILL', a.stderr.slice(-2000));
  let j = await jobs();
  assert.ok(j.length >= 1);
  assert.equal(j[0]!.status, 'preparing');
  assert.equal(server.stats.batch.filesUploaded, 1);
  assert.equal(server.stats.batch.batchesCreated, 0);

  // 2. The rerun uploads job 1 again (an orphan file bills nothing) and is killed after creating its batch, before recording it.
  const b = await runCli(args, { env: env({ EMBCTL_FAILPOINT: 'batch-api.created' }) });
  outputs.push(b.stdout, b.stderr);
  assert.equal(b.signal, 'SIGKILL', b.stderr.slice(-2000));
  j = await jobs();
  assert.equal(j[0]!.status, 'creating');
  assert.equal(j[0]!.batch_id, null, 'the batch id was never recorded');
  assert.equal(server.stats.batch.batchesCreated, 1);

  // `status` shows the version's batches, the unrecorded one included.
  const st = await runCli(['status'], { env: env() });
  assert.equal(st.code, 0, st.stderr);
  assert.match(st.stdout, /batch-api\s+crash: \d+ batches \(.*creating/);

  // 3. The next run finds that batch instead of creating another, submits the rest, and is killed after its second create.
  const c = await runCli(args, { env: env({ EMBCTL_FAILPOINT: 'batch-api.created:2' }) });
  outputs.push(c.stdout, c.stderr);
  assert.equal(c.signal, 'SIGKILL', c.stderr.slice(-2000));
  j = await jobs();
  assert.equal(j[0]!.batch_id, server.batches.list()[0]!.id, 'job 1 adopted the batch the killed run created');
  assert.equal(server.stats.batch.batchesCreated, 3);

  // 4. The rerun with --wait picks everything up, the batches run, and it ends fully covered.
  const stepper = setInterval(() => server.batches.advance(), 20);
  let d;
  try {
    d = await runCli([...args, '--wait', '--poll-seconds', '0.02'], { env: env() });
  } finally {
    clearInterval(stepper);
  }
  outputs.push(d.stdout, d.stderr);
  assert.equal(d.code, 0, d.stderr.slice(-2000));
  assert.match(d.stdout, /fully covered · state ready/);
  j = await jobs();
  assert.equal(server.stats.batch.batchesCreated, j.length, 'one batch per job, none created twice');
  assert.ok(j.every((x) => x.status === 'collected'));
  await withDb(async (db) => {
    const v = await requireVersion(db.kysely, 'crash');
    assert.equal(v.state, 'ready');
    const r = await sql<{ n: number; texts: number }>`
      select count(*) as n, count(distinct c.content_sha256) as texts from document_chunks c
      join ${sql.raw(partitionTable(v.id))} e on e.chunk_id = c.id`.execute(db.kysely);
    assert.equal(Number(r.rows[0]!.n), DOCS);
    const texts = await sql<{ content: string }>`select distinct content from document_chunks`.execute(db.kysely);
    for (const { content } of texts.rows) {
      assert.equal(server.stats.batch.submittedTexts.get(content), 1, 'each text submitted once');
      assert.equal(server.stats.batch.billedTexts.get(content), 1, 'each text billed once');
    }
  });
  assert.deepEqual(server.textsBilledTwice(), []);
  for (const o of outputs) assert.ok(!o.includes(KEY), 'no run printed the API key');
});

test('SIGKILL after recording `creating` and inside a collection transaction, then reruns: one batch per job, no text billed twice', async () => {
  server.reset();
  await withDb((db) =>
    registerVersion(
      db,
      { key: 'crash2', encoder: 'openai:mock-crash2', settings: { baseURL: server.url } },
      { logger, actor: 'tester', openaiApiKey: KEY, env: {} },
    ),
  );
  const args2 = args.map((a) => (a === 'crash' ? 'crash2' : a));
  const jobs2 = async () =>
    withDb(async (db) => {
      const v = await requireVersion(db.kysely, 'crash2');
      const r = await sql<{ id: number; status: string; batch_id: string | null; written: number }>`
        select j.id, j.status, j.batch_id,
               (select count(*) from batch_api_items i where i.job_id = j.id and i.written) as written
        from batch_api_jobs j where j.embedding_version_id = ${v.id} order by j.id`.execute(db.kysely);
      return r.rows.map((j) => ({ ...j, id: Number(j.id), written: Number(j.written) }));
    });
  const rows = async () =>
    withDb(async (db) => {
      const v = await requireVersion(db.kysely, 'crash2');
      const r = await sql<{ n: number }>`select count(*) as n from ${sql.raw(partitionTable(v.id))}`.execute(db.kysely);
      return Number(r.rows[0]!.n);
    });
  const outputs: string[] = [];

  // 1. Killed after job 1 is recorded `creating`, before batches.create: no batch exists.
  const a = await runCli(args2, { env: env({ EMBCTL_FAILPOINT: 'batch-api.creating' }) });
  outputs.push(a.stdout, a.stderr);
  assert.equal(a.signal, 'SIGKILL', a.stderr.slice(-2000));
  let j = await jobs2();
  assert.equal(j[0]!.status, 'creating');
  assert.equal(j[0]!.batch_id, null);
  assert.equal(server.stats.batch.batchesCreated, 0, 'killed before the create');

  // 2. The rerun looks for job 1's batch, finds none, creates it once, and submits the rest.
  const b = await runCli(args2, { env: env() });
  outputs.push(b.stdout, b.stderr);
  assert.equal(b.code, 0, b.stderr.slice(-2000));
  j = await jobs2();
  assert.ok(j.length >= 2, `${j.length} jobs`);
  assert.ok(
    j.every((x) => x.batch_id !== null),
    'every job has its batch',
  );
  assert.equal(server.stats.batch.batchesCreated, j.length, 'one batch per job');
  assert.equal(new Set(j.map((x) => x.batch_id)).size, j.length);

  // 3. The batches complete; the collecting run is killed inside its second write transaction (job 2's).
  server.batches.advanceAll();
  const c = await runCli(args2, { env: env({ EMBCTL_FAILPOINT: 'batch-api.write:2' }) });
  outputs.push(c.stdout, c.stderr);
  assert.equal(c.signal, 'SIGKILL', c.stderr.slice(-2000));
  j = await jobs2();
  assert.equal(j[0]!.status, 'collected', 'job 1 was written and collected before the kill');
  assert.ok(j[0]!.written > 0);
  assert.equal(j[1]!.status, 'completed', 'job 2 is still to collect');
  assert.equal(j[1]!.written, 0, 'the killed transaction wrote nothing');
  const before = await rows();
  assert.ok(before > 0 && before < DOCS, `${before} rows after the kill`);

  // 4. The rerun collects the rest: every chunk covered, each text submitted and billed once.
  const d = await runCli([...args2, '--wait', '--poll-seconds', '0.02'], { env: env() });
  outputs.push(d.stdout, d.stderr);
  assert.equal(d.code, 0, d.stderr.slice(-2000));
  assert.match(d.stdout, /fully covered · state ready/);
  j = await jobs2();
  assert.ok(j.every((x) => x.status === 'collected'));
  assert.equal(server.stats.batch.batchesCreated, j.length, 'batches created == jobs');
  assert.equal(await rows(), DOCS, 'every chunk covered');
  await withDb(async (db) => {
    const texts = await sql<{ content: string }>`select distinct content from document_chunks`.execute(db.kysely);
    for (const { content } of texts.rows) {
      assert.equal(server.stats.batch.submittedTexts.get(content), 1, 'each text submitted once');
      assert.equal(server.stats.batch.billedTexts.get(content), 1, 'each text billed once');
    }
  });
  assert.deepEqual(server.textsBilledTwice(), []);
  for (const o of outputs) assert.ok(!o.includes(KEY), 'no run printed the API key');
});

test('CLI: --dry-run prices the batches; a non-OpenAI encoder is refused with the way out', async () => {
  const dry = await runCli(['backfill', 'lexical', '--batch-api', '--dry-run'], { env: env() });
  assert.equal(dry.code, 2, dry.stdout + dry.stderr);
  assert.match(dry.stderr, /--batch-api needs an openai: encoder, and version lexical uses hash.*without --batch-api/);
  await withDb(async (db) => {
    await registerVersion(
      db,
      { key: 'priced', encoder: 'openai:mock-priced', settings: { baseURL: server.url } },
      {
        logger,
        actor: 'tester',
        openaiApiKey: KEY,
        env: {},
      },
    );
  });
  const p = await runCli(['backfill', 'priced', '--batch-api', '--dry-run', '--price-per-mtok', '0.02', '--json'], {
    env: env(),
  });
  assert.equal(p.code, 0, p.stderr);
  const plan = JSON.parse(p.stdout);
  assert.equal(plan.texts, DOCS);
  assert.ok(plan.tokens > 0);
  assert.equal(plan.batchCostUsd * 2, plan.onlineCostUsd);
  assert.equal(plan.files, 1);
});
