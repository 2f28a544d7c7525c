import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { hostname } from 'node:os';
import { BACKEND, freshTarget, type TestDbTarget, withTargetDb } from './support/db.js';
import { spawnCli, targetEnv, waitForOutput, type SpawnedCli } from './support/cli.js';
import { startOpenAIServer, type OpenAIServer } from './support/openai-server.js';
import { writeCorpus } from './support/corpus.js';
import type { Db } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { ingest } from '../src/ingest/index.js';
import { registerVersion } from '../src/versions/register.js';
import { annIndexState, partitionTable } from '../src/partitions/partition.js';
import { requireVersion } from '../src/versions/store.js';
import { silentLogger } from '../src/log/logger.js';

// Crash safety of the backfill, on both backends: the CLI runs as a child
// process (on PGlite it holds the embedded folder; the test opens the folder
// only between runs), is killed with SIGKILL at chosen moments, and a rerun
// must finish with every live chunk embedded exactly once. Moments an
// observer cannot hit reliably (inside a transaction) are reached with
// failpoints (src/util/failpoint.ts): the child SIGKILLs itself there.

const KEY = 'sk-test-SECRET-crash-4567';
const logger = silentLogger();
const DOCS = 1500;
const WORKERS = 2;
const BATCH = 20;

let target: TestDbTarget;
let server: OpenAIServer;
const outputs: string[] = [];

/** Open the database, do something, close it (on PGlite the folder is free again). */
const withDb = <T>(fn: (db: Db) => Promise<T>): Promise<T> => withTargetDb(target, fn);

before(async () => {
  target = await freshTarget();
  server = await startOpenAIServer({ apiKey: KEY, modelDimensions: { 'mock-48': 48, 'mock-40': 40 }, latencyMs: 25 });
  await withDb(async (db) => {
    await migrate(db, { logger });
    await ingest(db, [writeCorpus(DOCS, { seed: 3 })], {}, { logger });
    for (const key of ['crash', 'graceful']) {
      await registerVersion(
        db,
        { key, encoder: key === 'crash' ? 'openai:mock-48' : 'openai:mock-40', settings: { baseURL: server.url } },
        { logger, actor: 'tester', openaiApiKey: KEY, env: {} },
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
  OPENAI_BASE_URL: server.url,
  EMBCTL_LOG_LEVEL: 'debug',
  ...extra,
});
const args = (key: string) => [
  'backfill',
  key,
  '--workers',
  String(WORKERS),
  '--batch-size',
  String(BATCH),
  '--lease-seconds',
  '60',
];

function run(key: string, extra: NodeJS.ProcessEnv = {}): SpawnedCli {
  const r = spawnCli(args(key), { env: env(extra) });
  r.exited.then(() => outputs.push(r.out.stdout, r.out.stderr));
  return r;
}

async function rows(db: Db, versionId: number): Promise<number> {
  return Number(
    (await sql<{ n: number }>`select count(*) as n from ${sql.raw(partitionTable(versionId))}`.execute(db.kysely))
      .rows[0]!.n,
  );
}

/** Texts of the batches a (dead) process still held: what it may have paid for without committing. */
/** The text counts of the batches a process still holds, one per batch. */
async function heldBatchSizes(db: Db, versionId: number, pid: number): Promise<number[]> {
  const r = await sql<{ texts: number }>`
    select texts from backfill_batches
    where embedding_version_id = ${versionId} and status = 'pending' and locked_by like ${`${hostname()}:${pid}:%`}`.execute(
    db.kysely,
  );
  return r.rows.map((x) => Number(x.texts));
}

async function heldTexts(db: Db, versionId: number, pid: number): Promise<number> {
  const r = await sql<{ n: number | null }>`
    select sum(texts) as n from backfill_batches
    where embedding_version_id = ${versionId} and status = 'pending' and locked_by like ${`${hostname()}:${pid}:%`}`.execute(
    db.kysely,
  );
  return Number(r.rows[0]?.n ?? 0);
}

/** The partition holds exactly the chunks of the batches marked done: a batch is written and marked in one transaction. */
async function assertOnlyDoneBatchesWritten(db: Db, versionId: number, when: string): Promise<void> {
  const r = await sql<{ expected: number; written: number; stray: number }>`
    select
      (select count(*) from document_chunks c where c.retired_at is null and c.content_sha256 in (
         select i.content_sha256 from backfill_items i join backfill_batches b on b.id = i.batch_id
         where i.embedding_version_id = ${versionId} and b.status = 'done')) as expected,
      (select count(*) from ${sql.raw(partitionTable(versionId))}) as written,
      (select count(*) from ${sql.raw(partitionTable(versionId))} e join document_chunks c on c.id = e.chunk_id
       where c.content_sha256 not in (select i.content_sha256 from backfill_items i join backfill_batches b on b.id = i.batch_id
         where i.embedding_version_id = ${versionId} and b.status = 'done')) as stray`.execute(db.kysely);
  const row = r.rows[0]!;
  assert.equal(Number(row.stray), 0, `${when}: vectors of batches that are not done were committed`);
  assert.equal(Number(row.written), Number(row.expected), `${when}: a done batch lacks vectors`);
}

async function expectKilled(r: SpawnedCli, what: string): Promise<void> {
  const { code, signal } = await r.exited;
  assert.equal(signal, 'SIGKILL', `${what}: the run was not killed (exit ${code}): ${r.out.stderr.slice(-2000)}`);
}

describe(`backfill crash safety (${BACKEND})`, () => {
  test('killed with SIGKILL while planning, after some batches, between a write and its commit, and during the index build: a rerun embeds every chunk exactly once, re-sending at most what the killed processes held', async () => {
    const v = await withDb((db) => requireVersion(db.kysely, 'crash'));
    server.reset();
    let bound = 0;
    let heldAtWrite = 0;

    // 1. During planning: the plan's transaction dies with the process.
    const planning = run('crash', { EMBCTL_FAILPOINT: 'backfill.plan' });
    await expectKilled(planning, 'kill during planning');
    await withDb(async (db) => {
      const batches = await db.kysely
        .selectFrom('backfill_batches')
        .select('id')
        .where('embedding_version_id', '=', v.id)
        .execute();
      assert.equal(batches.length, 0, 'a plan that was not committed left batches behind');
      assert.equal(await rows(db, v.id), 0);
      bound += await heldTexts(db, v.id, planning.child.pid!);
    });
    assert.equal(server.stats.requests, 0, 'nothing is sent before the plan is committed');

    // 2. From outside, after a few batches were written.
    const midway = run('crash');
    await waitForOutput(midway, /"msg":"batch written"/g, 5);
    midway.child.kill('SIGKILL');
    await expectKilled(midway, 'kill after 5 batches');
    await withDb(async (db) => {
      const n = await rows(db, v.id);
      assert.ok(n >= 5 * BATCH && n < DOCS, `partial progress expected, got ${n}`);
      await assertOnlyDoneBatchesWritten(db, v.id, 'after the kill midway');
      bound += await heldTexts(db, v.id, midway.child.pid!);
    });

    // 3. Between the COPY of a batch and its commit.
    const beforeCommit = run('crash', { EMBCTL_FAILPOINT: 'backfill.write:3' });
    await expectKilled(beforeCommit, 'kill between write and commit');
    await withDb(async (db) => {
      await assertOnlyDoneBatchesWritten(db, v.id, 'after the kill between write and commit');
      // The process held the batch it was writing (its texts were sent) and
      // possibly others its second worker had claimed but not sent yet: the
      // rerun must send at least one held batch again, the smallest at least.
      const held = await heldBatchSizes(db, v.id, beforeCommit.child.pid!);
      assert.ok(held.length >= 1, 'the batch being written is still held by the dead process');
      heldAtWrite = Math.min(...held);
      bound += held.reduce((a, b) => a + b, 0);
    });

    // 4. During the index build, after every batch is written.
    const indexing = run('crash', { EMBCTL_FAILPOINT: 'index.build' });
    await expectKilled(indexing, 'kill during the index build');
    await withDb(async (db) => {
      assert.equal(await rows(db, v.id), DOCS, 'the load finished before the build');
      assert.notEqual((await requireVersion(db.kysely, 'crash')).state, 'ready');
      bound += await heldTexts(db, v.id, indexing.child.pid!);
    });

    // The rerun finishes.
    const final = run('crash');
    const { code } = await final.exited;
    assert.equal(code, 0, final.out.stderr.slice(-2000));
    await withDb(async (db) => {
      assert.equal(await rows(db, v.id), DOCS);
      const orphans = await sql<{ n: number }>`
        select count(*) as n from document_chunks c where c.retired_at is null
        and not exists (select 1 from ${sql.raw(partitionTable(v.id))} e where e.chunk_id = c.id)`.execute(db.kysely);
      assert.equal(Number(orphans.rows[0]!.n), 0);
      const after = await requireVersion(db.kysely, 'crash');
      assert.equal(after.state, 'ready');
      assert.equal(await annIndexState(db.kysely, v.id), 'valid');
    });
    // Every distinct text reached the encoder; extra sends are bounded by what the dead processes held.
    const calls = [...server.stats.textCalls.values()];
    assert.equal(calls.length, DOCS, 'every text was sent');
    const extra = calls.reduce((n, c) => n + c - 1, 0);
    assert.ok(extra <= bound, `${extra} extra sends, but the killed processes held only ${bound} texts`);
    assert.ok(
      extra >= heldAtWrite,
      `the batch killed before its commit (at least ${heldAtWrite} texts) must have been sent again, but only ${extra} texts were`,
    );
  });

  test('SIGTERM stops cleanly: in-flight batches finish, leases are released, exit 130; a rerun completes with nothing paid twice', async () => {
    const v = await withDb((db) => requireVersion(db.kysely, 'graceful'));
    server.reset();
    const r = run('graceful');
    await waitForOutput(r, /"msg":"batch written"/g, 3);
    r.child.kill('SIGTERM');
    const { code } = await r.exited;
    assert.equal(code, 130, r.out.stderr.slice(-2000));
    assert.match(r.out.stderr, /finishing in-flight batches/);
    assert.match(r.out.stdout, /not complete: stopped by a signal/);
    await withDb(async (db) => {
      const held = await sql<{ n: number }>`
        select count(*) as n from backfill_batches where embedding_version_id = ${v.id}
        and locked_by like ${hostname() + ':' + r.child.pid + ':%'} and status = 'pending'`.execute(db.kysely);
      assert.equal(Number(held.rows[0]!.n), 0, 'leases left behind');
      const runs = await db.kysely
        .selectFrom('backfill_runs')
        .select(['status'])
        .where('embedding_version_id', '=', v.id)
        .execute();
      assert.deepEqual(
        runs.map((x) => x.status),
        ['stopped'],
      );
      const partial = await rows(db, v.id);
      assert.ok(partial > 0 && partial < DOCS, `partial ${partial}`);
      await assertOnlyDoneBatchesWritten(db, v.id, 'after SIGTERM');
    });

    const rerun = run('graceful');
    assert.equal((await rerun.exited).code, 0, rerun.out.stderr.slice(-2000));
    await withDb(async (db) => assert.equal(await rows(db, v.id), DOCS));
    const twice = [...server.stats.billedTextCalls.values()].filter((n) => n > 1).length;
    assert.equal(twice, 0, 'a graceful stop must not make anything be paid twice');
  });

  test('no run printed the API key, even at debug level', () => {
    assert.ok(outputs.length >= 12, `outputs of every run were kept (${outputs.length})`);
    for (const text of outputs) {
      assert.ok(!text.includes(KEY), 'the API key leaked into CLI output');
      assert.ok(!text.includes('SECRET-crash'), 'part of the API key leaked into CLI output');
    }
  });
});
