import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { hostname } from 'node:os';
import { freshTarget, SERVER_ONLY, type TestDbTarget } from './support/db.js';
import { spawnCli } from './support/cli.js';
import { startOpenAIServer, type OpenAIServer } from './support/openai-server.js';
import { writeCorpus } from './support/corpus.js';
import { openDatabase, type Db } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { ingest } from '../src/ingest/index.js';
import { registerVersion } from '../src/versions/register.js';
import { annIndexState, partitionTable } from '../src/versions/partition.js';
import { requireVersion } from '../src/versions/store.js';
import { silentLogger } from '../src/log/logger.js';

const KEY = 'sk-test-SECRET-crash-4567';
const logger = silentLogger();
const DOCS = 1500;
const WORKERS = 2;
const BATCH = 20;

let target: TestDbTarget;
let db: Db;
let server: OpenAIServer;

before(async () => {
  if (SERVER_ONLY) return;
  target = await freshTarget();
  db = await openDatabase({ databaseUrl: target.url, homeDir: target.homeDir, logger });
  await migrate(db, { logger });
  server = await startOpenAIServer({ apiKey: KEY, modelDimensions: { 'mock-48': 48, 'mock-40': 40 }, latencyMs: 25 });
  await ingest(db, [writeCorpus(DOCS, { seed: 3 })], {}, { logger });
  for (const key of ['crash', 'graceful']) {
    await registerVersion(db, { key, encoder: key === 'crash' ? 'openai:mock-48' : 'openai:mock-40', settings: { baseURL: server.url } },
      { logger, actor: 'tester', openaiApiKey: KEY, env: {} });
  }
});
after(async () => {
  await db?.close();
  await server?.close();
  await target?.destroy();
});

const env = () => ({ DATABASE_URL: target.url, OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url, EMBCTL_HOME: target.homeDir });
const args = (key: string) => ['backfill', key, '--workers', String(WORKERS), '--batch-size', String(BATCH), '--lease-seconds', '60'];

async function doneBatches(versionId: number): Promise<number> {
  const r = await sql<{ n: number }>`select count(*) as n from backfill_batches where embedding_version_id = ${versionId} and status = 'done'`.execute(db.kysely);
  return Number(r.rows[0]!.n);
}
async function rows(versionId: number): Promise<number> {
  return Number((await sql<{ n: number }>`select count(*) as n from ${sql.raw(partitionTable(versionId))}`.execute(db.kysely)).rows[0]!.n);
}
async function waitFor(cond: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('backfill crash safety (server)', () => {
  test('killed with SIGKILL at several points and restarted: every chunk exactly once, re-sends bounded by in-flight batches', { skip: SERVER_ONLY, timeout: 240_000 }, async () => {
    const v = await requireVersion(db.kysely, 'crash');
    server.reset();
    const killPoints = [1, 8, 20, 40];
    for (const point of killPoints) {
      const run = spawnCli(args('crash'), { env: env() });
      await waitFor(async () => (await doneBatches(v.id)) >= point || run.child.exitCode !== null);
      run.child.kill('SIGKILL');
      const { signal } = await run.exited;
      assert.equal(signal, 'SIGKILL', `the run finished before the kill at ${point}: ${run.out.stderr}`);
    }
    const before = await rows(v.id);
    assert.ok(before > 0 && before < DOCS, `partial progress expected, got ${before}`);
    const final = spawnCli(args('crash'), { env: env() });
    const { code } = await final.exited;
    assert.equal(code, 0, final.out.stderr);
    // Exactly once: every live chunk has one vector (the primary key forbids two).
    assert.equal(await rows(v.id), DOCS);
    const orphans = await sql<{ n: number }>`
      select count(*) as n from document_chunks c where c.retired_at is null
      and not exists (select 1 from ${sql.raw(partitionTable(v.id))} e where e.chunk_id = c.id)`.execute(db.kysely);
    assert.equal(Number(orphans.rows[0]!.n), 0);
    // Re-sent texts: at most the batches in flight at each kill (each worker: one embedding, one writing).
    const resent = [...server.stats.textCalls.values()].filter((n) => n > 1).length;
    const bound = killPoints.length * WORKERS * 2 * BATCH;
    assert.ok(resent <= bound, `${resent} texts re-sent, bound ${bound}`);
    const after = await requireVersion(db.kysely, 'crash');
    assert.equal(after.state, 'ready');
    assert.equal(await annIndexState(db.kysely, v.id), 'valid');
  });

  test('SIGTERM stops cleanly: in-flight batches finish, leases are released, exit 130; a rerun completes with nothing paid twice', { skip: SERVER_ONLY, timeout: 120_000 }, async () => {
    const v = await requireVersion(db.kysely, 'graceful');
    server.reset();
    const run = spawnCli(args('graceful'), { env: env() });
    await waitFor(async () => (await doneBatches(v.id)) >= 3);
    run.child.kill('SIGTERM');
    const { code } = await run.exited;
    assert.equal(code, 130, run.out.stderr);
    assert.match(run.out.stderr, /finishing in-flight batches/);
    assert.match(run.out.stdout, /not complete: stopped by a signal/);
    const held = await sql<{ n: number }>`
      select count(*) as n from backfill_batches where embedding_version_id = ${v.id}
      and locked_by like ${hostname() + ':' + run.child.pid + ':%'} and status = 'pending'`.execute(db.kysely);
    assert.equal(Number(held.rows[0]!.n), 0, 'leases left behind');
    const runs = await db.kysely.selectFrom('backfill_runs').select(['status']).where('embedding_version_id', '=', v.id).execute();
    assert.deepEqual(runs.map((r) => r.status), ['stopped']);
    const partial = await rows(v.id);
    assert.ok(partial > 0 && partial < DOCS);

    const rerun = spawnCli(args('graceful'), { env: env() });
    assert.equal((await rerun.exited).code, 0, rerun.out.stderr);
    assert.equal(await rows(v.id), DOCS);
    const twice = [...server.stats.billedTextCalls.values()].filter((n) => n > 1).length;
    assert.equal(twice, 0, 'a graceful stop must not make anything be paid twice');
  });
});
