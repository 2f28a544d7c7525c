import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { BACKEND, freshTarget, type TestDbTarget } from './support/db.js';
import { runCli, spawnCli, targetEnv } from './support/cli.js';
import { writeCorpus } from './support/corpus.js';
import { openDatabase, type Db } from '../src/db/open.js';
import { migrate, schemaVersion } from '../src/migrate/runner.js';
import { readMigrations } from '../src/migrate/files.js';
import { silentLogger } from '../src/log/logger.js';

// `migrate` and `ingest` killed with SIGKILL inside their transactions (the
// failpoints of src/util/failpoint.ts), on both backends: the database opens
// again after the process died (on PGlite: the embedded folder), holds
// nothing half-done, and the same command run again finishes the job.

const logger = silentLogger();

async function withDb<T>(t: TestDbTarget, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDatabase({ databaseUrl: t.url, homeDir: t.homeDir, logger });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

async function killedAt(t: TestDbTarget, args: string[], failpoint: string): Promise<void> {
  const r = spawnCli(args, { env: { ...targetEnv(t), EMBCTL_FAILPOINT: failpoint } });
  const { code, signal } = await r.exited;
  assert.equal(
    signal,
    'SIGKILL',
    `${args[0]} at ${failpoint} was not killed (exit ${code}): ${r.out.stderr.slice(-1500)}`,
  );
}

const tableExists = async (db: Db, name: string) =>
  Boolean((await sql<{ t: string | null }>`select to_regclass(${name})::text as t`.execute(db.kysely)).rows[0]?.t);

describe(`crash safety of migrate and ingest (${BACKEND})`, () => {
  test("migrate killed inside each migration's transaction: nothing of it remains; a rerun applies each migration once", async () => {
    const t = await freshTarget();
    try {
      const files = readMigrations();
      assert.ok(files.length >= 2);
      await killedAt(t, ['migrate'], 'migrate.apply:1');
      await withDb(t, async (db) => {
        assert.equal(await schemaVersion(db), 0);
        assert.equal(await tableExists(db, 'document_chunks'), false, 'the first migration was half-applied');
      });
      await killedAt(t, ['migrate'], 'migrate.apply:2'); // the first commits, the second dies
      await withDb(t, async (db) => {
        assert.equal(await schemaVersion(db), 1);
        assert.equal(await tableExists(db, 'document_chunks'), true);
      });
      const r = await runCli(['migrate', '--json'], { env: targetEnv(t) });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        JSON.parse(r.stdout).applied.map((m: { id: number }) => m.id),
        files.slice(1).map((f) => f.id),
      );
      await withDb(t, async (db) => {
        const rows = await db.kysely.selectFrom('embctl_migrations').select('id').orderBy('id').execute();
        assert.deepEqual(
          rows.map((x) => x.id),
          files.map((f) => f.id),
        );
      });
    } finally {
      await t.destroy();
    }
  });

  test('ingest killed inside a batch: the folder opens, no document is half-written; a rerun ingests exactly the corpus', async () => {
    const t = await freshTarget();
    try {
      await withDb(t, (db) => migrate(db, { logger }));
      const corpus = writeCorpus(2500, { seed: 9 }); // three batches of up to 1,000 documents
      await killedAt(t, ['ingest', corpus], 'ingest.batch:2');
      const afterKill = await withDb(t, async (db) => {
        const r = await sql<{ docs: number; chunks: number; dup: number }>`
          select count(distinct document_id) as docs, count(*) as chunks,
                 count(*) - count(distinct semantic_key) as dup from document_chunks`.execute(db.kysely);
        return r.rows[0]!;
      });
      // Each corpus document is one chunk: what is there is whole, and the killed batch is not there.
      assert.equal(Number(afterKill.dup), 0);
      assert.equal(Number(afterKill.chunks), Number(afterKill.docs));
      assert.ok(Number(afterKill.docs) < 2500, `the killed batch was committed (${afterKill.docs} documents)`);

      const r = await runCli(['ingest', corpus, '--json'], { env: targetEnv(t) });
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as { documents: number; chunks: { new: number; unchanged: number } };
      assert.equal(report.documents, 2500);
      assert.equal(report.chunks.new + report.chunks.unchanged, 2500);
      assert.equal(
        report.chunks.unchanged,
        Number(afterKill.chunks),
        'what the killed run committed is kept, not written twice',
      );
      await withDb(t, async (db) => {
        const r2 = await sql<{ docs: number; chunks: number }>`
          select count(distinct document_id) as docs, count(*) as chunks from document_chunks where retired_at is null`.execute(
          db.kysely,
        );
        assert.deepEqual([Number(r2.rows[0]!.docs), Number(r2.rows[0]!.chunks)], [2500, 2500]);
      });
      const again = await runCli(['ingest', corpus, '--json'], { env: targetEnv(t) });
      assert.equal(JSON.parse(again.stdout).chunks.new, 0);
    } finally {
      await t.destroy();
    }
  });
});
